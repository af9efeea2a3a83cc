import random

import pytest

from pipeline.distribution.ledger_rules import (
    IllegalTransition,
    backoff_seconds,
    check_transition,
    state_after_error,
)
from schemas.delivery import DeliveryState as S
from schemas.delivery import ErrorClass


def test_a_succeeded_delivery_is_never_claimed_again():
    with pytest.raises(IllegalTransition):
        check_transition(S.succeeded, S.in_flight)


def test_unknown_must_be_verified_or_claimed_not_failed_silently():
    check_transition(S.unknown, S.succeeded)
    check_transition(S.unknown, S.in_flight)
    with pytest.raises(IllegalTransition):
        check_transition(S.unknown, S.failed)


def test_only_finished_or_stuck_deliveries_are_reset_by_replay():
    for state in (S.failed, S.dead, S.unknown, S.succeeded):
        check_transition(state, S.pending)
    with pytest.raises(IllegalTransition):
        check_transition(S.in_flight, S.pending)


@pytest.mark.parametrize("cls,attempts,expected", [
    (ErrorClass.permanent, 1, S.failed), (ErrorClass.retryable, 1, S.retrying),
    (ErrorClass.unknown, 2, S.unknown), (ErrorClass.retryable, 6, S.dead), (ErrorClass.unknown, 6, S.dead),
])
def test_state_after_error(cls, attempts, expected):
    assert state_after_error(cls, attempts, max_attempts=6) == expected


def test_backoff_grows_has_jitter_and_respects_retry_after():
    rng = random.Random(7)
    delays = [backoff_seconds(a, rng=rng) for a in range(1, 8)]
    assert 0.5 <= delays[0] <= 1.0 and 32 <= delays[6] <= 64
    assert all(b > a / 2 for a, b in zip(delays, delays[1:]))
    assert len({backoff_seconds(3, rng=rng) for _ in range(20)}) > 1
    assert backoff_seconds(1, retry_after=60, rng=rng) == 60
    assert backoff_seconds(30, cap=300, rng=rng) <= 300
