"""Review queues per level (初审 / 审核 / 审发), the review page with the difference from the previous
revision and the content-gate findings in place, and the decision itself."""

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlmodel import Session, func, select

from pipeline.api.deps import RowId
from pipeline.api.deps import SessionDep, SettingsDep
from pipeline.config import Settings
from pipeline.console.diffs import revision_diff
from pipeline.console.gate_marks import marked_fields, revision_findings
from pipeline.console.pages import PREFIX, ConsoleRoute, redirect, render
from pipeline.console.sessions import CheckedForm, ConsoleUser, flash
from pipeline.errors import CKError, GateRefused, Invalid
from pipeline.items.public import item_public
from pipeline.items.service import get_item, get_revision, list_items
from pipeline.review import workflow
from pipeline.review.rules import level_names, role_may_act
from pipeline.store.models import Item, User
from schemas.api import ReviewCreate

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _counts(session: Session, total: int) -> dict[int, int]:
    rows = session.exec(select(Item.review_level, func.count()).where(Item.status == "in_review")
                        .group_by(Item.review_level)).all()
    found = dict(rows)
    return {level: found.get(level, 0) for level in range(1, total + 1)}


def _first_level_for(user: User, total: int) -> int:
    return next((lvl for lvl in range(1, total + 1) if role_may_act(user.role, lvl, total)), 1)


@router.get("/review")
def queue(request: Request, session: SessionDep, settings: SettingsDep, user: ConsoleUser, level: int | None = None):
    total = settings.review_levels
    level = level if level and 1 <= level <= total else _first_level_for(user, total)
    items = [item_public(session, i, settings)
             for i in list_items(session, status="in_review", level=level, limit=200)]
    return render(request, "review_queue.html", level=level, names=level_names(total), counts=_counts(session, total),
                  items=items, may_act=role_may_act(user.role, level, total))


def _review_page(request: Request, session: Session, settings: Settings, user: User, item: Item,
                 error: CKError | None = None, comment: str = ""):
    revision = get_revision(session, item)
    previous = get_revision(session, item, revision.number - 1) if revision.number > 1 else None
    findings = error.findings if isinstance(error, GateRefused) else revision_findings(revision, settings)
    total = settings.review_levels
    public = item_public(session, item, settings)
    return render(request, "review.html", status_code=error.status if error else 200, item=public,
                  revision=revision, previous=previous, diff=revision_diff(previous, revision) if previous else None,
                  marked=marked_fields(revision, findings), findings=findings, error=error, comment=comment,
                  may_act=item.status == "in_review" and role_may_act(user.role, item.review_level, total))


@router.get("/review/{item_id}")
def review_page(request: Request, item_id: RowId, session: SessionDep, settings: SettingsDep, user: ConsoleUser):
    return _review_page(request, session, settings, user, get_item(session, item_id))


@router.post("/review/{item_id}")
def decide(request: Request, item_id: RowId, session: SessionDep, settings: SettingsDep, user: ConsoleUser,
           form: CheckedForm):
    comment = str(form.get("comment") or "").strip()
    item = get_item(session, item_id)
    level = item.review_level
    try:
        try:
            decision = ReviewCreate(decision=str(form.get("decision") or ""), comment=comment)
        except ValidationError:
            raise Invalid("请选择通过或退回，意见不超过 2000 字") from None
        workflow.review(session, user, item_id, decision, settings)
        session.commit()
    except CKError as exc:
        session.rollback()
        return _review_page(request, session, settings, user, get_item(session, item_id), exc, comment)
    names = level_names(settings.review_levels)
    verb = "通过" if decision.decision == "approve" else "退回"
    flash(request, f"{names[level - 1]}已{verb}：{get_revision(session, get_item(session, item_id)).title}")
    return redirect(f"{PREFIX}/review?level={level}")
