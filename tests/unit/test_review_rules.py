import pytest

from pipeline.errors import Conflict, Forbidden, Invalid
from pipeline.review.rules import (
    Decision,
    ReviewContext,
    after_decision,
    check_review,
    level_name,
    role_may_act,
)


def ctx(**kw):
    base = dict(status="in_review", level=1, total_levels=3, actor_id=10, actor_role="reviewer",
                writers=frozenset({1}), acted_on_revision={})
    base.update(kw)
    return ReviewContext(**base)


def test_three_levels_are_named_as_the_guideline_does():
    assert [level_name(i, 3) for i in (1, 2, 3)] == ["初审", "审核", "审发"]


@pytest.mark.parametrize(
    "role,level,allowed",
    [("reviewer", 1, True), ("reviewer", 2, True), ("reviewer", 3, False),
     ("signer", 3, True), ("signer", 1, False), ("editor", 1, False), ("admin", 3, False)],
)
def test_roles_per_level(role, level, allowed):
    assert role_may_act(role, level, 3) is allowed


def test_a_single_level_workflow_is_signed_off_by_a_signer():
    assert role_may_act("signer", 1, 1) and not role_may_act("reviewer", 1, 1)


def test_a_draft_cannot_be_reviewed():
    with pytest.raises(Conflict, match="submit it first"):
        check_review(ctx(status="draft"), Decision.approve, "")


def test_the_author_cannot_review_their_own_item():
    with pytest.raises(Forbidden, match="一事一审"):
        check_review(ctx(actor_id=1), Decision.approve, "")


def test_nobody_acts_on_two_levels_of_one_revision():
    with pytest.raises(Forbidden, match="already decided level 1"):
        check_review(ctx(level=2, acted_on_revision={10: 1}), Decision.approve, "")


def test_signing_needs_a_signer():
    with pytest.raises(Forbidden, match="needs a signer"):
        check_review(ctx(level=3), Decision.approve, "")


def test_a_rejection_must_say_why():
    with pytest.raises(Invalid):
        check_review(ctx(), Decision.reject, "  ")
    check_review(ctx(), Decision.reject, "数据需核实")


def test_a_valid_review_passes():
    check_review(ctx(level=3, actor_role="signer", actor_id=12, acted_on_revision={10: 1, 11: 2}),
                 Decision.approve, "")


@pytest.mark.parametrize(
    "level,decision,expected",
    [(1, Decision.approve, ("in_review", 2)), (2, Decision.approve, ("in_review", 3)),
     (3, Decision.approve, ("approved", 0)), (2, Decision.reject, ("draft", 0))],
)
def test_what_follows_a_decision(level, decision, expected):
    assert after_decision(level, 3, decision) == expected
