"""The delivery ledger's state machine, as plain data and functions (no I/O).

    pending ──► in_flight ──► succeeded          (pending ──► failed: withdrawn before delivery)
                   │  ├─────► remote_pending ──► succeeded | failed   (platform job, checked later)
                   │  ├─────► retrying ──► in_flight                  (backoff, then again)
                   │  ├─────► unknown ──► succeeded | in_flight       (verify before any retry)
                   │  └─────► failed | dead                           (permanent / exhausted)
    failed, dead, unknown ──► pending                                  (replay)
    succeeded ──► pending                                              (forced replay only)

A delivery found `in_flight` when a worker picks it up means the previous worker died during the
call: it becomes `unknown` and is verified with the platform before anything is posted again.
"""

import random

from schemas.delivery import DeliveryState as S
from schemas.delivery import ErrorClass

TRANSITIONS: dict[S, set[S]] = {
    S.pending: {S.in_flight, S.failed},
    S.in_flight: {S.succeeded, S.remote_pending, S.retrying, S.unknown, S.failed, S.dead},
    S.retrying: {S.in_flight, S.pending, S.dead},
    S.unknown: {S.succeeded, S.remote_pending, S.in_flight, S.pending, S.dead},
    S.remote_pending: {S.succeeded, S.remote_pending, S.in_flight, S.failed, S.unknown, S.retrying, S.dead},
    S.failed: {S.pending},
    S.dead: {S.pending},
    S.succeeded: {S.pending},
}
TERMINAL = {S.succeeded, S.failed, S.dead}
REPLAYABLE = {S.failed, S.dead, S.unknown, S.retrying, S.remote_pending}


class IllegalTransition(ValueError):
    pass


def check_transition(current: S | str, new: S | str) -> None:
    current, new = S(current), S(new)
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"a delivery cannot go from {current} to {new}")


def state_after_error(error_class: ErrorClass, attempts: int, max_attempts: int) -> S:
    """What a failed call leaves behind: retry, verify later, or stop."""
    if error_class == ErrorClass.permanent:
        return S.failed
    if attempts >= max_attempts:
        return S.dead
    return S.unknown if error_class == ErrorClass.unknown else S.retrying


def backoff_seconds(attempt: int, *, base: float = 1.0, cap: float = 300.0, retry_after: float | None = None,
                    rng: random.Random | None = None) -> float:
    """Exponential backoff with equal jitter: half fixed, half random, never below the platform's
    own Retry-After."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    delay = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
    return max(delay, retry_after or 0.0)
