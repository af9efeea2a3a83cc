"""The router given the same item event twice — what a relay killed after its send but before it
marked the outbox row sends again — plans nothing new: no second publish, and never a correction
of the revision the targets already hold. (Found by the relay-crash fault test.)"""

from sqlmodel import select

from pipeline.distribution import ledger
from pipeline.distribution.routing import plan_deliveries
from pipeline.items.service import create_item
from pipeline.org.users import get_user
from pipeline.registry.targets import add_target
from pipeline.review import workflow
from pipeline.store.db import session_scope
from pipeline.store.models import Delivery, OutboxEntry
from schemas.api import ItemCreate, ReviewCreate
from schemas.delivery import Receipt
from schemas.events import ItemEvent
from tests.factories import policy_body, seed_newsroom


def signed_off_event(settings) -> ItemEvent:
    seed_newsroom()
    with session_scope() as session:
        add_target(session, "cq-portal", "portal", "cq", "重庆市人民政府网", {"columns": {"xxgk": "政府信息公开"}})
        add_target(session, "cq-weibo", "weibo", "cq", "重庆发布微博", {})
        item = create_item(session, get_user(session, "editor"), ItemCreate(**policy_body()), settings)
        workflow.submit(session, get_user(session, "editor"), item.id, settings)
    for who in ("reviewer1", "reviewer2", "signer"):
        with session_scope() as session:
            workflow.review(session, get_user(session, who), item.id, ReviewCreate(decision="approve"), settings)
    with session_scope() as session:
        return ItemEvent.from_bytes(session.exec(select(OutboxEntry)).one().payload.encode())


def route(event: ItemEvent):
    with session_scope() as session:
        return plan_deliveries(session, event)


def test_the_same_publish_event_twice_plans_nothing_new(settings):
    event = signed_off_event(settings)
    first = route(event)
    assert sorted((m.target, m.operation.value) for m in first) == [("cq-portal", "publish"), ("cq-weibo", "publish")]

    again_while_pending = route(event)  # not yet delivered: the same rows are sent again, none created
    assert sorted(m.delivery_id for m in again_while_pending) == sorted(m.delivery_id for m in first)

    with session_scope() as session:
        for row in session.exec(select(Delivery)):
            assert ledger.claim(session, row, "pending")
            ledger.succeed(session, row, Receipt(external_id=f"x{row.id}", url="http://127.0.0.1/x"))
    assert route(event) == []
    with session_scope() as session:
        rows = list(session.exec(select(Delivery)))
    assert len(rows) == 2 and {r.operation for r in rows} == {"publish"} and {r.state for r in rows} == {"succeeded"}
