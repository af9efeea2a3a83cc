"""One delivery through `pipeline.distribution.execute.deliver`, without Kafka: the ledger's rules
against the real database, the real connectors and the emulators."""

import pytest
from sqlmodel import select

from connectors.sandbox.platforms import Sandbox
from pipeline.config import get_settings
from pipeline.distribution import ledger
from pipeline.distribution.channels import build_connectors, runtime_target
from pipeline.distribution.execute import deliver
from pipeline.items.service import create_item
from pipeline.org.users import get_user
from pipeline.registry.targets import add_target
from pipeline.review import workflow
from pipeline.store.db import session_scope
from pipeline.store.models import ChannelTarget, Delivery, DeliveryLog, ItemRevision
from schemas.api import ItemCreate, ReviewCreate
from schemas.delivery import DeliveryState as S
from schemas.delivery import Operation
from schemas.events import DeliverMessage
from schemas.item import ItemSnapshot
from tests.factories import policy_body, seed_newsroom


@pytest.fixture
def weibo_delivery(settings):
    seed_newsroom()
    with Sandbox(["cq"]) as sandbox:
        with session_scope() as session:
            add_target(session, "cq-weibo", "weibo", "cq", "重庆发布微博", sandbox.weibo_config("cq"))
            item = create_item(session, get_user(session, "editor"), ItemCreate(**policy_body()), settings)
            workflow.submit(session, get_user(session, "editor"), item.id, settings)
        for who in ("reviewer1", "reviewer2", "signer"):
            with session_scope() as session:
                workflow.review(session, get_user(session, who), item.id, ReviewCreate(decision="approve"), settings)
        with session_scope() as session:
            row, _ = ledger.ensure(session, item_id=item.id, revision=1, channel="weibo", target="cq-weibo",
                                   operation=Operation.publish, event_id="00000000-0000-4000-8000-000000000001")
        msg = DeliverMessage(delivery_id=row.id, item_id=item.id, revision=1, channel="weibo", target="cq-weibo",
                             operation="publish", event_id="00000000-0000-4000-8000-000000000001")
        yield sandbox, msg


def run(msg):
    settings = get_settings()
    connector = build_connectors(settings)["weibo"]
    return deliver(msg, connector, lambda row, item: runtime_target(row, item, settings), settings)


def state(delivery_id: int) -> Delivery:
    with session_scope() as session:
        return session.get(Delivery, delivery_id)


def test_a_delivery_found_in_flight_is_verified_not_posted_again(weibo_delivery):
    sandbox, msg = weibo_delivery
    settings = get_settings()
    # a worker posted, then died before recording anything: the platform has it, the ledger says in_flight
    with session_scope() as session:
        revision = session.exec(select(ItemRevision).where(ItemRevision.item_id == msg.item_id)).one()
        target_row = session.exec(select(ChannelTarget)).one()
        d = session.get(Delivery, msg.delivery_id)
        assert ledger.claim(session, d, S.pending)
    item = ItemSnapshot.model_validate(revision.snapshot)
    build_connectors(settings)["weibo"].publish(item, runtime_target(target_row, item, settings))
    outcome = run(msg)
    assert outcome.state == S.succeeded
    assert len(sandbox.posts()["weibo"]) == 1
    with session_scope() as session:
        path = [(e.from_state, e.to_state, e.detail.get("phase")) for e in session.exec(
            select(DeliveryLog).where(DeliveryLog.delivery_id == msg.delivery_id))]
    assert path[-2:] == [("in_flight", "unknown", None), ("unknown", "succeeded", "verify")]


def test_a_succeeded_delivery_is_never_posted_again(weibo_delivery):
    sandbox, msg = weibo_delivery
    assert run(msg).state == S.succeeded
    again = run(msg)
    assert again.skipped == "already succeeded" and len(sandbox.posts()["weibo"]) == 1


def test_retryable_errors_back_off_then_succeed_and_permanent_ones_stop(weibo_delivery):
    sandbox, msg = weibo_delivery
    sandbox.faults("weibo", error_rate=1.0, codes=[10001], next_n=1, only_paths=["statuses/share.json"])
    first = run(msg)
    assert first.state == S.retrying and first.retry_at is not None and first.dead_letter is None
    assert "10001" in state(msg.delivery_id).last_error
    assert run(msg).state == S.succeeded and state(msg.delivery_id).attempts == 2


def test_a_revoked_token_fails_for_good_with_a_reconnect_message(weibo_delivery):
    sandbox, msg = weibo_delivery
    sandbox.faults("weibo", expire_tokens=True)
    outcome = run(msg)
    assert outcome.state == S.failed and outcome.dead_letter
    row = state(msg.delivery_id)
    assert row.error_class == "permanent" and "reconnect" in row.last_error.lower()
    assert sandbox.posts()["weibo"] == []


def test_one_broken_delivery_in_a_batch_does_not_stop_the_others(weibo_delivery):
    """A batch runs its ledger work in one transaction; a row that cannot be loaded (here: its
    revision is not in the store) gets its own error and the rest of the batch is still delivered."""
    from pipeline.distribution.execute import deliver_many

    sandbox, msg = weibo_delivery
    settings = get_settings()
    with session_scope() as session:
        broken, _ = ledger.ensure(session, item_id=msg.item_id, revision=99, channel="weibo", target="cq-weibo",
                                  operation=Operation.publish, event_id="00000000-0000-4000-8000-000000000002")
    bad = msg.model_copy(update={"delivery_id": broken.id, "revision": 99})
    connector = build_connectors(settings)["weibo"]
    results = deliver_many([bad, msg], connector, lambda row, item: runtime_target(row, item, settings), settings)
    assert isinstance(results[0], Exception)
    assert results[1].state == S.succeeded
    assert state(broken.id).state == S.pending  # untouched: tried again later
    assert state(msg.delivery_id).state == S.succeeded
    assert len(sandbox.posts()["weibo"]) == 1


def test_replay_by_delivery_id_replays_only_that_row(weibo_delivery):
    """Two failed rows of one item and target: replaying one by its id leaves the other alone
    (the console's "replay one" and `ck replay --delivery`)."""
    from pipeline.distribution.replay import ReplayFilter, replay

    _sandbox, msg = weibo_delivery
    settings = get_settings()
    with session_scope() as session:
        other, _ = ledger.ensure(session, item_id=msg.item_id, revision=1, channel="weibo", target="cq-weibo",
                                 operation=Operation.takedown, event_id="00000000-0000-4000-8000-000000000003")
        for row in (session.get(Delivery, msg.delivery_id), other):
            ledger.move(session, row, S.failed, detail={"reason": "test"})
        other_id = other.id
    with session_scope() as session:
        summary = replay(session, get_user(session, "admin"),
                         ReplayFilter(states=["failed"], delivery_ids=[msg.delivery_id]), settings)
    assert summary.deliveries == [msg.delivery_id]
    assert state(msg.delivery_id).state == S.pending and state(other_id).state == S.failed


def test_ensure_many_finds_existing_rows_and_inserts_only_the_new_ones(weibo_delivery):
    _sandbox, msg = weibo_delivery
    plan = {"cq-weibo": ("weibo", Operation.publish), "cq-portal": ("portal", Operation.publish)}
    with session_scope() as session:
        rows = ledger.ensure_many(session, item_id=msg.item_id, revision=1, event_id=msg.event_id, plan=plan)
        assert rows["cq-weibo"][0].id == msg.delivery_id and rows["cq-weibo"][1] is False
        assert rows["cq-portal"][1] is True and rows["cq-portal"][0].state == S.pending
        new_id = rows["cq-portal"][0].id
    with session_scope() as session:  # the same event again (a relay resend): nothing new
        again = ledger.ensure_many(session, item_id=msg.item_id, revision=1, event_id=msg.event_id, plan=plan)
        assert {code: (row.id, created) for code, (row, created) in again.items()} == {
            "cq-weibo": (msg.delivery_id, False), "cq-portal": (new_id, False)}
        assert session.exec(select(DeliveryLog).where(DeliveryLog.delivery_id == new_id)).all()[0].to_state == "pending"
