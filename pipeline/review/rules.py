"""The review rules as plain functions (no I/O): who may act on which level, and what follows.

一事一审, 谁审查谁负责: nobody reviews an item they wrote or revised, nobody acts on two levels of
the same revision, and every decision names its reviewer."""

from dataclasses import dataclass, field
from enum import StrEnum

from pipeline.errors import Conflict, Forbidden, Invalid
from pipeline.org.roles import Role

_NAMES = {
    1: ["审发"],
    2: ["初审", "审发"],
    3: ["初审", "审核", "审发"],
    4: ["初审", "复审", "审核", "审发"],
    5: ["初审", "复审", "三审", "审核", "审发"],
}


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"


def level_names(total: int) -> list[str]:
    return _NAMES[total]


def level_name(level: int, total: int) -> str:
    return level_names(total)[level - 1]


def role_may_act(role: str, level: int, total: int) -> bool:
    """Reviewers act on every level but the last; signers act on the last (sign-off)."""
    if level == total:
        return role == Role.signer
    return role == Role.reviewer


@dataclass(frozen=True)
class ReviewContext:
    status: str
    level: int
    total_levels: int
    actor_id: int
    actor_role: str
    writers: frozenset[int]  # everyone who created or revised the item
    acted_on_revision: dict[int, int] = field(default_factory=dict)  # reviewer id → level


def check_review(ctx: ReviewContext, decision: Decision, comment: str) -> None:
    """Raise the reason this review may not happen; return quietly when it may."""
    if ctx.status != "in_review":
        raise Conflict(f"the item is {ctx.status}, not in review: submit it first")
    name = level_name(ctx.level, ctx.total_levels)
    if not role_may_act(ctx.actor_role, ctx.level, ctx.total_levels):
        needed = "signer" if ctx.level == ctx.total_levels else "reviewer"
        raise Forbidden(f"level {ctx.level} ({name}) needs a {needed}; your role is {ctx.actor_role}")
    if ctx.actor_id in ctx.writers:
        raise Forbidden("you wrote or revised this item, so you may not review it (一事一审)")
    if ctx.actor_id in ctx.acted_on_revision:
        done = ctx.acted_on_revision[ctx.actor_id]
        raise Forbidden(
            f"you already decided level {done} ({level_name(done, ctx.total_levels)}) of this revision; "
            "one person acts on one level only"
        )
    if decision == Decision.reject and not comment.strip():
        raise Invalid("a rejection needs a comment telling the author why")


def after_decision(level: int, total: int, decision: Decision) -> tuple[str, int]:
    """The item's (status, review_level) once a decision on `level` is recorded."""
    if decision == Decision.reject:
        return "draft", 0
    if level < total:
        return "in_review", level + 1
    return "approved", 0
