"""The registry's word on every delivery, without Kafka: the routing and delivery functions against
the real database and the Weibo emulator. A target that is not active is refused with a reason; a
revoked token turns the account "needs reconnect" once, later deliveries fail at once without
posting, and reconnecting (or a token that works again) brings them back."""

import httpx
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from connectors.sandbox.platforms import Sandbox
from pipeline.cli.main import app as ck_app
from pipeline.config import get_settings
from pipeline.distribution.channels import build_connectors, runtime_target
from pipeline.distribution.execute import deliver
from pipeline.distribution.routing import plan_deliveries
from pipeline.governance.registry import request_change
from pipeline.items.service import create_item
from pipeline.org.users import get_user
from pipeline.registry.targets import add_target
from pipeline.review import workflow
from pipeline.store.db import session_scope
from pipeline.store.models import AuditEntry, ChannelTarget, Delivery, OutboxEntry
from schemas.api import ItemCreate, ReviewCreate
from schemas.events import ItemEvent
from tests.factories import policy_body, seed_newsroom


@pytest.fixture
def weibo(settings):
    room = seed_newsroom()
    with Sandbox(["cq"]) as sandbox:
        with session_scope() as session:
            add_target(session, "cq-weibo", "weibo", "cq", "重庆发布微博", sandbox.weibo_config("cq"))
        yield room, sandbox


def sign_off(n: int, **overrides) -> int:
    settings = get_settings()
    with session_scope() as session:
        data = ItemCreate(**policy_body(title=f"重庆市人民政府办公厅关于第{n}批惠民政策的通知", **overrides))
        item = create_item(session, get_user(session, "editor"), data, settings)
        workflow.submit(session, get_user(session, "editor"), item.id, settings)
    for who in ("reviewer1", "reviewer2", "signer"):
        with session_scope() as session:
            workflow.review(session, get_user(session, who), item.id, ReviewCreate(decision="approve"), settings)
    return item.id


def route(item_id: int):
    """What the router does with the item's latest event: ledger rows and deliver messages."""
    with session_scope() as session:
        entry = session.exec(select(OutboxEntry).where(OutboxEntry.item_id == item_id)
                             .order_by(OutboxEntry.id.desc())).first()
        return plan_deliveries(session, ItemEvent.from_bytes(entry.payload.encode()))


def run(msg):
    settings = get_settings()
    return deliver(msg, build_connectors(settings)["weibo"], lambda row, item: runtime_target(row, item, settings),
                   settings)


def calls(sandbox: Sandbox, path: str) -> int:
    return len(httpx.get(f"{sandbox.weibo.url}/_sandbox/requests", params={"path": path}, timeout=10).json())


def target() -> ChannelTarget:
    with session_scope() as session:
        return session.exec(select(ChannelTarget).where(ChannelTarget.code == "cq-weibo")).one()


def test_a_suspended_account_is_refused_with_a_reason_and_left_out_of_default_targets(weibo):
    room, sandbox = weibo
    with session_scope() as session:
        request_change(session, get_user(session, "admin"), "cq-weibo", "suspended", "整改期间暂停发布", {})
    assert route(sign_off(1)) == []  # the unit's default targets: only active ones
    [msg] = route(sign_off(2, targets=["cq-weibo"]))  # named by the item: refused, and the ledger says why
    outcome = run(msg)
    assert outcome.state == "failed"
    with session_scope() as session:
        row = session.get(Delivery, msg.delivery_id)
    assert row.error_class == "permanent"
    assert "target cq-weibo is suspended: publish refused" in row.last_error and "reactivate" in row.last_error
    assert sandbox.posts()["weibo"] == []


def test_a_revoked_token_flags_the_account_once_and_later_deliveries_fail_without_posting(weibo, api):
    room, sandbox = weibo
    [first] = route(sign_off(1))
    [second] = route(sign_off(2))
    sandbox.faults("weibo", expire_tokens=True)

    assert run(first).state == "failed"
    flagged = target()
    assert flagged.health == "needs_reconnect" and "21327" in flagged.health_reason
    shares = calls(sandbox, "statuses/share.json")
    assert run(second).state == "failed"
    with session_scope() as session:
        held = session.get(Delivery, second.delivery_id)
        flags = [e for e in session.exec(select(AuditEntry)) if e.action == "target.needs_reconnect"]
    assert "account cq-weibo needs reconnect" in held.last_error and "nothing was posted" in held.last_error
    assert calls(sandbox, "statuses/share.json") == shares  # no second attempt to post
    assert calls(sandbox, "oauth2/get_token_info") == 1  # one cheap question instead
    assert len(flags) == 1 and sandbox.posts()["weibo"] == []

    health = api.get("/api/v1/governance/health", headers=room.auth("editor")).json()
    assert [(h["code"], h["health"]) for h in health] == [("cq-weibo", "needs_reconnect")]
    assert api.get("/api/v1/governance/alerts", headers=room.auth("editor")).json()[
        "accounts_needing_reconnect"] == ["cq-weibo"]

    sandbox.faults("weibo")  # the account is authorised again
    token = sandbox.weibo_config("cq")["access_token"]
    assert api.post("/api/v1/governance/registry/cq-weibo/reconnect", headers=room.auth("editor"),
                    json={"credentials": {"access_token": token}}).status_code == 403
    r = api.post("/api/v1/governance/registry/cq-weibo/reconnect", headers=room.auth("admin"),
                 json={"credentials": {"access_token": token}})
    assert r.status_code == 200 and sorted(r.json()["replayed"]) == sorted([first.delivery_id, second.delivery_id])
    assert token not in r.text and target().health == "ok"
    for item_id in (first.item_id, second.item_id):  # the replay events take the usual path
        [msg] = route(item_id)
        assert run(msg).state == "succeeded"
    assert len(sandbox.posts()["weibo"]) == 2


def test_checking_every_token_flags_the_revoked_account_and_clears_it_once_it_works(weibo, api):
    room, sandbox = weibo
    sandbox.faults("weibo", expire_tokens=True)
    result = CliRunner().invoke(ck_app, ["targets", "check-tokens"])
    assert result.exit_code == 0 and "1 accounts checked, 1 need reconnect" in result.output
    assert target().health == "needs_reconnect" and "token check" in target().health_reason
    assert calls(sandbox, "statuses/share.json") == 0
    sandbox.faults("weibo")
    assert api.post("/api/v1/governance/health/check", headers=room.auth("editor")).status_code == 403
    r = api.post("/api/v1/governance/health/check", headers=room.auth("admin"))
    assert r.json()["cq-weibo"]["health"] == "ok" and target().health == "ok"


def test_a_token_that_works_again_clears_the_flag_on_the_next_delivery(weibo):
    room, sandbox = weibo
    [first] = route(sign_off(1))
    [second] = route(sign_off(2))
    sandbox.faults("weibo", expire_tokens=True)
    assert run(first).state == "failed" and target().health == "needs_reconnect"
    sandbox.faults("weibo")
    assert run(second).state == "succeeded"
    assert target().health == "ok"
    with session_scope() as session:
        back = [e.detail for e in session.exec(select(AuditEntry)) if e.action == "target.reconnected"]
    assert [d["via"] for d in back] == ["probe"]
