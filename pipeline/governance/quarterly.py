"""The quarterly report per unit, as the provincial checks ask for it: every site and account with
its publications and how many days (sites) or weeks (accounts) it kept its rule, stale columns,
deadlines met and missed, rescan findings and registry changes. HTML with inline SVG charts, and
CSV (one row per target, then one per item with a deadline)."""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session, select

from pipeline.clock import NEWSROOM_TZ, local
from pipeline.config import Settings
from pipeline.errors import Invalid
from pipeline.governance import charts, freshness, monitor
from pipeline.governance.workdays import covered_years
from pipeline.org.units import get_unit
from pipeline.store.models import ChannelTarget, Item, RegistryChange, RescanFinding

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                         undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = QUARTER.match(text.strip().upper())
        if not match:
            raise Invalid(f"quarter {text!r} is not like 2026Q3")
        return cls(int(match[1]), int(match[2]))

    @property
    def name(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end_day(self) -> date:
        """The first day after the quarter."""
        return date(self.year + 1, 1, 1) if self.number == 4 else date(self.year, 3 * self.number + 1, 1)

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in the newsroom's time zone."""
        at = lambda d: datetime.combine(d, datetime.min.time(), NEWSROOM_TZ)  # noqa: E731
        return at(self.first_day), at(self.end_day)


def build(session: Session, settings: Settings, unit_code: str, quarter: Quarter, now: datetime) -> dict:
    """The report's data; a quarter still running is reported up to `now`."""
    unit = get_unit(session, unit_code)
    start, end = quarter.bounds()
    until = min(end, now)
    rows = list(session.exec(select(ChannelTarget).where(ChannelTarget.unit_id == unit.id).order_by(ChannelTarget.id)))
    published = monitor.publications(session, [r.code for r in rows], until=until)
    at_end = {f["code"]: f for f in monitor.freshness_report(session, settings, until, unit_code)}
    first_week = monitor.week_start(quarter.first_day)
    weeks = -(-(quarter.end_day - first_week).days // 7)  # whole weeks covering the quarter
    week_start = datetime.combine(first_week, datetime.min.time(), NEWSROOM_TZ)
    targets = []
    for row in rows:
        rule = freshness.rule_for(row.channel, settings)
        times = [t for t, _, _ in published.get(row.code, []) if start <= t < end]
        periods = freshness.periods(times, rule, start, until)
        counts = freshness.weekly_counts(times, week_start, weeks)
        per_week = rule.min_count * 7 // rule.period_days
        labels = [(first_week + timedelta(weeks=w)).strftime("%m-%d") for w in range(weeks)]
        state = at_end[row.code]
        targets.append(dict(
            code=row.code, channel=row.channel, name=row.name, status=row.status, filing_no=row.filing_no or "",
            responsible_person=row.responsible_person or "", health=row.health, rule=rule.describe(),
            publications=len(times), periods_met=sum(p.met for p in periods), periods_total=len(periods),
            period_name="days" if rule.period_days == 1 else f"{rule.period_days}-day periods",
            state=state["state"], label=state["label"], last=state["last"],
            stale_columns=[c["name"] for c in state["columns"] if c["stale"]],
            chart=charts.bars(counts, labels, threshold=per_week or None,
                              title=f"{row.name} ({row.code}): publications per week"),
        ))
    items = monitor.item_deadlines(session, until, unit_code, due_from=start, due_until=end)
    states = monitor.late_counts(items).get(unit.code, {"met": 0, "late": 0, "open": 0, "overdue": 0})
    item_ids = set(session.exec(select(Item.id).where(Item.unit_id == unit.id)))
    found = [f for f in session.exec(select(RescanFinding).where(RescanFinding.found_at >= start,
                                                                 RescanFinding.found_at < end))
             if f.item_id in item_ids]
    target_ids = {r.id: r.code for r in rows}
    registry_changes = [dict(target=target_ids[c.target_id], from_status=c.from_status, to_status=c.to_status,
                             reason=c.reason, decision=c.decision, at=c.decided_at or c.requested_at)
                        for c in session.exec(select(RegistryChange).where(RegistryChange.requested_at >= start,
                                                                           RegistryChange.requested_at < end))
                        if c.target_id in target_ids]
    years = covered_years()
    return dict(
        unit=unit.code, unit_name=unit.name, quarter=quarter.name, start=start, end=end, until=until,
        generated_at=now, targets=targets, deadlines=items, deadline_counts=states,
        deadline_chart=charts.bars([states[s] for s in ("met", "late", "open", "overdue")],
                                   ["按时", "逾期发布", "未到期", "逾期未发"], title="deadlines in the quarter"),
        findings={s: sum(f.status == s for f in found) for s in ("open", "dismissed", "taken_down", "cleared")},
        registry_changes=registry_changes,
        calendar_note=None if quarter.year in years else
        f"the holiday calendar (chinese-calendar) has data for {years.start}–{years.stop - 1} only; working days "
        f"in {quarter.year} are counted Monday to Friday until the package is updated",
    )


def render_html(report: dict) -> str:
    return _templates.get_template("quarterly.html.j2").render(r=report, local=local)


CSV_FIELDS = ["section", "unit", "quarter", "code", "channel", "name", "status", "filing_no", "health", "rule",
              "publications", "periods_met", "periods_total", "state", "last_publication", "stale_columns",
              "item", "title", "deadline_rule", "due_date", "published_at", "deadline_state", "late_hours"]


def render_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    base = {"unit": report["unit"], "quarter": report["quarter"]}
    for t in report["targets"]:
        writer.writerow(base | {
            "section": "target", "code": t["code"], "channel": t["channel"], "name": t["name"], "status": t["status"],
            "filing_no": t["filing_no"], "health": t["health"], "rule": t["rule"], "publications": t["publications"],
            "periods_met": t["periods_met"], "periods_total": t["periods_total"], "state": t["state"],
            "last_publication": local(t["last"]).isoformat(timespec="minutes") if t["last"] else "",
            "stale_columns": ";".join(t["stale_columns"])})
    for d in report["deadlines"]:
        writer.writerow(base | {
            "section": "deadline", "item": d["item"], "title": d["title"], "deadline_rule": d["rule"],
            "due_date": d["due_date"].isoformat(), "deadline_state": d["state"],
            "published_at": local(d["published_at"]).isoformat(timespec="minutes") if d["published_at"] else "",
            "late_hours": d["late_hours"] if d["late_hours"] is not None else ""})
    return out.getvalue()
