"""How channel-worker throughput grows with partitions and worker processes (figures for
deploy/README.md; prints a table, writes JSON; not a pass/fail test).

    .venv/bin/python -m tests.scale_out_bench [--deliveries 600] [--latency-ms 0 50] \
        [--partitions 1 6] [--workers 1 2 3] [--database-url postgresql+psycopg://…] [--json out.json]

One stage, measured alone: the app-feed channel (a feed write and a signed webhook per delivery)
against the webhook emulator with `latency_ms` per call. For each configuration, on fresh topics
with P partitions and a fresh database: items are signed off and planned into ledger rows by the
router's own code (`plan_deliveries`), W `ck worker --role appfeed` processes join one consumer
group, then every deliver message is produced at once and the clock runs until the ledger says
all of them succeeded. The workers' CPU seconds show whether they waited or worked.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.partitioner.default import murmur2


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _group_stable(bootstrap: str, group: str, members: int) -> bool:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="ck-bench")
    try:
        described = admin.describe_groups([group])[group]
        return described["group_state"] == "Stable" and len(described["members"]) == members
    finally:
        admin.close()


def _units_balanced(partitions: int, per_partition: int) -> list[str]:
    """District units whose app-feed target codes put the same number of keys on every partition."""
    from tests.integration.test_scale_out import DISTRICTS

    names = DISTRICTS + [f"{d}{n}" for n in range(2, 40) for d in DISTRICTS]
    by_partition: dict[int, list[str]] = {p: [] for p in range(partitions)}
    for unit in names:
        bucket = by_partition[(murmur2(f"{unit}-app".encode()) & 0x7FFFFFFF) % partitions]
        if len(bucket) < per_partition:
            bucket.append(unit)
    assert all(len(b) == per_partition for b in by_partition.values())
    return [u for p in range(partitions) for u in by_partition[p]]


def run_one(bootstrap: str, sandbox, database_url: str | None, partitions: int, workers: int, deliveries: int,
            latency_ms: int, work: Path, deliver_batch: int | None = None) -> dict:
    from sqlmodel import select

    from pipeline.config import get_settings
    from pipeline.distribution.routing import plan_deliveries
    from pipeline.kafka.producer import make_producer
    from pipeline.kafka.topics import deliver_topic, ensure_topics
    from pipeline.org.units import add_unit
    from pipeline.registry.targets import add_target
    from pipeline.store.db import session_scope
    from pipeline.store.migrate import upgrade
    from pipeline.store.models import Delivery, OutboxEntry
    from schemas.events import ItemEvent
    from tests.factories import seed_newsroom
    from tests.fixtures.kitchen import FAST, Kitchen, Workers, wait_until

    run = work / f"p{partitions}-w{workers}-l{latency_ms}-b{deliver_batch}"
    run.mkdir()
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    os.environ.update({"CK_DATABASE_URL": database_url or f"sqlite:///{run / 'ck.db'}", "CK_DATA_DIR": str(run / "var"),
                       "CK_KAFKA_BOOTSTRAP": bootstrap, "CK_KAFKA_TOPIC_PREFIX": prefix,
                       "CK_KAFKA_PARTITIONS": str(partitions), "CK_ACCOUNTS_PER_PLATFORM": "0", **FAST})
    if deliver_batch:  # deliveries one channel agent runs at once, where the agents support it
        os.environ["CK_DELIVER_BATCH"] = str(deliver_batch)
    else:
        os.environ.pop("CK_DELIVER_BATCH", None)
    get_settings.cache_clear()
    if database_url:
        _empty_postgres(database_url)
    upgrade()
    ensure_topics(bootstrap)
    units = _units_balanced(partitions, 12 // partitions)
    room = seed_newsroom()
    with session_scope() as session:
        for unit in units:
            if unit not in ("yuzhong", "jiangbei"):
                add_unit(session, unit, f"{unit}区人民政府", parent="cq")
            add_target(session, f"{unit}-app", "appfeed", unit, f"{unit}政务App", sandbox.appfeed_config("bench"))
    kitchen = Kitchen(room, sandbox, Workers(dict(os.environ), run), bootstrap)
    targets = [f"{u}-app" for u in units]
    items = -(-deliveries // len(targets))
    for n in range(items):
        kitchen.sign_off(title=f"关于第{n + 1}批便民服务事项调整的公告", kind="notice", doc_no=None, targets=targets)
    messages = []
    with session_scope() as session:
        for row in session.exec(select(OutboxEntry).order_by(OutboxEntry.id)):
            messages += plan_deliveries(session, ItemEvent.from_bytes(row.payload.encode()))
    sandbox.faults("webhooks", latency_ms=latency_ms)

    procs = [kitchen.workers.start("appfeed") for _ in range(workers)]
    group = f"{prefix}central-kitchen.appfeed"
    wait_until(lambda: _group_stable(bootstrap, group, workers), 120, "the consumer group to settle")
    cpu_before = sum(_cpu_seconds(p.pid) for p in procs)
    producer = make_producer(bootstrap, linger_ms=20)
    started = time.monotonic()
    for m in messages:
        producer.send(deliver_topic(m.channel), key=m.target.encode(), value=m.to_bytes())
    producer.flush()

    def done() -> int:
        with session_scope() as session:
            return len(session.exec(select(Delivery.id).where(Delivery.state == "succeeded")).all())

    wait_until(lambda: done() == len(messages), 1800, "every delivery", interval=0.05)
    seconds = time.monotonic() - started
    cpu = sum(_cpu_seconds(p.pid) for p in procs) - cpu_before
    load = os.getloadavg()[0]  # other work on the machine slows every figure
    producer.close()
    kitchen.workers.stop_all()
    return {"partitions": partitions, "workers": workers, "latency_ms": latency_ms, "deliveries": len(messages),
            "seconds": round(seconds, 2), "per_second": round(len(messages) / seconds, 1),
            "worker_cpu_per_second": round(cpu / seconds, 2), "deliver_batch": deliver_batch,
            "load_average": round(load, 1),
            "database": "postgresql" if database_url else "sqlite"}


def _empty_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.scale_out_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=600)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 50])
    parser.add_argument("--partitions", type=int, nargs="+", default=[1, 6])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--deliver-batch", type=int, nargs="+", default=[0],
                        help="CK_DELIVER_BATCH values to try (0: leave the setting alone)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL to use (emptied per run); default SQLite")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from connectors.sandbox.platforms import Sandbox
    from pipeline.kafka.local_broker import LocalBroker

    work = Path(tempfile.mkdtemp(prefix="ck-scale-"))
    broker = None
    bootstrap = os.environ.get("CK_KAFKA_BOOTSTRAP")
    if not bootstrap:
        broker = LocalBroker(work / "kafka")
        broker.start(timeout=180)
        bootstrap = broker.bootstrap
    sandbox = Sandbox(["cq"], apps=["bench"]).start()
    results = []
    try:
        print(f"{'db':10} {'latency':>8} {'batch':>5} {'partitions':>10} {'workers':>7} {'deliveries':>10} "
              f"{'seconds':>8} {'per s':>7} {'worker cpu/s':>12} {'load':>5}", flush=True)
        for latency in args.latency_ms:
            for batch in args.deliver_batch:
                for partitions in args.partitions:
                    for workers in args.workers:
                        r = run_one(bootstrap, sandbox, args.database_url, partitions, workers, args.deliveries,
                                    latency, work, batch or None)
                        results.append(r)
                        print(f"{r['database']:10} {latency:>6}ms {batch or '-':>5} {partitions:>10} {workers:>7} "
                              f"{r['deliveries']:>10} {r['seconds']:>8} {r['per_second']:>7} "
                              f"{r['worker_cpu_per_second']:>12} {r['load_average']:>5}", flush=True)
    finally:
        sandbox.stop()
        if broker:
            broker.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
