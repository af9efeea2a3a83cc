"""Observability, tested on the real thing: /healthz and /readyz of the API and of `ck worker`
processes, /metrics figures that follow what really happened (counted at the emulators and in the
ledger), consumer lag of a stopped channel worker, and the logs of a whole run searched for every
configured credential."""

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from connectors.sandbox.server import free_port
from pipeline.api.app import create_app
from pipeline.config import get_settings
from pipeline.kafka.topics import deliver_topic
from tests.fixtures.kitchen import deliveries, wait_until

Samples = dict[tuple[str, frozenset], float]


def parse_metrics(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def metric(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def scrape_worker(port: int) -> Samples:
    return parse_metrics(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)


def start_observed_worker(kitchen, *roles: str, loglevel: str = "info"):
    """A `ck worker` with its HTTP endpoint on a port of its own; returns (process, port)."""
    port = free_port()
    kitchen.workers.env.update({"CK_METRICS_PORT": str(port), "CK_METRICS_HOST": "127.0.0.1"})
    try:
        proc = kitchen.workers.start(*roles)
    finally:
        kitchen.workers.env.pop("CK_METRICS_PORT")
    return proc, port


def start_worker_at_level(kitchen, loglevel: str) -> tuple[subprocess.Popen, Path]:
    """`ck worker` (all roles) logging at `loglevel`, owned by the kitchen's Workers (stopped with them)."""
    log = kitchen.workers.log_dir / f"worker-{len(kitchen.workers.procs)}-{loglevel}.log"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli.main", "worker", "--loglevel", loglevel],
                            env=kitchen.workers.env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            cwd=Path(__file__).resolve().parents[2])
    kitchen.workers.procs.append((proc, log))
    wait_until(lambda: proc.poll() is not None or b"[^Worker]: Ready" in log.read_bytes(), 90, "the worker")
    assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
    return proc, log


def json_log_lines(path: Path) -> list[dict]:
    """The structured lines of a worker's log (the few lines printed before logging starts are text)."""
    lines = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


# -- the API ------------------------------------------------------------------------------------


def test_api_is_alive_and_ready_when_its_database_answers(settings):
    client = TestClient(create_app(settings))
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json()["status"] == "alive"
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["database"]["ok"] is True
    assert ready.json()["status"] in ("ok", "degraded")


def test_api_is_not_ready_without_its_database_but_stays_alive(settings, tmp_path):
    unreachable = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/no/such/dir/ck.db"})
    client = TestClient(create_app(unreachable))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["ok"] is False and ready.json()["status"] == "unavailable"
    assert client.get("/healthz").status_code == 200  # a restart would not bring the database back


@pytest.mark.kafka
def test_api_stays_ready_with_kafka_away_and_says_so(settings):
    """Sign-off only writes the outbox, so the newsroom keeps working while the broker is away."""
    away = settings.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{free_port()}"})
    ready = TestClient(create_app(away)).get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["kafka"]["ok"] is False and ready.json()["status"] == "degraded"


@pytest.mark.kafka
def test_api_metrics_show_the_outbox_backlog_the_ledger_and_the_lag_of_a_stopped_channel_worker(kitchen):
    client = TestClient(create_app(get_settings()))
    first = kitchen.sign_off(title="关于公布第一批政务服务事项清单的通知", kind="notice", doc_no=None)
    samples = parse_metrics(client.get("/metrics").text)
    assert metric(samples, "ck_outbox_backlog") == 1  # signed off, no relay running yet
    assert metric(samples, "ck_source_up", source="database") == 1

    kitchen.workers.start("router", "relay", "portal", "weibo", "appfeed")
    wechat = kitchen.workers.start("wechat")
    wait_until(lambda: kitchen.settled(first), 90, "the first item on every channel")
    assert kitchen.workers.stop(wechat) == 0  # a clean stop commits the offsets it has done
    second = kitchen.sign_off(title="关于公布第二批政务服务事项清单的通知", kind="notice", doc_no=None)
    wait_until(lambda: sorted((d.channel, d.state) for d in deliveries(second)) == [
        ("appfeed", "succeeded"), ("portal", "succeeded"), ("wechat", "pending"), ("weibo", "succeeded")], 90,
        "the second item everywhere but WeChat")

    prefix = get_settings().kafka_topic_prefix
    group, topic = f"{prefix}central-kitchen.wechat", deliver_topic("wechat")

    def lag(group: str, topic: str) -> float | None:
        return metric(parse_metrics(client.get("/metrics").text), "ck_consumer_lag", group=group, topic=topic)

    wait_until(lambda: lag(group, topic) == 1, 30, f"lag 1 on {topic} for {group}")
    # the running worker commits every few seconds: its lag comes back to nothing
    running = f"{prefix}central-kitchen.appfeed+portal+relay+router+weibo"
    wait_until(lambda: lag(running, deliver_topic("portal")) == 0, 30, "no lag for the running worker")
    samples = parse_metrics(client.get("/metrics").text)
    assert metric(samples, "ck_deliveries", channel="wechat", state="succeeded") == 1
    assert metric(samples, "ck_deliveries", channel="wechat", state="pending") == 1
    assert metric(samples, "ck_deliveries", channel="portal", state="succeeded") == 2
    assert metric(samples, "ck_outbox_backlog") == 0
    assert metric(samples, "ck_consumer_lag", group=group, topic=topic) == 1
    assert metric(samples, "ck_source_up", source="kafka") == 1


# -- the workers --------------------------------------------------------------------------------


@pytest.mark.kafka
def test_worker_endpoint_counts_deliveries_latency_and_platform_errors(kitchen):
    kitchen.sandbox.faults("wechat", error_rate=1, codes=[45009], next_n=1, only_paths=["draft/add"])
    worker, port = start_observed_worker(kitchen)
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/healthz", timeout=10).json()["status"] == "alive"
    ready = wait_until(lambda: (r := httpx.get(f"{base}/readyz", timeout=10)).status_code == 200 and r, 30,
                       "the worker to be ready")
    assert {name for name, check in ready.json()["checks"].items() if check["ok"]} == {"database", "kafka", "agents"}

    items = [kitchen.sign_off(title=f"关于第{n}批老旧小区改造项目的公示", kind="notice", doc_no=None) for n in (1, 2)]
    wait_until(lambda: all(kitchen.settled(i) for i in items), 120, "both items on every channel")
    samples = scrape_worker(port)
    for channel in ("portal", "wechat", "weibo", "appfeed"):
        assert metric(samples, "ck_delivery_outcomes_total", channel=channel, state="succeeded") == 2, channel
        assert metric(samples, "ck_delivery_latency_seconds_count", channel=channel) == 2, channel
        assert metric(samples, "ck_routed_deliveries_total", channel=channel) == 2, channel
    assert metric(samples, "ck_outbox_relayed_total") == 2
    errors = {dict(labels)["code"]: value for (name, labels), value in samples.items()
              if name == "ck_platform_errors_total" and dict(labels)["channel"] == "wechat"}
    assert errors == {"45009": 1}
    assert metric(samples, "ck_delivery_retries_total", channel="wechat") == 1
    assert 0 < metric(samples, "ck_worker_heartbeat_age_seconds") < 30  # the event loop ticks
    assert kitchen.workers.stop(worker) == 0


@pytest.mark.kafka
def test_worker_logs_are_json_lines_naming_the_delivery(kitchen):
    worker = kitchen.workers.start()
    item_id = kitchen.sign_off()
    wait_until(lambda: kitchen.settled(item_id), 90, "the item on every channel")
    assert kitchen.workers.stop(worker) == 0
    lines = json_log_lines(kitchen.workers.procs[0][1])
    assert lines and all({"ts", "level", "logger", "message", "service"} <= set(line) for line in lines)
    done = [line for line in lines if line.get("delivery_id") and line["message"].endswith(": succeeded")]
    assert {(line["channel"], line["target"]) for line in done} == {
        ("portal", "cq-portal"), ("wechat", "cq-wechat"), ("weibo", "cq-weibo"), ("appfeed", "cq-app")}
    assert all(line["item_id"] == item_id and line["revision"] == 1 for line in done)


@pytest.mark.kafka
@pytest.mark.chaos
def test_the_logs_of_a_whole_run_hold_no_configured_secret(kitchen):
    """Debug logging, platform faults (errors, expired tokens, timeouts after the effect): the
    paths where a library or a traceback would print a URL or a config. None of the credentials
    configured for the targets may appear in any line."""
    accounts = kitchen.sandbox.accounts
    secrets = {accounts.wechat(u)[1] for u in ("cq", "yuzhong")} | {accounts.weibo(u)[0] for u in ("cq", "yuzhong")}
    secrets |= {accounts.webhook_secret("app")}
    kitchen.sandbox.faults("wechat", seed=3, error_rate=0.2, codes=[-1, 45009], timeout_after_effect_rate=0.1,
                           stall_ms=4000, expire_tokens=True)
    kitchen.sandbox.faults("weibo", seed=5, error_rate=0.2, codes=[10023], http_500_rate=0.1)
    kitchen.sandbox.faults("webhooks", seed=7, http_500_rate=0.2)
    worker, log_file = start_worker_at_level(kitchen, "debug")
    items = [kitchen.sign_off(title=f"关于第{n}批惠民政策落实情况的通报", kind="notice", doc_no=None) for n in (1, 2, 3)]
    wait_until(lambda: all(kitchen.settled(i) for i in items), 240, "every item on every channel")
    assert kitchen.workers.stop(worker) == 0
    log_text = log_file.read_text(encoding="utf-8", errors="replace")
    assert "cq-wechat" in log_text and '"level": "debug"' in log_text, "the log does not cover the run"
    assert [d for d in deliveries() if d.attempts > 1], "no fault fired: the error paths were not logged"
    leaked = sorted(s for s in secrets if s in log_text)
    assert not leaked, f"secrets in the worker log: {leaked}"
    # the access tokens WeChat issued at run time travel in URLs that urllib3 logs at debug level
    assert "access_token=***" in log_text, "no token-bearing URL was logged: the redaction went untested"
    assert not re.search(r"access_token=(?!\*\*\*)", log_text), "a run-time access token in the log"

