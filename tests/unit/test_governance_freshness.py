"""Freshness rules: sites daily, new-media accounts at least 3 times a week, 睡眠 and 僵尸, stale columns."""

from datetime import datetime, timedelta

from pipeline.clock import NEWSROOM_TZ
from pipeline.config import Settings
from pipeline.governance.freshness import (
    Rule,
    State,
    assess,
    column_is_stale,
    column_period,
    periods,
    rule_for,
    weekly_counts,
)

MONDAY = datetime(2026, 11, 9, 0, 0, tzinfo=NEWSROOM_TZ)
ACCOUNT = Rule(period_days=7, min_count=3, zombie_days=14)
SITE = Rule(period_days=1, min_count=1, zombie_days=14)


def simulate_week(schedule: dict[str, list[tuple[int, int]]]) -> dict[str, list[datetime]]:
    """account → publication times, from (day of the week, hour) pairs."""
    return {code: [MONDAY + timedelta(days=d, hours=h) for d, h in posts] for code, posts in schedule.items()}


def test_a_simulated_week_of_publishing_makes_one_account_sleep():
    week = simulate_week({
        "cq-wechat": [(0, 9), (2, 10), (4, 16), (6, 11)],  # four posts: keeps the rule
        "cq-weibo": [(1, 9), (3, 15), (5, 20)],  # exactly three
        "yuzhong-wechat": [(0, 10), (3, 10)],  # two: 睡眠
    })
    sunday_night = MONDAY + timedelta(days=6, hours=23)
    results = {code: assess(times, ACCOUNT, sunday_night) for code, times in week.items()}
    assert {code: r.state for code, r in results.items()} == {
        "cq-wechat": State.ok, "cq-weibo": State.ok, "yuzhong-wechat": State.sleeping}
    sleeper = results["yuzhong-wechat"]
    assert sleeper.label == "睡眠" and sleeper.count == 2 and not sleeper.meets
    assert sleeper.last == MONDAY + timedelta(days=3, hours=10)


def test_the_rule_is_a_moving_window_not_a_calendar_week():
    times = simulate_week({"a": [(0, 9), (1, 9), (2, 9)]})["a"]
    assert assess(times, ACCOUNT, MONDAY + timedelta(days=6)).state == State.ok
    # a week after the first post it has dropped out of the window: two left
    later = assess(times, ACCOUNT, MONDAY + timedelta(days=7, hours=10))
    assert later.state == State.sleeping and later.count == 2


def test_an_account_silent_for_two_weeks_is_a_zombie_and_one_never_used_too():
    times = [MONDAY - timedelta(days=20)]
    assert assess(times, ACCOUNT, MONDAY).state == State.zombie
    assert assess(times, ACCOUNT, MONDAY).label == "僵尸"
    assert assess([], ACCOUNT, MONDAY).state == State.zombie
    assert assess([MONDAY - timedelta(days=13)], ACCOUNT, MONDAY).state == State.sleeping


def test_publications_after_the_moment_assessed_are_ignored():
    times = simulate_week({"a": [(0, 9), (1, 9), (5, 9)]})["a"]
    result = assess(times, ACCOUNT, MONDAY + timedelta(days=2))
    assert result.count == 2 and result.state == State.sleeping


def test_a_site_must_publish_every_day():
    yesterday_noon = MONDAY - timedelta(hours=12)
    assert assess([yesterday_noon], SITE, MONDAY).state == State.ok
    assert assess([yesterday_noon], SITE, MONDAY + timedelta(hours=13)).state == State.sleeping


def test_rules_come_from_the_settings():
    settings = Settings(freshness_site_days=2, freshness_account_per_week=5, freshness_zombie_days=30)
    assert rule_for("portal", settings) == Rule(2, 1, 30)
    assert rule_for("weibo", settings) == Rule(7, 5, 30)
    assert rule_for("appfeed", Settings()) == Rule(7, 3, 14)
    assert Rule(7, 3, 14).describe() == "at least 3 a week" and Rule(1, 1, 14).describe() == "at least 1 a day"


def test_a_column_without_an_update_in_its_period_is_flagged():
    assert column_is_stale(None, 14, MONDAY)
    assert column_is_stale(MONDAY - timedelta(days=15), 14, MONDAY)
    assert not column_is_stale(MONDAY - timedelta(days=13), 14, MONDAY)
    config = {"columns": {"xxgk": "政府信息公开", "news": "要闻"}, "column_periods": {"xxgk": 180, "bad": "x"}}
    assert column_period(config, "xxgk", 14) == 180
    assert column_period(config, "news", 14) == 14 and column_period(config, "bad", 14) == 14
    assert column_period({"column_periods": ["not", "a", "dict"]}, "news", 14) == 14


def test_periods_and_weekly_counts_for_reports():
    times = simulate_week({"a": [(0, 9), (0, 10), (2, 9), (8, 9)]})["a"]
    days = periods(times, SITE, MONDAY, MONDAY + timedelta(days=3))
    assert [(p.count, p.met) for p in days] == [(2, True), (0, False), (1, True)]
    weeks = periods(times, ACCOUNT, MONDAY, MONDAY + timedelta(days=15))  # the unfinished third week is left out
    assert [(p.count, p.met) for p in weeks] == [(3, True), (1, False)]
    assert weekly_counts(times, MONDAY, 3) == [3, 1, 0]
