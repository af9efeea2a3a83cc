"""The registry's lifecycle rules: transitions, activation needs a 备案, only active targets
receive items, one account per platform per unit."""

from datetime import date

import pytest

from pipeline.errors import Conflict, Invalid
from pipeline.governance.lifecycle import (
    Status,
    account_limit_problem,
    activation_problems,
    check_transition,
    limited_channels,
    publishing_refusal,
)


@pytest.mark.parametrize("current,to", [("applied", "active"), ("applied", "closed"), ("active", "suspended"),
                                        ("suspended", "active"), ("active", "closed"), ("suspended", "closed")])
def test_allowed_transitions(current, to):
    check_transition(current, to)


@pytest.mark.parametrize("current,to,says", [
    ("closed", "active", "closed is final"), ("applied", "suspended", "may become active, closed"),
    ("active", "applied", "cannot become applied"), ("active", "active", "already active"),
])
def test_refused_transitions_say_what_is_possible(current, to, says):
    with pytest.raises(Conflict, match=says):
        check_transition(current, to)


def test_an_unknown_status_is_invalid():
    with pytest.raises(Invalid, match="not one of applied, active, suspended, closed"):
        check_transition("active", "deleted")


def test_activation_needs_a_responsible_person_and_a_complete_filing():
    assert activation_problems("王芳", "渝ICP备2026001号", "市委网信办", date(2026, 9, 1)) == []
    assert activation_problems(None, "渝ICP备2026001号", None, None) == [
        "a responsible person", "who approved the 备案", "the 备案 date"]


def test_only_active_targets_receive_publications_and_corrections():
    assert publishing_refusal("cq-weibo", Status.active, "publish") is None
    refusal = publishing_refusal("cq-weibo", Status.suspended, "publish")
    assert "cq-weibo is suspended" in refusal and "reactivate" in refusal
    assert publishing_refusal("cq-weibo", Status.applied, "correct")
    # an item can still be withdrawn from a suspended account, but a closed one gets nothing
    assert publishing_refusal("cq-weibo", Status.suspended, "takedown") is None
    assert "closed" in publishing_refusal("cq-weibo", Status.closed, "takedown")


def test_one_account_per_platform_per_unit():
    channels = limited_channels("wechat, weibo,appfeed")
    assert channels == ["wechat", "weibo", "appfeed"]
    assert account_limit_problem("cq", "wechat", [], 1, channels) is None
    problem = account_limit_problem("cq", "wechat", ["cq-wechat"], 1, channels)
    assert "unit cq already has 1 wechat account(s) (cq-wechat)" in problem and "at most 1" in problem
    assert account_limit_problem("cq", "wechat", ["cq-wechat"], 2, channels) is None  # configurable
    assert account_limit_problem("cq", "wechat", ["cq-wechat"], 0, channels) is None  # 0: no limit
    assert account_limit_problem("cq", "portal", ["cq-portal"], 1, channels) is None  # not a limited platform
