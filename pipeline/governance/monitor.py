"""Freshness and deadlines read from the store: the ledger says when each target last published,
the items say when they were due. The rules themselves are in `freshness` and `deadlines`."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from pipeline.audit import record
from pipeline.clock import NEWSROOM_TZ, aware
from pipeline.config import Settings
from pipeline.errors import Invalid
from pipeline.governance import deadlines, freshness
from pipeline.governance.lifecycle import Status
from pipeline.items.service import get_item
from pipeline.org.units import get_unit
from pipeline.store.models import ChannelTarget, Delivery, Item, ItemObligation, ItemRevision, Unit, User
from schemas.delivery import Channel, DeliveryState, Operation

PUBLISHED_OPS = (Operation.publish.value, Operation.correct.value)


def _targets(session: Session, unit_code: str | None) -> list[ChannelTarget]:
    query = select(ChannelTarget).order_by(ChannelTarget.unit_id, ChannelTarget.id)
    if unit_code:
        query = query.where(ChannelTarget.unit_id == get_unit(session, unit_code).id)
    return list(session.exec(query))


def publications(session: Session, codes: list[str], until: datetime | None = None
                 ) -> dict[str, list[tuple[datetime, int, int]]]:
    """target → [(when, item, revision)] of its successful publications and corrections."""
    if not codes:
        return {}
    query = select(Delivery.target_code, Delivery.succeeded_at, Delivery.item_id, Delivery.revision).where(
        Delivery.target_code.in_(codes), Delivery.state == DeliveryState.succeeded.value,
        Delivery.operation.in_(PUBLISHED_OPS), Delivery.succeeded_at.is_not(None))
    if until is not None:
        query = query.where(Delivery.succeeded_at <= until)
    out: dict[str, list] = defaultdict(list)
    for code, at, item_id, revision in session.exec(query):
        out[code].append((aware(at), item_id, revision))
    return out


def _column_times(session: Session, row: ChannelTarget, published: list[tuple[datetime, int, int]]
                  ) -> dict[str, list[datetime]]:
    """The site's columns → when each got a new or corrected item (as the portal files them)."""
    site_columns = (row.config or {}).get("columns") or {}
    default = (row.config or {}).get("default_column")
    times: dict[str, list[datetime]] = {c: [] for c in site_columns}
    keys = {(item_id, revision) for _, item_id, revision in published}
    columns_of: dict[tuple[int, int], list[str]] = {}
    for item_id, number, cols in session.exec(select(ItemRevision.item_id, ItemRevision.number,
                                                     ItemRevision.columns).where(
            ItemRevision.item_id.in_({k[0] for k in keys}))):
        columns_of[(item_id, number)] = cols or []
    for at, item_id, revision in published:
        filed = [c for c in columns_of.get((item_id, revision), []) if c in site_columns] or ([default] if default
                                                                                              else [])
        for column in filed:
            times.setdefault(column, []).append(at)
    return times


def freshness_report(session: Session, settings: Settings, now: datetime, unit_code: str | None = None) -> list[dict]:
    """Every site, column and account with its last publication and whether it keeps its rule."""
    rows = _targets(session, unit_code)
    published = publications(session, [r.code for r in rows], until=now)
    units = {u.id: u.code for u in session.exec(select(Unit))}
    report = []
    for row in rows:
        rule = freshness.rule_for(row.channel, settings)
        times = [t for t, _, _ in published.get(row.code, [])]
        result = (freshness.assess(times, rule, now) if row.status == Status.active
                  else freshness.not_assessed(rule, times, now))
        columns = []
        if row.channel == Channel.portal:
            names = (row.config or {}).get("columns") or {}
            for column, column_times in _column_times(session, row, published.get(row.code, [])).items():
                period = freshness.column_period(row.config or {}, column, settings.freshness_column_days)
                last = max((t for t in column_times if t <= now), default=None)
                columns.append(dict(column=column, name=names.get(column, column), last=last, period_days=period,
                                    stale=row.status == Status.active and freshness.column_is_stale(last, period, now)))
        report.append(dict(code=row.code, channel=row.channel, unit=units[row.unit_id], name=row.name,
                           status=row.status, rule=rule.describe(), state=result.state.value, label=result.label,
                           meets=result.meets, last=result.last, count=result.count,
                           window_start=result.window_start, columns=columns))
    return report


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def freshness_history(session: Session, settings: Settings, unit_code: str, weeks: int, now: datetime) -> dict:
    """Publications per target per week (Monday to Sunday, newsroom time) for the last `weeks` weeks:
    the data behind the console's chart per unit."""
    if not 1 <= weeks <= 104:
        raise Invalid("weeks must be between 1 and 104")
    rows = _targets(session, unit_code)
    first = week_start(now.astimezone(NEWSROOM_TZ).date()) - timedelta(weeks=weeks - 1)
    start = datetime.combine(first, datetime.min.time(), NEWSROOM_TZ)
    published = publications(session, [r.code for r in rows], until=now)
    targets = []
    for row in rows:
        rule = freshness.rule_for(row.channel, settings)
        per_week = rule.min_count * 7 // rule.period_days
        targets.append(dict(code=row.code, channel=row.channel, name=row.name, status=row.status,
                            per_week_required=per_week,
                            counts=freshness.weekly_counts([t for t, _, _ in published.get(row.code, [])], start,
                                                           weeks)))
    return dict(unit=unit_code, weeks=[first + timedelta(weeks=w) for w in range(weeks)], targets=targets)


# ------------------------------------------------------------------------------------------ deadlines


def set_obligation(session: Session, actor: User, item_id: int, rule: str, starts_at: datetime,
                   note: str = "") -> ItemObligation:
    """Say an item is a 民生 activity (due 24 h after the event) or a reply (7 working days)."""
    if rule not in (deadlines.Rule.livelihood, deadlines.Rule.reply):
        raise Invalid("rule must be livelihood or reply (normative documents are found by their 文号 and 成文日期)")
    if starts_at.tzinfo is None:
        starts_at = starts_at.replace(tzinfo=NEWSROOM_TZ)
    item = get_item(session, item_id)
    row = session.get(ItemObligation, item.id) or ItemObligation(item_id=item.id, rule=rule, starts_at=starts_at,
                                                                 set_by=actor.id)
    row.rule, row.starts_at, row.note, row.set_by = rule, starts_at, note, actor.id
    session.add(row)
    record(session, actor, "item.deadline", item_id=item.id, rule=rule, starts_at=starts_at.isoformat(), note=note)
    session.flush()
    return row


def _shown_revision(session: Session, item: Item) -> ItemRevision:
    number = item.published_revision or item.approved_revision or item.current_revision
    return session.exec(select(ItemRevision).where(ItemRevision.item_id == item.id,
                                                   ItemRevision.number == number)).one()


def item_deadlines(session: Session, now: datetime, unit_code: str | None = None, item_id: int | None = None,
                   due_from: datetime | None = None, due_until: datetime | None = None) -> list[dict]:
    """Every item with a deadline: normative documents, and items with an obligation set. Withdrawn
    items are left out. `due_from`/`due_until` keep deadlines falling in that span (reports)."""
    query = select(Item).where(Item.status != "withdrawn")
    if unit_code:
        query = query.where(Item.unit_id == get_unit(session, unit_code).id)
    if item_id is not None:
        query = query.where(Item.id == item_id)
    obligations = {o.item_id: o for o in session.exec(select(ItemObligation))}
    units = {u.id: u.code for u in session.exec(select(Unit))}
    out = []
    for item in session.exec(query.order_by(Item.id)):
        revision = _shown_revision(session, item)
        obligation = obligations.get(item.id)
        if obligation is not None:
            deadline = deadlines.deadline_for(obligation.rule, aware(obligation.starts_at))
        else:
            written = deadlines.normative_start(item.kind, revision.doc_no, revision.written_date)
            if written is None:
                continue
            deadline = deadlines.deadline_for(deadlines.Rule.normative, written)
        if (due_from and deadline.due_at <= due_from) or (due_until and deadline.due_at > due_until):
            continue
        result = deadlines.assess(deadline, item.published_at, now)
        out.append(dict(item=item.id, title=revision.title, unit=units[item.unit_id], kind=item.kind,
                        status=item.status, rule=deadline.rule.value, rule_name=deadlines.RULE_NAMES[deadline.rule],
                        starts=deadline.starts, due_at=deadline.due_at, due_date=deadline.due_date,
                        estimated=deadline.estimated, state=result.state.value, published_at=result.published_at,
                        late_hours=round(result.late_by.total_seconds() / 3600, 1) if result.late_by else None))
    return out


def late_counts(rows: list[dict]) -> dict[str, dict[str, int]]:
    """unit → state → how many (the report's count of late items per unit)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {s.value: 0 for s in deadlines.State})
    for row in rows:
        counts[row["unit"]][row["state"]] += 1
    return dict(counts)
