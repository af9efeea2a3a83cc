"""Governance: the registry's lifecycle and 备案, token health, freshness, deadlines, the quarterly
report, rescan findings with one-click takedown, and the emergency items waiting for review."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from sqlmodel import select

from pipeline.api.deps import AdminUser, CurrentUser, RowId, SessionDep, SettingsDep, row_id_filter
from pipeline.clock import NEWSROOM_TZ, aware, now
from pipeline.errors import Forbidden
from pipeline.governance import fastlane, monitor, quarterly, registry, rescan, token_health
from pipeline.items.public import item_public
from pipeline.items.service import get_item
from pipeline.org.roles import TAKEDOWN_ROLES, Role
from pipeline.org.units import get_unit
from pipeline.registry.targets import get_target, list_targets
from pipeline.store.models import ItemRevision, RescanFinding, User
from schemas.api import ItemPublic
from schemas.governance import (
    Decision,
    FindingPublic,
    FindingTakedown,
    FreshnessHistory,
    ItemDeadline,
    Obligation,
    Reconnect,
    RegistryChangePublic,
    RegistryEntry,
    RescanSummary,
    StatusChangeRequest,
    TargetApplication,
    TargetFreshness,
)
from schemas.governance import Filing as FilingBody

router = APIRouter(prefix="/governance", tags=["governance"])


def _signer(user: CurrentUser) -> User:
    if user.role not in TAKEDOWN_ROLES:
        raise HTTPException(403, "rescan findings are for signers and admins")
    return user


SignerUser = Annotated[User, Depends(_signer)]
Id = RowId


# ------------------------------------------------------------------------------------------ registry


@router.get("/registry", response_model=list[RegistryEntry])
def registry_index(session: SessionDep, settings: SettingsDep, _: CurrentUser, unit: str | None = None,
                   channel: str | None = None, status: str | None = None):
    unit_id = get_unit(session, unit).id if unit else None
    rows = [t for t in list_targets(session, channel, unit_id) if status is None or t.status == status]
    return [registry.entry(session, t, settings) for t in rows]


@router.get("/registry/{code}", response_model=RegistryEntry)
def registry_show(code: str, session: SessionDep, settings: SettingsDep, _: CurrentUser):
    return registry.entry(session, get_target(session, code), settings)


@router.post("/registry", status_code=201, response_model=RegistryEntry)
def registry_apply(body: TargetApplication, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    filing = body.model_dump(include={"filing_no", "filing_approver", "filing_date", "responsible_person"})
    row = registry.apply_for(session, user, body.code, body.channel, body.unit, body.name, body.config, filing,
                             body.is_default)
    session.commit()
    return registry.entry(session, row, settings)


@router.post("/registry/{code}/status", status_code=201, response_model=RegistryChangePublic)
def registry_status(code: str, body: StatusChangeRequest, session: SessionDep, user: CurrentUser):
    """An admin's change is approved at once; anyone else's waits for an admin."""
    change = registry.request_change(session, user, code, body.to, body.reason, body.model_dump(exclude={"to",
                                                                                                      "reason"}))
    session.commit()
    return registry.change_public(session, change)


@router.put("/registry/{code}/filing", response_model=RegistryEntry)
def registry_filing(code: str, body: FilingBody, session: SessionDep, settings: SettingsDep, user: AdminUser):
    row = registry.set_filing(session, user, code, body.model_dump())
    session.commit()
    return registry.entry(session, row, settings)


@router.get("/registry-changes", response_model=list[RegistryChangePublic])
def registry_changes(session: SessionDep, _: CurrentUser, decision: str | None = None, target: str | None = None):
    return [registry.change_public(session, c) for c in registry.changes(session, decision, target)]


@router.post("/registry-changes/{change_id}/approve", response_model=RegistryChangePublic)
def registry_approve(change_id: Id, body: Decision, session: SessionDep, user: AdminUser):
    change = registry.decide(session, user, change_id, True, body.comment)
    session.commit()
    return registry.change_public(session, change)


@router.post("/registry-changes/{change_id}/reject", response_model=RegistryChangePublic)
def registry_reject(change_id: Id, body: Decision, session: SessionDep, user: AdminUser):
    change = registry.decide(session, user, change_id, False, body.comment)
    session.commit()
    return registry.change_public(session, change)


@router.post("/registry/{code}/reconnect")
def registry_reconnect(code: str, body: Reconnect, session: SessionDep, settings: SettingsDep, user: AdminUser):
    """New credentials (sealed, never returned); the flag cleared; held deliveries replayed."""
    replayed = token_health.reconnect(session, user, get_target(session, code), body.credentials, settings)
    session.commit()
    return {"code": code, "health": "ok", "replayed": replayed}


@router.get("/health", response_model=list[RegistryEntry])
def accounts_needing_reconnect(session: SessionDep, settings: SettingsDep, _: CurrentUser):
    return [registry.entry(session, t, settings) for t in token_health.needing_reconnect(session)]


@router.post("/health/check")
def check_tokens(session: SessionDep, settings: SettingsDep, _: AdminUser):
    """Ask every active WeChat and Weibo account whether its credentials work; flag or clear it."""
    session.commit()  # end this request's transaction: the check writes in its own, between platform calls
    return {code: {"health": state, "detail": detail}
            for code, (state, detail) in token_health.check_tokens(settings).items()}


# ----------------------------------------------------------------------------------------- freshness


@router.get("/freshness", response_model=list[TargetFreshness])
def freshness(session: SessionDep, settings: SettingsDep, _: CurrentUser, unit: str | None = None,
              at: datetime | None = Query(None, description="assess as of this time (default now)"),
              only_failing: bool = False):
    when = (at if at.tzinfo else at.replace(tzinfo=NEWSROOM_TZ)) if at else now()  # naive: newsroom time
    rows = monitor.freshness_report(session, settings, when, unit)
    if only_failing:
        rows = [r for r in rows if r["state"] in ("sleeping", "zombie") or any(c["stale"] for c in r["columns"])]
    return rows


@router.get("/freshness/history", response_model=FreshnessHistory)
def freshness_history(session: SessionDep, settings: SettingsDep, _: CurrentUser, unit: str,
                      weeks: int = Query(13, ge=1, le=104)):
    return monitor.freshness_history(session, settings, unit, weeks, now())


# ----------------------------------------------------------------------------------------- deadlines


@router.get("/deadlines", response_model=list[ItemDeadline])
def deadlines(session: SessionDep, _: CurrentUser, unit: str | None = None,
              state: Literal["met", "late", "open", "overdue"] | None = None):
    rows = monitor.item_deadlines(session, now(), unit)
    return [r for r in rows if state is None or r["state"] == state]


@router.get("/items/{item_id}/deadline", response_model=ItemDeadline | None)
def item_deadline(item_id: Id, session: SessionDep, _: CurrentUser):
    get_item(session, item_id)
    rows = monitor.item_deadlines(session, now(), item_id=item_id)
    return rows[0] if rows else None


@router.put("/items/{item_id}/deadline", response_model=ItemDeadline)
def set_item_deadline(item_id: Id, body: Obligation, session: SessionDep, user: CurrentUser):
    item = get_item(session, item_id)
    if user.role != Role.admin and user.unit_id != item.unit_id:
        raise Forbidden("only the item's unit or an admin sets its deadline")
    monitor.set_obligation(session, user, item_id, body.rule, body.starts_at, body.note)
    session.commit()
    return monitor.item_deadlines(session, now(), item_id=item_id)[0]


@router.get("/reports/quarterly")
def quarterly_report(session: SessionDep, settings: SettingsDep, _: CurrentUser, unit: str,
                     quarter: str = Query(..., examples=["2026Q3"]), format: Literal["html", "csv"] = "html"):
    report = quarterly.build(session, settings, unit, quarterly.Quarter.parse(quarter), now())
    name = f"{unit}-{report['quarter']}.{format}"
    if format == "csv":
        return Response(quarterly.render_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return Response(quarterly.render_html(report), media_type="text/html; charset=utf-8")


# ------------------------------------------------------------------------------------------- rescans


def _finding_public(session, f: RescanFinding) -> FindingPublic:
    title = session.exec(select(ItemRevision.title).where(ItemRevision.item_id == f.item_id,
                                                          ItemRevision.number == f.revision)).one()
    return FindingPublic(id=f.id, item=f.item_id, title=title, revision=f.revision, rule=f.rule, field=f.field,
                         start=f.start, end=f.end, text=f.text, message=f.message, found_at=aware(f.found_at),
                         status=f.status, resolved_by=session.get(User, f.resolved_by).name if f.resolved_by else None,
                         resolved_at=aware(f.resolved_at), note=f.note)


@router.get("/findings", response_model=list[FindingPublic])
def findings(session: SessionDep, _: SignerUser, status: str | None = "open",
             item: int | None = row_id_filter()):
    return [_finding_public(session, f) for f in rescan.findings(session, status or None, item)]


@router.post("/findings/{finding_id}/takedown", response_model=ItemPublic)
def finding_takedown(finding_id: Id, body: FindingTakedown, session: SessionDep, settings: SettingsDep,
                     user: SignerUser):
    """One click: the item is withdrawn from every channel (撤稿) and its open findings closed."""
    item = rescan.take_down_for(session, user, finding_id, body.reason, settings, now())
    session.commit()
    return item_public(session, item, settings)


@router.post("/findings/{finding_id}/dismiss", response_model=FindingPublic)
def finding_dismiss(finding_id: Id, body: Decision, session: SessionDep, user: SignerUser):
    row = rescan.dismiss(session, user, finding_id, body.comment, now())
    session.commit()
    return _finding_public(session, row)


@router.post("/rescan", response_model=RescanSummary)
def rescan_now(session: SessionDep, settings: SettingsDep, user: AdminUser):
    result = rescan.rescan(session, settings, now(), reason=f"requested by {user.name}")
    session.commit()
    return RescanSummary(**result.__dict__)


# ----------------------------------------------------------------------------------------- fast lane


@router.get("/alerts")
def alerts(session: SessionDep, user: CurrentUser):
    """Emergency items waiting for a review decision, oldest first (the console alerts reviewers)."""
    unit_ids = None if user.role == Role.admin else [user.unit_id]
    return {"emergency_in_review": fastlane.awaiting_review(session, unit_ids),
            "accounts_needing_reconnect": [t.code for t in token_health.needing_reconnect(session)]}

