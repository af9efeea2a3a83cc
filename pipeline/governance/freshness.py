"""Freshness (pure rules): no 睡眠 or 僵尸 channels, no columns left without updates.

The guidelines' defaults, each configurable (`pipeline.config.Settings`):
- a portal site publishes at least once a day (`CK_FRESHNESS_SITE_DAYS`);
- a new-media account (WeChat, Weibo, app feed) at least 3 times a week (`CK_FRESHNESS_ACCOUNT_PER_WEEK`);
- a channel below its rule is 睡眠 (sleeping); one with nothing at all for `CK_FRESHNESS_ZOMBIE_DAYS`
  (14) is 僵尸 (zombie);
- a site column with no update in its period (`column_periods` in the site's config, else
  `CK_FRESHNESS_COLUMN_DAYS`) is flagged, to be merged or closed.

A publication is a successful publish or correct delivery to the target (its time in the ledger).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pipeline.clock import aware
from pipeline.config import Settings
from schemas.delivery import Channel


class State(StrEnum):
    ok = "ok"
    sleeping = "sleeping"  # 睡眠
    zombie = "zombie"  # 僵尸
    not_assessed = "not_assessed"  # not active: applied, suspended or closed


LABELS = {State.ok: "正常", State.sleeping: "睡眠", State.zombie: "僵尸", State.not_assessed: "不考核"}


@dataclass(frozen=True)
class Rule:
    period_days: int
    min_count: int
    zombie_days: int

    def describe(self) -> str:
        if self.period_days == 1:
            return f"at least {self.min_count} a day"
        if self.period_days == 7:
            return f"at least {self.min_count} a week"
        return f"at least {self.min_count} in {self.period_days} days"


def rule_for(channel: str, settings: Settings) -> Rule:
    if channel == Channel.portal:
        return Rule(settings.freshness_site_days, 1, settings.freshness_zombie_days)
    return Rule(7, settings.freshness_account_per_week, settings.freshness_zombie_days)


@dataclass(frozen=True)
class Freshness:
    rule: Rule
    state: State
    last: datetime | None
    count: int  # publications in the current window
    window_start: datetime

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def meets(self) -> bool:
        return self.state == State.ok


def _times(times: Iterable[datetime | None], until: datetime) -> list[datetime]:
    return sorted(t for t in (aware(t) for t in times) if t is not None and t <= until)


def assess(times: Iterable[datetime | None], rule: Rule, now: datetime) -> Freshness:
    """The channel's state at `now` from its publication times (later ones are ignored)."""
    seen = _times(times, now)
    window_start = now - timedelta(days=rule.period_days)
    count = sum(t > window_start for t in seen)
    last = seen[-1] if seen else None
    if count >= rule.min_count:
        state = State.ok
    elif last is None or last <= now - timedelta(days=rule.zombie_days):
        state = State.zombie
    else:
        state = State.sleeping
    return Freshness(rule, state, last, count, window_start)


def not_assessed(rule: Rule, times: Iterable[datetime | None], now: datetime) -> Freshness:
    seen = _times(times, now)
    return Freshness(rule, State.not_assessed, seen[-1] if seen else None, 0, now - timedelta(days=rule.period_days))


def column_is_stale(last: datetime | None, period_days: int, now: datetime) -> bool:
    """A column with no update within its period (or never) is flagged."""
    last = aware(last)
    return last is None or last <= now - timedelta(days=period_days)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive
    count: int
    met: bool


def periods(times: Iterable[datetime | None], rule: Rule, start: datetime, end: datetime) -> list[Period]:
    """Consecutive whole periods of the rule from `start` up to `end`, each with its count; used by
    the quarterly report (how many days a site, or weeks an account, kept its rule)."""
    seen = _times(times, end)
    out = []
    step = timedelta(days=rule.period_days)
    at = start
    while at + step <= end:
        count = sum(at <= t < at + step for t in seen)
        out.append(Period(at, at + step, count, count >= rule.min_count))
        at += step
    return out


def weekly_counts(times: Iterable[datetime | None], start: datetime, weeks: int) -> list[int]:
    """Publications in each of `weeks` weeks from `start` (for charts)."""
    seen = _times(times, start + timedelta(weeks=weeks))
    return [sum(start + timedelta(weeks=w) <= t < start + timedelta(weeks=w + 1) for t in seen) for w in range(weeks)]


def column_period(site_config: dict, column: str, default_days: int) -> int:
    """A column's period in days: the site's `column_periods` entry, else the default."""
    by_column = site_config.get("column_periods")
    try:
        return int(by_column[column]) if isinstance(by_column, dict) and column in by_column else default_days
    except (TypeError, ValueError):
        return default_days
