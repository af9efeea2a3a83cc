"""Publishing deadlines (pure rules):

- a normative document (规范性文件: a policy with 文号 and 成文日期) is public within 3 working days of
  its 成文日期;
- a 民生 activity is reported within 24 hours of the event;
- a reply (回应关切, 留言答复) is published within 7 working days of the question.

Working days follow the official holiday calendar (`workdays`). A working-day deadline ends when its
last day ends in the newsroom's time zone; the 24-hour rule counts hours from the event.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from pipeline.clock import NEWSROOM_TZ, aware
from pipeline.governance.workdays import add_working_days


class Rule(StrEnum):
    normative = "normative"
    livelihood = "livelihood"
    reply = "reply"


RULE_NAMES = {
    Rule.normative: "规范性文件：成文后3个工作日内公开",
    Rule.livelihood: "民生活动：24小时内发布",
    Rule.reply: "回应：7个工作日内答复",
}


class State(StrEnum):
    met = "met"  # published before the deadline
    late = "late"  # published after it
    open = "open"  # not published yet, still in time
    overdue = "overdue"  # not published and the deadline has passed


@dataclass(frozen=True)
class Limits:
    normative_working_days: int = 3
    livelihood_hours: int = 24
    reply_working_days: int = 7


@dataclass(frozen=True)
class Deadline:
    rule: Rule
    starts: datetime  # 成文日期 (its midnight), the event, or when the question came in
    due_at: datetime  # exclusive: published strictly before this is in time
    estimated: bool = False  # the holiday calendar had no data for some day in between

    @property
    def due_date(self) -> date:
        """The last day in time, in the newsroom's zone."""
        return (self.due_at.astimezone(NEWSROOM_TZ) - timedelta(microseconds=1)).date()


@dataclass(frozen=True)
class Assessment:
    deadline: Deadline
    state: State
    published_at: datetime | None
    late_by: timedelta | None = None  # for late and overdue items


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), NEWSROOM_TZ)


DEFAULT_LIMITS = Limits()


def deadline_for(rule: Rule, starts: date | datetime, limits: Limits = DEFAULT_LIMITS) -> Deadline:
    """The deadline of one obligation. `starts` is a date (成文日期) or an aware datetime."""
    rule = Rule(rule)
    start = _local_midnight(starts) if not isinstance(starts, datetime) else aware(starts)
    if rule == Rule.livelihood:
        return Deadline(rule, start, start + timedelta(hours=limits.livelihood_hours))
    days = limits.normative_working_days if rule == Rule.normative else limits.reply_working_days
    last = add_working_days(start.astimezone(NEWSROOM_TZ).date(), days)
    return Deadline(rule, start, _local_midnight(last.day + timedelta(days=1)), last.estimated)


def assess(deadline: Deadline, published_at: datetime | None, now: datetime) -> Assessment:
    """Was (or is) the item in time? `now` decides between open and overdue for unpublished items."""
    published_at = aware(published_at)
    if published_at is not None and published_at <= now:
        if published_at < deadline.due_at:
            return Assessment(deadline, State.met, published_at)
        return Assessment(deadline, State.late, published_at, published_at - deadline.due_at)
    if now < deadline.due_at:
        return Assessment(deadline, State.open, published_at)
    return Assessment(deadline, State.overdue, published_at, now - deadline.due_at)


def normative_start(kind: str, doc_no: str | None, written_date: date | None) -> date | None:
    """A policy with a 文号 and a 成文日期 is a normative document; its clock starts on that date."""
    if kind == "policy" and doc_no and written_date:
        return written_date
    return None
