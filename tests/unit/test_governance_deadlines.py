"""Deadlines by the official holiday calendar: normative documents (3 working days from 成文日期),
民生 activities (24 hours), replies (7 working days)."""

from datetime import date, datetime, timedelta

import pytest

from pipeline.clock import NEWSROOM_TZ
from pipeline.governance.deadlines import Rule, State, assess, deadline_for, normative_start
from pipeline.governance.workdays import add_working_days, covered_years, is_working_day


def at(*args) -> datetime:
    return datetime(*args, tzinfo=NEWSROOM_TZ)


def test_the_national_day_holiday_moves_a_normative_deadline_by_a_week():
    # 成文 Tuesday 2026-09-29: Wednesday 30th is day 1, 1–7 October are holidays, 8th and 9th days 2 and 3
    deadline = deadline_for(Rule.normative, date(2026, 9, 29))
    assert deadline.due_date == date(2026, 10, 9) and not deadline.estimated
    # the same document a week earlier meets the Mid-Autumn Festival (Friday 25 September) instead
    assert deadline_for(Rule.normative, date(2026, 9, 22)).due_date == date(2026, 9, 28)
    # without the calendar, three weekdays after the 29th would have been Friday 2 October
    assert date(2026, 10, 2).weekday() < 5 and not is_working_day(date(2026, 10, 2))[0]


def test_a_weekend_day_worked_in_exchange_counts_as_a_working_day():
    assert is_working_day(date(2026, 10, 10)) == (True, True)  # Saturday, 调休
    assert add_working_days(date(2026, 10, 8), 2).day == date(2026, 10, 10)
    assert deadline_for(Rule.normative, date(2026, 10, 8)).due_date == date(2026, 10, 12)


def test_a_document_published_on_its_last_day_is_in_time_and_the_next_morning_is_late():
    deadline = deadline_for(Rule.normative, date(2026, 9, 29))
    now = at(2026, 11, 1)
    assert assess(deadline, at(2026, 10, 9, 23, 59), now).state == State.met
    late = assess(deadline, at(2026, 10, 10, 9, 0), now)
    assert late.state == State.late and late.late_by == timedelta(hours=9)


def test_an_unpublished_item_is_open_until_its_deadline_then_overdue():
    deadline = deadline_for(Rule.normative, date(2026, 9, 29))
    assert assess(deadline, None, at(2026, 10, 9, 12)).state == State.open
    overdue = assess(deadline, None, at(2026, 10, 10, 6))
    assert overdue.state == State.overdue and overdue.late_by == timedelta(hours=6)
    # scheduled for later than now: not published yet
    assert assess(deadline, at(2026, 10, 20), at(2026, 10, 9)).state == State.open


def test_a_livelihood_activity_is_due_24_hours_after_the_event_holiday_or_not():
    deadline = deadline_for(Rule.livelihood, at(2026, 10, 1, 9, 30))
    assert deadline.due_at == at(2026, 10, 2, 9, 30)
    assert assess(deadline, at(2026, 10, 2, 9, 29), at(2026, 10, 3)).state == State.met
    assert assess(deadline, at(2026, 10, 2, 9, 31), at(2026, 10, 3)).state == State.late


def test_a_reply_has_seven_working_days_from_the_day_the_question_came_in():
    # question on Wednesday 23 September 2026: 24th, (25th Mid-Autumn), 28, 29, 30, (1–7 Oct), 8, 9, 10 (Sat, 调休)
    deadline = deadline_for(Rule.reply, at(2026, 9, 23, 16, 0))
    assert deadline.due_date == date(2026, 10, 10)


def test_a_year_the_calendar_does_not_cover_is_counted_on_weekdays_and_marked_estimated():
    assert 2026 in covered_years()
    beyond = covered_years().stop  # the first year without official data
    start = date(beyond, 3, 1)
    deadline = deadline_for(Rule.normative, start)
    assert deadline.estimated
    expected = add_working_days(start, 3).day
    assert expected.weekday() < 5 and deadline.due_date == expected
    assert is_working_day(date(beyond, 3, 6)) == (date(beyond, 3, 6).weekday() < 5, False)


def test_only_a_policy_with_a_document_number_and_written_date_is_normative():
    assert normative_start("policy", "渝府办发〔2026〕12号", date(2026, 9, 29)) == date(2026, 9, 29)
    assert normative_start("policy", None, date(2026, 9, 29)) is None
    assert normative_start("news", "渝府办发〔2026〕12号", date(2026, 9, 29)) is None


def test_bad_working_day_counts_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), 0)
