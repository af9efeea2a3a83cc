"""Continuous scanning: every published item is scanned again by the content gates when the
sensitive-word dictionary (or the ad phrases, or the link allowlist) changes, and at least daily.

A hit not seen before becomes an open finding for signers, with a one-click takedown
(`take_down_for`); a finding whose hit is gone from a later scan (the word was removed from the
dictionary) is closed as `cleared`. Runs from the router's timer (`due`) and from `ck rescan`.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from pipeline.audit import record
from pipeline.clock import aware, now
from pipeline.config import Settings
from pipeline.distribution.takedown import take_down
from pipeline.errors import Conflict, Forbidden, NotFound
from pipeline.gates import DEFAULT_AD_PHRASES_FILE, DEFAULT_WORDS_FILE, GateConfig, check_item
from pipeline.org.roles import TAKEDOWN_ROLES
from pipeline.store.db import session_scope
from pipeline.store.models import GovernanceState, Item, ItemRevision, RescanFinding, User

STATE_KEY = "rescan"
OPEN, DISMISSED, TAKEN_DOWN, CLEARED = "open", "dismissed", "taken_down", "cleared"


def dictionary_fingerprint(settings: Settings) -> str:
    """Changes whenever anything the gates compare against changes."""
    digest = hashlib.sha256()
    for path in (settings.sensitive_words_file or DEFAULT_WORDS_FILE, DEFAULT_AD_PHRASES_FILE):
        digest.update(Path(path).read_bytes())
        digest.update(b"\0")
    digest.update(",".join(settings.allowed_link_domains).encode("utf-8"))
    return digest.hexdigest()[:16]


def is_due(last: dict, fingerprint: str, interval: timedelta, now: datetime) -> str | None:
    """Why a rescan is due now (pure), or None."""
    if not last.get("at"):
        return "first scan"
    if last.get("dictionary") != fingerprint:
        return "the dictionary changed"
    if now - aware(datetime.fromisoformat(last["at"])) >= interval:
        return "daily scan"
    return None


@dataclass
class Result:
    scanned: int
    new_findings: int
    cleared: int
    dictionary: str
    reason: str


def _key(rule: str, field: str, start: int, text: str) -> tuple:
    return rule, field, start, text


def rescan(session: Session, settings: Settings, now: datetime, reason: str = "on demand") -> Result:
    """Scan every published item's published revision; record new hits, clear vanished ones."""
    config = GateConfig.from_settings(settings)
    fingerprint = dictionary_fingerprint(settings)
    scanned = new = cleared = 0
    items = session.exec(select(Item).where(Item.status == "published", Item.published_revision.is_not(None))
                         .order_by(Item.id))
    for item in items:
        revision = session.exec(select(ItemRevision).where(ItemRevision.item_id == item.id,
                                                           ItemRevision.number == item.published_revision)).one()
        found = {_key(f.rule, f.field, f.start, f.text[:500]): f
                 for f in check_item(revision.title, revision.summary, revision.body_html, config)}
        known = {_key(r.rule, r.field, r.start, r.text): r for r in session.exec(
            select(RescanFinding).where(RescanFinding.item_id == item.id, RescanFinding.revision == revision.number))}
        for key, finding in found.items():
            if key not in known:
                session.add(RescanFinding(item_id=item.id, revision=revision.number, rule=finding.rule,
                                          field=finding.field, start=finding.start, end=finding.end,
                                          text=finding.text[:500], message=finding.message, found_at=now))
                new += 1
        for key, row in known.items():
            if key not in found and row.status == OPEN:
                row.status, row.resolved_at, row.note = CLEARED, now, f"no longer found ({reason})"
                session.add(row)
                cleared += 1
        scanned += 1
    state = session.get(GovernanceState, STATE_KEY) or GovernanceState(key=STATE_KEY)
    state.value = {"at": now.isoformat(), "dictionary": fingerprint, "scanned": scanned, "new": new,
                   "reason": reason}
    state.updated_at = now
    session.add(state)
    record(session, None, "governance.rescan", reason=reason, scanned=scanned, new_findings=new, cleared=cleared,
           dictionary=fingerprint)
    session.flush()
    return Result(scanned, new, cleared, fingerprint, reason)


def due(session: Session, settings: Settings, now: datetime) -> Result | None:
    """Rescan if the dictionary changed or a day has passed (the router's timer calls this)."""
    state = session.exec(select(GovernanceState).where(GovernanceState.key == STATE_KEY).with_for_update()).first()
    reason = is_due(state.value if state else {}, dictionary_fingerprint(settings),
                    timedelta(hours=settings.rescan_interval_hours), now)
    return rescan(session, settings, now, reason) if reason else None


def run_if_due(settings: Settings) -> Result | None:
    """The router's timer: one transaction, so two routers never scan at once."""
    with session_scope() as session:
        return due(session, settings, now())


def findings(session: Session, status: str | None = OPEN, item_id: int | None = None) -> list[RescanFinding]:
    query = select(RescanFinding)
    if status:
        query = query.where(RescanFinding.status == status)
    if item_id is not None:
        query = query.where(RescanFinding.item_id == item_id)
    return list(session.exec(query.order_by(RescanFinding.id)))


def _open_finding(session: Session, actor: User, finding_id: int) -> RescanFinding:
    if actor.role not in TAKEDOWN_ROLES:
        raise Forbidden("only a signer or an admin acts on rescan findings")
    row = session.get(RescanFinding, finding_id)
    if row is None:
        raise NotFound(f"finding {finding_id} does not exist")
    if row.status != OPEN:
        raise Conflict(f"finding {finding_id} is already {row.status}")
    return row


def take_down_for(session: Session, actor: User, finding_id: int, reason: str | None, settings: Settings,
                  now: datetime) -> Item:
    """One click: withdraw the item everywhere (撤稿) and close its open findings."""
    row = _open_finding(session, actor, finding_id)
    reason = reason or f"rescan: {row.rule} “{row.text}” in {row.field}"
    item = take_down(session, actor, row.item_id, reason, settings)
    for other in findings(session, OPEN, row.item_id):
        other.status, other.resolved_by, other.resolved_at, other.note = TAKEN_DOWN, actor.id, now, reason
        session.add(other)
    session.flush()
    return item


def dismiss(session: Session, actor: User, finding_id: int, comment: str, now: datetime) -> RescanFinding:
    """A signer judged the hit harmless in context (recorded with who and why)."""
    row = _open_finding(session, actor, finding_id)
    row.status, row.resolved_by, row.resolved_at, row.note = DISMISSED, actor.id, now, comment
    session.add(row)
    record(session, actor, "finding.dismiss", item_id=row.item_id, revision=row.revision, finding=row.id,
           comment=comment)
    session.flush()
    return row
