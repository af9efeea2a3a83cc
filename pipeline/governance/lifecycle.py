"""The registry's rules for sites, accounts and feeds (开设、变更、关停、注销, 备案), as pure functions.

    applied ──► active ◄──► suspended
       │          │             │
       └──────────┴─────► closed (final)

- Only an active target receives publications and corrections. A suspended one may still have
  items taken down from it; a closed one receives nothing.
- Activation needs a responsible person and a 备案 record: number, approver and date.
- A unit keeps at most `limit` accounts per platform (closed ones do not count); `limit` 0 means
  no limit, and only the configured platforms are limited.
"""

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from pipeline.errors import Conflict, Invalid
from schemas.delivery import Operation


class Status(StrEnum):
    applied = "applied"
    active = "active"
    suspended = "suspended"
    closed = "closed"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.applied: frozenset({Status.active, Status.closed}),
    Status.active: frozenset({Status.suspended, Status.closed}),
    Status.suspended: frozenset({Status.active, Status.closed}),
    Status.closed: frozenset(),
}


def check_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise Invalid(f"status {value!r} is not one of {', '.join(s.value for s in Status)}") from None


def check_transition(current: str, to: str) -> None:
    """Raise Conflict when the registry may not go from `current` to `to`."""
    target, source = check_status(to), check_status(current)
    if target == source:
        raise Conflict(f"the target is already {source.value}")
    if target not in TRANSITIONS[source]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[source])) or "nothing (closed is final)"
        raise Conflict(f"a target that is {source.value} cannot become {target.value}; it may become {allowed}")


def activation_problems(responsible_person: str | None, filing_no: str | None, filing_approver: str | None,
                        filing_date: date | None) -> list[str]:
    """What is missing before a target may become active (empty when nothing is)."""
    missing = []
    if not responsible_person:
        missing.append("a responsible person")
    if not filing_no:
        missing.append("the 备案 record number")
    if not filing_approver:
        missing.append("who approved the 备案")
    if not filing_date:
        missing.append("the 备案 date")
    return missing


def publishing_refusal(code: str, status: str, operation: str) -> str | None:
    """Why `operation` may not go to a target in `status`, or None when it may."""
    if status == Status.active:
        return None
    if operation == Operation.takedown and status != Status.closed:
        return None
    return (f"target {code} is {status}: {operation} refused; only active targets receive items"
            + ("" if status == Status.closed else " (reactivate it in the registry first)"))


def account_limit_problem(unit: str, channel: str, holders: Iterable[str], limit: int,
                          limited_channels: Iterable[str]) -> str | None:
    """Why the unit may not open another `channel` account, given the codes of the ones it keeps."""
    holders = sorted(holders)
    if limit <= 0 or channel not in set(limited_channels) or len(holders) < limit:
        return None
    return (f"unit {unit} already has {len(holders)} {channel} account(s) ({', '.join(holders)}); a unit keeps at "
            f"most {limit} per platform (CK_ACCOUNTS_PER_PLATFORM). Close one first, or change the setting")


def limited_channels(setting: str) -> list[str]:
    return [c.strip() for c in setting.split(",") if c.strip()]
