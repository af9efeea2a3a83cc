"""What the bench reads back: percentiles, peak memory of each process, and the figures of one run
taken from the store itself (outbox and ledger timestamps), so no clock of the bench is involved."""

import math
import threading
from collections import defaultdict
from datetime import datetime

import psutil
from sqlmodel import select

from pipeline.store.db import session_scope
from pipeline.store.models import Delivery, OutboxEntry


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0–100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values: list[float], ps=(50, 95, 99)) -> dict[str, float | None]:
    return {f"p{p}": _ms(percentile(values, p)) for p in ps}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


class PeakMemory:
    """Samples the resident memory (RSS) of named processes every `interval` (children not included),
    and the CPU time each used while watched."""

    def __init__(self, interval: float = 0.5):
        self.interval = interval
        self.procs: dict[str, psutil.Process] = {}
        self.peak: dict[str, int] = defaultdict(int)
        self.cpu_start: dict[str, float] = {}
        self.cpu_last: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int | None) -> None:
        if pid:
            self.procs[name] = proc = psutil.Process(pid)
            self.cpu_start[name] = self.cpu_last[name] = _cpu(proc)

    def start(self) -> "PeakMemory":
        self._thread.start()
        return self

    def sample(self) -> None:
        for name, proc in list(self.procs.items()):
            try:
                rss = proc.memory_info().rss
                self.cpu_last[name] = _cpu(proc)
            except psutil.Error:
                continue
            self.peak[name] = max(self.peak[name], rss)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> dict[str, float]:
        self.sample()
        self._stop.set()
        self._thread.join(5)
        return {name: round(rss / 2**20, 1) for name, rss in self.peak.items()}

    def cpu_seconds(self) -> dict[str, float]:
        """CPU (user + system) each process used while watched (up to its last sample)."""
        return {name: round(self.cpu_last[name] - self.cpu_start[name], 2) for name in self.cpu_start}


def _cpu(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def ledger_counts() -> dict[str, int]:
    with session_scope() as session:
        counts: dict[str, int] = defaultdict(int)
        for state in session.exec(select(Delivery.state)):
            counts[state] += 1
        return dict(counts)


def figures(items: int) -> dict:
    """Throughput, latency from sign-off to delivered per channel, all-channel latency and skew."""
    with session_scope() as session:
        outbox = {o.item_id: o for o in session.exec(select(OutboxEntry).where(OutboxEntry.event_type == "publish"))}
        rows = list(session.exec(select(Delivery).where(Delivery.state == "succeeded")))
    by_item: dict[int, dict[str, datetime]] = defaultdict(dict)
    per_channel: dict[str, list[float]] = defaultdict(list)
    for d in rows:
        signed = outbox[d.item_id].created_at
        by_item[d.item_id][d.channel] = d.succeeded_at
        per_channel[d.channel].append((d.succeeded_at - signed).total_seconds())
    complete = {i: chans for i, chans in by_item.items() if len(chans) == 4}
    all_channels = [(max(c.values()) - outbox[i].created_at).total_seconds() for i, c in complete.items()]
    skew = [(max(c.values()) - min(c.values())).total_seconds() for c in complete.values()]
    sent = [o.sent_at for o in outbox.values() if o.sent_at]
    signed = [o.created_at for o in outbox.values()]
    done = [d.succeeded_at for d in rows]
    result = {"items": items, "deliveries": len(rows), "complete_items": len(complete)}
    if sent and done:
        start = min(sent)
        window = (max(done) - start).total_seconds()
        result |= {"window_s": round(window, 2),
                   "items_per_s": round(len(complete) / window, 1) if window else None,
                   "deliveries_per_s": round(len(rows) / window, 1) if window else None,
                   "sign_off_span_s": round((max(signed) - min(signed)).total_seconds(), 2)}
    result["latency_ms"] = {c: spread(v) for c, v in sorted(per_channel.items())}
    result["all_channels_ms"] = spread(all_channels)
    result["skew_ms"] = spread(skew, (50, 99))
    return result
