"""Liveness follows the worker's event loop: alive while it ticks, `stalled` once it stops."""

import time

from pipeline.observability.health import Health, Heartbeat


def test_a_worker_is_alive_while_starting_and_while_its_loop_ticks():
    heartbeat = Heartbeat()
    health = Health("sqlite://", None, heartbeat=heartbeat, stall_seconds=30)
    assert health.live() == (True, {"status": "alive"})  # not started yet: readiness says so
    heartbeat.beat()
    ok, body = health.live()
    assert ok and body["status"] == "alive" and body["event_loop_tick_age_seconds"] < 30


def test_a_worker_whose_loop_stopped_ticking_is_stalled():
    heartbeat = Heartbeat()
    heartbeat.beat()
    time.sleep(0.01)
    ok, body = Health("sqlite://", None, heartbeat=heartbeat, stall_seconds=0.001).live()
    assert not ok and body["status"] == "stalled"


def test_a_worker_is_not_ready_before_its_agents_run():
    ok, body = Health("sqlite://", None, required=("database",), heartbeat=Heartbeat()).ready()
    assert not ok and body["checks"]["database"]["ok"] and body["checks"]["agents"]["detail"] == "starting"
