"""Lifecycle changes in the store: applications (开设), status changes (变更、关停、注销) and 备案
records. Every change is approved and audited: an admin's change is approved by that admin; anyone
else in the owning unit may request one, which waits for an admin's decision."""

from datetime import date

from sqlmodel import Session, select

from pipeline.audit import record
from pipeline.clock import aware, now
from pipeline.config import Settings
from pipeline.errors import Conflict, Forbidden, Invalid, NotFound
from pipeline.governance.credentials import secret_names
from pipeline.governance.lifecycle import Status, activation_problems, check_transition
from pipeline.org.roles import Role
from pipeline.org.units import get_unit
from pipeline.registry.targets import add_target, get_target, public_config
from pipeline.store.models import ChannelTarget, RegistryChange, Unit, User

FILING_FIELDS = ("filing_no", "filing_approver", "filing_date", "responsible_person")


def _may_act_for(actor: User, row_unit_id: int) -> None:
    if actor.role != Role.admin and actor.unit_id != row_unit_id:
        raise Forbidden("only an admin or someone of the owning unit may ask for this")


def _filing(values: dict) -> dict:
    """The 备案 fields given (as JSON-ready values)."""
    out = {k: values.get(k) for k in FILING_FIELDS if values.get(k) is not None}
    if isinstance(out.get("filing_date"), date):
        out["filing_date"] = out["filing_date"].isoformat()
    return out


def _apply_filing(row: ChannelTarget, filing: dict) -> None:
    for key, value in filing.items():
        setattr(row, key, date.fromisoformat(value) if key == "filing_date" and isinstance(value, str) else value)


def apply_for(session: Session, actor: User, code: str, channel: str, unit_code: str, name: str, config: dict,
              filing: dict, is_default: bool = True) -> ChannelTarget:
    """开设: a new target in state `applied` (the account limit is checked now)."""
    _may_act_for(actor, get_unit(session, unit_code).id)
    row = add_target(session, code, channel, unit_code, name, config, is_default, status=Status.applied)
    _apply_filing(row, _filing(filing))
    row.status_changed_at = now()
    session.add(row)
    record(session, actor, "target.apply", code=row.code, channel=row.channel, unit=unit_code)
    session.flush()
    return row


def request_change(session: Session, actor: User, code: str, to: str, reason: str, filing: dict) -> RegistryChange:
    """Ask for `code` to become `to`. An admin's request is approved at once (by that admin)."""
    row = get_target(session, code)
    _may_act_for(actor, row.unit_id)
    check_transition(row.status, to)
    filing = _filing(filing)
    _check_ready(row, to, filing)
    if session.exec(select(RegistryChange).where(RegistryChange.target_id == row.id,
                                                 RegistryChange.decision == "pending")).first():
        raise Conflict(f"target {code} already has a change waiting for a decision")
    change = RegistryChange(target_id=row.id, from_status=row.status, to_status=to, reason=reason, filing=filing,
                            requested_by=actor.id)
    session.add(change)
    session.flush()
    record(session, actor, "target.status_requested", code=code, change=change.id, to=to, reason=reason)
    if actor.role == Role.admin:
        _approve(session, change, row, actor)
    session.flush()
    return change


def _check_ready(row: ChannelTarget, to: str, filing: dict) -> None:
    if to != Status.active:
        return
    merged = {k: filing.get(k, getattr(row, k)) for k in FILING_FIELDS}
    if isinstance(merged["filing_date"], str):
        merged["filing_date"] = date.fromisoformat(merged["filing_date"])
    missing = activation_problems(**merged)
    if missing:
        raise Invalid(f"target {row.code} cannot become active without {', '.join(missing)}")


def _approve(session: Session, change: RegistryChange, row: ChannelTarget, approver: User) -> None:
    check_transition(row.status, change.to_status)  # the target may have moved since the request
    _check_ready(row, change.to_status, change.filing)
    _apply_filing(row, change.filing)
    previous = row.status
    row.status = change.to_status
    row.status_changed_at = now()
    change.decision, change.decided_by, change.decided_at = "approved", approver.id, now()
    session.add_all([row, change])
    record(session, approver, "target.status", code=row.code, change=change.id, from_status=previous,
           to_status=row.status, reason=change.reason, requested_by=change.requested_by, approved_by=approver.id,
           filing=change.filing)


def decide(session: Session, admin: User, change_id: int, approve: bool, comment: str = "") -> RegistryChange:
    if admin.role != Role.admin:
        raise Forbidden("only an admin decides on registry changes")
    change = session.get(RegistryChange, change_id)
    if change is None:
        raise NotFound(f"registry change {change_id} does not exist")
    if change.decision != "pending":
        raise Conflict(f"registry change {change_id} is already {change.decision}")
    if change.requested_by == admin.id:
        raise Forbidden("nobody approves their own request")
    row = session.get(ChannelTarget, change.target_id)
    change.comment = comment
    if approve:
        _approve(session, change, row, admin)
    else:
        change.decision, change.decided_by, change.decided_at = "rejected", admin.id, now()
        session.add(change)
        record(session, admin, "target.status_rejected", code=row.code, change=change.id, comment=comment)
    session.flush()
    return change


def set_filing(session: Session, admin: User, code: str, filing: dict) -> ChannelTarget:
    """Record or correct a target's 备案 and responsible person (admin)."""
    if admin.role != Role.admin:
        raise Forbidden("only an admin records a 备案")
    row = get_target(session, code)
    filing = _filing(filing)
    if not filing:
        raise Invalid("give at least one of " + ", ".join(FILING_FIELDS))
    _apply_filing(row, filing)
    session.add(row)
    record(session, admin, "target.filing", code=code, **filing)
    session.flush()
    return row


def changes(session: Session, decision: str | None = None, code: str | None = None) -> list[RegistryChange]:
    query = select(RegistryChange)
    if decision:
        query = query.where(RegistryChange.decision == decision)
    if code:
        query = query.where(RegistryChange.target_id == get_target(session, code).id)
    return list(session.exec(query.order_by(RegistryChange.id)))


def change_public(session: Session, change: RegistryChange) -> dict:
    name = lambda uid: session.get(User, uid).name if uid else None  # noqa: E731
    return dict(id=change.id, target=session.get(ChannelTarget, change.target_id).code,
                from_status=change.from_status, to_status=change.to_status, reason=change.reason,
                filing=change.filing, requested_by=name(change.requested_by), requested_at=aware(change.requested_at),
                decision=change.decision, decided_by=name(change.decided_by), decided_at=aware(change.decided_at),
                comment=change.comment)


def entry(session: Session, row: ChannelTarget, settings: Settings) -> dict:
    """One registry entry as the API and CLI show it: never a credential's value."""
    pending = session.exec(select(RegistryChange.id).where(RegistryChange.target_id == row.id,
                                                           RegistryChange.decision == "pending"))
    return dict(code=row.code, channel=row.channel, unit=session.get(Unit, row.unit_id).code, name=row.name,
                status=row.status, status_changed_at=aware(row.status_changed_at), is_default=row.is_default,
                responsible_person=row.responsible_person, filing_no=row.filing_no,
                filing_approver=row.filing_approver, filing_date=row.filing_date,
                missing_for_active=activation_problems(row.responsible_person, row.filing_no, row.filing_approver,
                                                       row.filing_date),
                health=row.health, health_reason=row.health_reason, health_since=aware(row.health_since),
                credentials=secret_names(row, settings), config=public_config(row.config),
                pending_changes=list(pending))
