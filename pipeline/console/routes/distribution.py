"""The distribution board (items × targets, polled live), one delivery's ledger story, and the failures
list with replay for one delivery or a selection. Replay and takedown reuse the distribution
functions, which write the audit log."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlmodel import select

from pipeline.api.deps import MAX_ROW_ID, RowId
from pipeline.api.deps import SessionDep, SettingsDep
from pipeline.clock import NEWSROOM_TZ
from pipeline.console.board import delivery_story, load_board
from pipeline.console.labels import CHANNEL, FAILED_STATES, STATE
from pipeline.console.pages import PREFIX, ConsoleRoute, redirect, render
from pipeline.console.sessions import CheckedForm, ConsoleAdmin, ConsoleUser, flash
from pipeline.distribution.replay import ReplayFilter, replay
from pipeline.errors import Invalid, NotFound
from pipeline.items.service import get_revision
from pipeline.store.models import ChannelTarget, Delivery, Item

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
FAILURES_SHOWN = 500


@router.get("/board")
def board_page(request: Request, session: SessionDep, user: ConsoleUser, fragment: bool = False):
    board = load_board(session)
    return render(request, "board_table.html" if fragment else "board.html", board=board)


@router.get("/board.json")
def board_json(session: SessionDep, user: ConsoleUser):
    return load_board(session).as_json()


@router.get("/deliveries/{delivery_id}")
def delivery(request: Request, delivery_id: RowId, session: SessionDep, user: ConsoleUser, fragment: bool = False):
    row = session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(f"没有编号为 {delivery_id} 的分发记录")
    return render(request, "delivery.html", story=delivery_story(session, row), fragment=fragment,
                  replayable=row.state in FAILED_STATES)


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"时间“{value}”无效") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=NEWSROOM_TZ)


@router.get("/failures")
def failures(request: Request, session: SessionDep, user: ConsoleUser, channel: str | None = None,
             target: str | None = None, since: str | None = None,
             state: Annotated[list[str] | None, Query()] = None):
    states = [s for s in (state or FAILED_STATES) if s in STATE]
    query = select(Delivery).where(Delivery.state.in_(states))
    if channel in CHANNEL:
        query = query.where(Delivery.channel == channel)
    if target:
        query = query.where(Delivery.target_code == target)
    moment = _since(since)
    if moment:
        query = query.where(Delivery.updated_at >= moment)
    rows = list(session.exec(query.order_by(Delivery.updated_at.desc(), Delivery.id.desc()).limit(FAILURES_SHOWN)))
    titles = {i: get_revision(session, session.get(Item, i)).title for i in {d.item_id for d in rows}}
    targets = session.exec(select(ChannelTarget).order_by(ChannelTarget.channel, ChannelTarget.code)).all()
    return render(request, "failures.html", rows=rows, titles=titles, targets=targets, channel=channel,
                  target=target, since=since or "", states=states)


@router.post("/failures/replay")
def replay_selected(request: Request, session: SessionDep, settings: SettingsDep, user: ConsoleAdmin,
                    form: CheckedForm, only: int | None = None):
    """Replay exactly the chosen deliveries (`only`: just that one, whatever else is ticked), by
    their ids; `replay` audits itself."""
    ids = [only] if only is not None else [int(v) for v in form.getlist("delivery") if str(v).isdigit()]
    ids = [i for i in ids if 1 <= i <= MAX_ROW_ID]
    if not ids:
        raise Invalid("请先勾选要重放的分发记录")
    summary = replay(session, user, ReplayFilter(states=list(FAILED_STATES), delivery_ids=ids), settings)
    replayed, skipped = len(summary.deliveries), summary.skipped_withdrawn
    session.commit()
    message = f"已重放 {replayed} 条分发"
    if skipped:
        message += f"，{skipped} 条因稿件已撤稿而跳过"
    if replayed + skipped < len(set(ids)):
        message += f"，{len(set(ids)) - replayed - skipped} 条已不在失败状态"
    flash(request, message)
    back = str(form.get("back") or "")
    return redirect(back if back.startswith(PREFIX + "/") and not back.startswith("//") else f"{PREFIX}/failures")
