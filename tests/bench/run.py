"""`python -m tests.bench`: run the scenarios, print the table and the ratios to the targets, write JSON."""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from pipeline.config import get_settings
from pipeline.kafka.local_broker import LocalBroker
from pipeline.kafka.topics import ensure_topics
from tests.bench import baselines, newsroom
from tests.bench.measure import PeakMemory, figures, ledger_counts
from tests.fixtures.kitchen import Workers, wait_until


class BenchWorkers(Workers):
    """`ck worker` processes run in the scenario's folder (faust keeps its data folder in the cwd)."""

    def start(self, *roles: str, wait_ready: bool = False) -> subprocess.Popen:
        """`ck worker --role …`, or `ck relay` for the role "relay" alone (a faust worker needs a topic)."""
        args = [sys.executable, "-m", "pipeline.cli.main"]
        args += ["relay"] if roles == ("relay",) else ["worker", "--loglevel", "info"]
        for role in roles if roles != ("relay",) else ():
            args += ["--role", role]
        log_path = self.log_dir / f"worker-{len(self.procs)}-{'+'.join(roles)}.log"
        proc = subprocess.Popen(args, env=self.env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
                                cwd=self.log_dir)
        self.procs.append((proc, log_path))
        return proc

ROOT = Path(__file__).resolve().parents[2]
CHANNEL_ROLES = ("portal", "wechat", "weibo", "appfeed")
REALISTIC = {"wechat": 200, "weibo": 120, "webhooks": 50}  # ms per platform call: 50–200 ms
TARGETS = {"deliveries_per_s": 1000, "share_of_bare_relay": 0.25, "times_sequential": 20,
           "p99_all_channels_ms_at_50_per_s": 1000, "skew_p99_ms": 250}
KITCHEN_PROCESSES = ("router", "relay")  # and every "channel worker N"
DEFAULT_BATCH = 16  # CK_DELIVER_BATCH, the default of pipeline.config
FAST = {"CK_RETRY_BASE_SECONDS": "0.2", "CK_RETRY_CAP_SECONDS": "2", "CK_RETRY_AFTER_CAP_SECONDS": "2",
        "CK_REMOTE_POLL_SECONDS": "0.5"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, root: Path, bootstrap: str, broker: LocalBroker | None, units: list[str]):
        self.root, self.bootstrap, self.broker, self.units = root, bootstrap, broker, units
        self.templates: dict[int, Path] = {}

    def use(self, db: Path, data_dir: Path, prefix: str = "", extra: dict | None = None) -> dict[str, str]:
        """Point this process (and the workers it starts) at one scenario's store and topics."""
        env = {"CK_DATABASE_URL": f"sqlite:///{db}", "CK_DATA_DIR": str(data_dir), "CK_KAFKA_BOOTSTRAP": self.bootstrap,
               "CK_KAFKA_TOPIC_PREFIX": prefix, "CK_DELIVER_BATCH": str(DEFAULT_BATCH), **FAST, **(extra or {})}
        os.environ.update(env)
        get_settings.cache_clear()
        return dict(os.environ)

    def template(self, count: int) -> Path:
        """A store with at least `count` items waiting for sign-off (the smallest such, built once)."""
        fits = sorted(n for n in self.templates if n >= count)
        if fits:
            return self.templates[fits[0]]
        if count not in self.templates:
            path = self.root / f"template-{count}.db"
            self.use(path, self.root / "template-var")
            started = time.perf_counter()
            newsroom.build_template(path, count, self.units)
            log(f"prepared {count} items for sign-off in {time.perf_counter() - started:.0f}s")
            self.templates[count] = path
        return self.templates[count]

    def scenario(self, name: str, count: int, *, latency: dict | None = None, channel_workers: int = 1,
                 rate: float | None = None, timeout: float = 900, keep_topics: bool = False,
                 env: dict | None = None, per_channel: bool = False) -> dict:
        """Sign off `count` items and wait until every one is delivered on all four channels.

        `rate` None: sign everything off first, then start the workers (a backlog: throughput).
        `rate` R: start the workers first, then sign off R items a second (latency)."""
        log(f"scenario {name}: {count} items, latency {latency or 0}, {channel_workers} channel worker(s), "
            f"{'paced at %g/s' % rate if rate else 'backlog'}")
        sdir = self.root / name
        sdir.mkdir()
        db = sdir / "ck.db"
        newsroom.copy_template(self.template(count), db)
        extra = env
        env = self.use(db, sdir / "var", prefix=f"bench-{uuid.uuid4().hex[:8]}.", extra=extra)
        ensure_topics(self.bootstrap)
        platforms, urls = start_platforms(sdir, self.units)
        memory = PeakMemory().start()
        workers = BenchWorkers(env, sdir)
        try:
            newsroom.point_targets(urls)
            for emulator, ms in (latency or {}).items():
                httpx.post(f"{urls[emulator]}/_sandbox/faults", json={"latency_ms": ms}, timeout=10).raise_for_status()
            memory.watch("broker (JVM)", self.broker.pid if self.broker else None)
            memory.watch("platform emulators", platforms.pid)
            memory.watch("bench (signs off)", os.getpid())
            waiting = newsroom.waiting_items()[:count]
            sign_off_s = None
            if rate is None:
                started = time.perf_counter()
                for item_id, unit in waiting:
                    newsroom.sign_off(item_id, unit)
                sign_off_s = time.perf_counter() - started
            procs = [("router", workers.start("router", wait_ready=False))]
            if per_channel:  # one process per channel, so the four share the two cores
                procs += [(f"channel worker {role}", workers.start(role, wait_ready=False)) for role in CHANNEL_ROLES]
            else:
                procs += [(f"channel worker {i + 1}", workers.start(*CHANNEL_ROLES, wait_ready=False))
                          for i in range(channel_workers)]
            procs.append(("relay", workers.start("relay", wait_ready=False)))
            for label, proc in procs:
                memory.watch(label, proc.pid)
            for _, log_path in workers.procs:
                ready = b"relay on" if log_path.name.endswith("-relay.log") else b"[^Worker]: Ready"
                wait_until(lambda p=log_path, r=ready: r in p.read_bytes(), 120, f"{log_path.name} ready")
            if any(proc.poll() is not None for _, proc in procs):
                raise RuntimeError(f"a worker exited:\n{workers.logs()}")
            if rate is not None:
                started = time.perf_counter()
                for n, (item_id, unit) in enumerate(waiting):
                    delay = started + n / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    newsroom.sign_off(item_id, unit)
                sign_off_s = time.perf_counter() - started
            finished = _wait_delivered(4 * count, timeout)
            result = figures(count) | {"name": name, "latency_ms_per_call": latency or {}, "channel_workers":
                                       channel_workers, "paced_items_per_s": rate, "finished": finished,
                                       "deliver_batch": int(env["CK_DELIVER_BATCH"]),
                                       "ledger": ledger_counts(), "at_platforms": at_platforms(urls)}
            result["sign_off_per_s"] = round(count / sign_off_s, 1) if sign_off_s else None
            result["load_average_1m"] = round(os.getloadavg()[0], 1)  # other work on the machine, for context
            if keep_topics:
                result["_env"] = env
        finally:
            memory.sample()  # CPU up to the end of the work, before the workers stop
            workers.stop_all()
            result_memory = memory.stop()
            platforms.terminate()
            platforms.wait(20)
        result["peak_rss_mb"] = result_memory
        result["cpu_s"] = memory.cpu_seconds()
        kitchen_cpu = sum(v for k, v in result["cpu_s"].items() if k in KITCHEN_PROCESSES or k.startswith("channel"))
        result["kitchen_cpu_ms_per_delivery"] = round(1000 * kitchen_cpu / (4 * count), 2)
        log(f"scenario {name}: {_short(result)}")
        return result

    def sequential(self, name: str, count: int, latency: dict | None = None) -> dict:
        """Baseline (b) on its own store and emulators: sign off, then publish one item at a time."""
        log(f"baseline {name}: sequential publish button, {count} items, latency {latency or 0}")
        sdir = self.root / name
        sdir.mkdir()
        db = sdir / "ck.db"
        newsroom.copy_template(self.template(count), db)
        self.use(db, sdir / "var", prefix=f"bench-{uuid.uuid4().hex[:8]}.")
        platforms, urls = start_platforms(sdir, self.units)
        try:
            newsroom.point_targets(urls)
            for emulator, ms in (latency or {}).items():
                httpx.post(f"{urls[emulator]}/_sandbox/faults", json={"latency_ms": ms}, timeout=10).raise_for_status()
            for item_id, unit in newsroom.waiting_items()[:count]:
                newsroom.sign_off(item_id, unit)
            result = baselines.sequential_publish(count) | {"at_platforms": at_platforms(urls)}
        finally:
            platforms.terminate()
            platforms.wait(20)
        log(f"baseline {name}: {result}")
        return result


def start_platforms(sdir: Path, units: list[str]) -> tuple[subprocess.Popen, dict]:
    out = sdir / "platforms.json"
    proc = subprocess.Popen([sys.executable, "-m", "tests.bench.platforms", str(out), *units], cwd=ROOT,
                            stdout=(sdir / "platforms.log").open("wb"), stderr=subprocess.STDOUT)
    wait_until(lambda: proc.poll() is not None or out.exists(), 60, "the platform emulators")
    if proc.poll() is not None:
        raise RuntimeError((sdir / "platforms.log").read_text())
    return proc, json.loads(out.read_text())


def at_platforms(urls: dict) -> dict:
    """How many posts each platform holds, and how many items it holds more than once."""
    wechat = httpx.get(f"{urls['wechat']}/_sandbox/posts", timeout=60).json()
    weibo = httpx.get(f"{urls['weibo']}/_sandbox/posts", timeout=60).json()
    hooks = httpx.get(f"{urls['webhooks']}/_sandbox/posts", timeout=60).json()
    wechat_urls = [p["content_source_url"] for p in wechat]
    return {"wechat": len(wechat), "weibo": len(weibo), "webhooks": len(hooks["posts"]),
            "doubled": (len(wechat_urls) - len(set(wechat_urls))) + hooks["duplicates"]}


def _wait_delivered(expected: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ledger_counts().get("succeeded", 0) >= expected:
            return True
        time.sleep(0.5)
    return False


def _short(r: dict) -> str:
    return (f"{r.get('deliveries_per_s')} deliveries/s, all channels p99 {r['all_channels_ms']['p99']} ms, "
            f"skew p99 {r['skew_ms']['p99']} ms, finished={r['finished']}, ledger={r['ledger']}")


def ratios(results: dict) -> dict:
    """Each target beside what was measured."""
    out = {}
    burst = results["scenarios"].get("backlog-0ms-1w")
    bare = results["baselines"].get("bare_relay")
    seq0 = results["baselines"].get("sequential-0ms")
    seql = results["baselines"].get("sequential-latency")
    if burst:
        out["deliveries_per_s"] = {"measured": burst["deliveries_per_s"], "target": TARGETS["deliveries_per_s"],
                                   "ratio": _ratio(burst["deliveries_per_s"], TARGETS["deliveries_per_s"])}
    if burst and bare:
        share = _ratio(burst["deliveries_per_s"], bare["messages_per_s"])
        out["share_of_bare_relay"] = {"measured": share, "target": TARGETS["share_of_bare_relay"],
                                      "ratio": _ratio(share, TARGETS["share_of_bare_relay"])}
    for label, kitchen, seq in (("times_sequential_0ms", burst, seq0),
                                ("times_sequential_latency", results["scenarios"].get("backlog-latency-1w"), seql)):
        if kitchen and seq:
            times = _ratio(kitchen["deliveries_per_s"], seq["deliveries_per_s"])
            out[label] = {"measured": times, "target": TARGETS["times_sequential"],
                          "ratio": _ratio(times, TARGETS["times_sequential"])}
    for label, skew_label, name in (
            ("p99_all_channels_ms_at_50_per_s", "skew_p99_ms", "paced-50-0ms"),
            ("p99_all_channels_ms_at_50_per_s_latency", "skew_p99_ms_latency", "paced-50-latency"),
            ("p99_all_channels_ms_at_10_per_s", "skew_p99_ms_at_10_per_s",
             "paced-10-0ms")):
        paced = results["scenarios"].get(name)
        if paced:
            p99 = paced["all_channels_ms"]["p99"]
            out[label] = {"measured": p99, "target": TARGETS["p99_all_channels_ms_at_50_per_s"],
                          "ratio": _ratio(TARGETS["p99_all_channels_ms_at_50_per_s"], p99)}
            skew = paced["skew_ms"]["p99"]
            out[skew_label] = {
                "measured": skew, "target": TARGETS["skew_p99_ms"], "ratio": _ratio(TARGETS["skew_p99_ms"], skew)}
    return out


def _ratio(a, b):
    return float(f"{a / b:.3g}") if a and b else None


def table(results: dict) -> str:
    lines = ["", "Central Kitchen distribution benchmark — " + results["started"] + f" on {results['machine']}", ""]
    latency = "latency p50/p95/p99 ms (portal·wechat·weibo·appfeed)"
    head = (f"{'scenario':<26}{'items':>6}{'deliv/s':>9}{'items/s':>9}  {latency:<62}"
            f"{'all p99':>10}{'skew p50/p99':>18}{'once':>6}")
    lines += [head, "-" * len(head)]
    loads = []
    for name, r in results["scenarios"].items():
        lat = " · ".join("/".join(_n(r["latency_ms"].get(c, {}).get(p)) for p in ("p50", "p95", "p99"))
                         for c in CHANNEL_ROLES)
        once = "yes" if r["at_platforms"]["doubled"] == 0 and r["finished"] else "NO"
        loads.append(r.get("load_average_1m"))
        lines.append(f"{name:<26}{r['items']:>6}{_n(r.get('deliveries_per_s')):>9}{_n(r.get('items_per_s')):>9}  "
                     f"{lat:<62}{_n(r['all_channels_ms']['p99']):>10}"
                     f"{_n(r['skew_ms']['p50']) + '/' + _n(r['skew_ms']['p99']):>18}{once:>6}")
    lines += ["", "machine load (1-minute average at the end of each scenario; 2 cores): "
              + ", ".join(_n(x) for x in loads)]
    lines += ["", "peak RSS (MB) per process:"]
    for name, r in results["scenarios"].items():
        lines.append(f"  {name:<26}" + ", ".join(f"{k} {v:g}" for k, v in r["peak_rss_mb"].items()))
    lines += ["", "CPU seconds per process while watched (kitchen = router + channel workers + relay):"]
    for name, r in results["scenarios"].items():
        if r.get("cpu_s"):
            lines.append(f"  {name:<26}" + ", ".join(f"{k} {v:g}" for k, v in r["cpu_s"].items())
                         + f"; kitchen {r['kitchen_cpu_ms_per_delivery']:g} ms per delivery")
    lines += ["", "baselines (same run, same broker, same emulators):"]
    for name, b in results["baselines"].items():
        lines.append(f"  {name:<26}" + ", ".join(f"{k} {v}" for k, v in b.items() if k != "at_platforms"))
    lines += ["", "targets (ratio ≥ 1 means met):"]
    for name, t in results["ratios"].items():
        lines.append(f"  {name:<42} measured {t['measured']!s:>10}   target {t['target']!s:>6}   ratio {t['ratio']}")
    if results.get("scaling"):
        lines += ["", "scaling:"] + [f"  {k}: {v}" for k, v in results["scaling"].items()]
    return "\n".join(lines)


def _n(value) -> str:
    return "-" if value is None else f"{value:.0f}" if abs(value) >= 100 else f"{value:g}"


def scaling(results: dict) -> dict:
    s = results["scenarios"]
    out = {}
    small, large = s.get("backlog-0ms-1w"), s.get("backlog-0ms-1w-10k")
    if small and large:
        out["time_10k_over_1k"] = _ratio(large["window_s"], small["window_s"])  # linear would be 10
        out["channel_worker_rss_10k_over_1k"] = _ratio(large["peak_rss_mb"].get("channel worker 1"),
                                                       small["peak_rss_mb"].get("channel worker 1"))
    two = s.get("backlog-0ms-2w")
    if small and two:
        out["deliveries_per_s_2w_over_1w"] = _ratio(two["deliveries_per_s"], small["deliveries_per_s"])
    for label, batched, one in (("0ms", small, s.get("backlog-0ms-1w-batch1")),
                                ("latency", s.get("backlog-latency-1w"), s.get("backlog-latency-1w-batch1"))):
        if batched and one:
            out[f"deliveries_per_s_batch{batched['deliver_batch']}_over_batch1_{label}"] = _ratio(
                batched["deliveries_per_s"], one["deliveries_per_s"])
    return out


def _save_partial(out: Path, results: dict) -> None:
    partial = out.with_suffix(".partial.json")
    partial.parent.mkdir(parents=True, exist_ok=True)
    clean = {**results, "scenarios": {k: {f: v for f, v in r.items() if f != "_env"}
                                      for k, r in results["scenarios"].items()}}
    partial.write_text(json.dumps(clean, indent=2, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--items", type=int, default=1000, help="items in the backlog scenarios (default 1000)")
    parser.add_argument("--large", action="store_true", help="also 10,000 items (scaling); slow here, see README")
    parser.add_argument("--latency-items", type=int, default=200,
                        help="items in the 50–200 ms latency scenarios (default 200)")
    parser.add_argument("--paced-seconds", type=float, default=20, help="length of the 50 items/s runs (default 20)")
    parser.add_argument("--sequential-items", type=int, default=100, help="items for the publish-button baseline")
    parser.add_argument("--units", type=int, default=6, help="units (each with 4 targets), 1–6 (default 6)")
    parser.add_argument("--only", action="append", help="run only these scenarios/baselines (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "latest.json")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (stores, worker logs)")
    parser.add_argument("--table", type=Path, metavar="JSON", help="print the table of an earlier run and stop")
    args = parser.parse_args(argv)
    if args.table:
        results = json.loads(args.table.read_text())
        results["ratios"], results["scaling"] = ratios(results), scaling(results)
        print(table(results))
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop workers, emulators and broker on the way out

    work = Path(tempfile.mkdtemp(prefix="ck-bench-"))
    bootstrap = os.environ.get("CK_KAFKA_BOOTSTRAP")
    broker = None
    if not bootstrap:
        broker = LocalBroker(work / "kafka")
        broker.start(timeout=180)
        bootstrap = broker.bootstrap
    bench = Bench(work, bootstrap, broker, newsroom.unit_codes(args.units))
    paced = int(50 * args.paced_seconds)
    plan = {
        "backlog-0ms-1w": dict(count=args.items),
        "backlog-0ms-2w": dict(count=args.items, channel_workers=2),
        "backlog-0ms-per-channel": dict(count=args.items, per_channel=True),
        # the channel agents as they were: one delivery after another (CK_DELIVER_BATCH=1)
        "backlog-0ms-1w-batch1": dict(count=min(args.items, 300), env={"CK_DELIVER_BATCH": "1"}),
        "paced-50-0ms": dict(count=paced, rate=50.0),
        # below this machine's capacity: what latency and skew are when the kitchen keeps up
        "paced-10-0ms": dict(count=int(10 * args.paced_seconds), rate=10.0),
        "backlog-latency-1w": dict(count=args.latency_items, latency=REALISTIC),
        "backlog-latency-1w-batch1": dict(count=min(args.latency_items, 40), latency=REALISTIC,
                                          env={"CK_DELIVER_BATCH": "1"}),
        "paced-50-latency": dict(count=paced, rate=50.0, latency=REALISTIC, timeout=300),
    }
    if args.large:
        plan["backlog-0ms-1w-10k"] = dict(count=10_000, timeout=3600)
    wanted = set(args.only or [])
    bench.template(max(args.items, paced, args.latency_items, args.sequential_items))
    results = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
               "units": args.units, "targets": TARGETS, "scenarios": {}, "baselines": {}}
    try:
        for name, kwargs in plan.items():
            if wanted and name not in wanted:
                continue
            results["scenarios"][name] = bench.scenario(name, keep_topics=name == "backlog-0ms-1w", **kwargs)
            _save_partial(args.out, results)  # a long run stopped half-way keeps what it measured
        first = results["scenarios"].get("backlog-0ms-1w")
        if first and (not wanted or "bare_relay" in wanted):
            env = first.pop("_env")
            os.environ.update(env)
            get_settings.cache_clear()
            messages = baselines.read_deliver_messages(bootstrap, 4 * first["items"])
            log(f"baseline bare_relay: {len(messages)} deliver messages")
            results["baselines"]["bare_relay"] = baselines.bare_relay(bootstrap, messages,
                                                                      get_settings().kafka_partitions)
        if not wanted or "sequential-0ms" in wanted:
            results["baselines"]["sequential-0ms"] = bench.sequential("sequential-0ms", args.sequential_items)
        if not wanted or "sequential-latency" in wanted:
            results["baselines"]["sequential-latency"] = bench.sequential(
                "sequential-latency", max(10, args.sequential_items // 5), REALISTIC)
    finally:
        if broker:
            broker.stop()
    for r in results["scenarios"].values():
        r.pop("_env", None)
    results["ratios"] = ratios(results)
    results["scaling"] = scaling(results)
    print(table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"\nJSON: {args.out}" + (f"\nworking folder: {work}" if args.keep else ""))
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
