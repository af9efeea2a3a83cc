"""Liveness and readiness, the same for the API and every worker.

- **alive** (`/healthz`): the process can answer; for a worker also that its event loop ticked
  within `CK_HEALTH_STALL_SECONDS` (a blocked or dead loop is what faust's quiet stalls look like,
  and only a restart cures it).
- **ready** (`/readyz`): the database answers `SELECT 1` and the Kafka cluster answers a metadata
  request; a worker also has to have started its agents. Which checks a process *requires* differs:
  the API stays ready while Kafka is away, because sign-off only writes the outbox (the relay sends
  later) — Kafka is still reported in the body, so the outage is visible.

Checks are cached for a moment so frequent probes cost one query and one request, and bounded by
timeouts so a probe never hangs on a dead server.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

CHECK_TIMEOUT_SECONDS = 3.0
CACHE_SECONDS = 2.0


class Heartbeat:
    """Ticked by the worker's event loop (a faust timer); read by the health endpoint's thread."""

    def __init__(self) -> None:
        self._last: float | None = None
        self._born = time.monotonic()

    def beat(self) -> None:
        self._last = time.monotonic()

    @property
    def started(self) -> bool:
        return self._last is not None

    def age(self) -> float:
        """Seconds since the last tick (since the process started, before the first one)."""
        return time.monotonic() - (self._last if self._last is not None else self._born)


HEARTBEAT = Heartbeat()  # one per process: the worker's faust app ticks it


@dataclass
class Check:
    ok: bool
    detail: str = ""
    ms: float = 0.0

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, "ms": round(self.ms, 1)}


def _timed(probe: Callable[[], str]) -> Check:
    started = time.monotonic()
    try:
        detail = probe()
        return Check(True, detail, (time.monotonic() - started) * 1000)
    except Exception as exc:  # a failed check is an answer, not an error
        from pipeline.observability.logs import redact

        return Check(False, redact(f"{type(exc).__name__}: {exc}")[:300], (time.monotonic() - started) * 1000)


@dataclass
class Health:
    """The checks of one process. `required` decide readiness; `reported` only show in the body."""

    database_url: str
    kafka_bootstrap: str | None
    required: tuple[str, ...] = ("database", "kafka")
    heartbeat: Heartbeat | None = None  # workers: liveness follows the event loop
    stall_seconds: float = 30.0
    _cache: dict[str, tuple[float, Check]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _engine = None
    _admin = None

    # -- the probes -----------------------------------------------------------------------------

    def _database(self) -> str:
        if self._engine is None:
            args = {"connect_timeout": int(CHECK_TIMEOUT_SECONDS)} if self.database_url.startswith("postgresql") \
                else {"timeout": CHECK_TIMEOUT_SECONDS}
            self._engine = create_engine(self.database_url, poolclass=NullPool, connect_args=args)
        with self._engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return self._engine.dialect.name

    def _kafka(self) -> str:
        from kafka import KafkaAdminClient

        if not self.kafka_bootstrap:
            raise RuntimeError("CK_KAFKA_BOOTSTRAP is not set")
        if self._admin is None:
            ms = int(CHECK_TIMEOUT_SECONDS * 1000)
            self._admin = KafkaAdminClient(bootstrap_servers=self.kafka_bootstrap, client_id="ck-health",
                                           request_timeout_ms=ms, bootstrap_timeout_ms=ms)
        try:
            brokers = self._admin.describe_cluster()["brokers"]
        except Exception:
            self._admin.close()
            self._admin = None
            raise
        return f"{len(brokers)} broker(s)"

    def check(self, name: str) -> Check:
        with self._lock:  # one probe at a time; the answer is shared for CACHE_SECONDS
            at, cached = self._cache.get(name, (0.0, None))
            if cached is not None and time.monotonic() - at < CACHE_SECONDS:
                return cached
            result = _timed(self._database if name == "database" else self._kafka)
            self._cache[name] = (time.monotonic(), result)
            return result

    # -- the answers ----------------------------------------------------------------------------

    def live(self) -> tuple[bool, dict]:
        if self.heartbeat is None or not self.heartbeat.started:
            return True, {"status": "alive"}  # starting up: readiness says when it can work
        age = self.heartbeat.age()
        ok = age <= self.stall_seconds
        return ok, {"status": "alive" if ok else "stalled", "event_loop_tick_age_seconds": round(age, 1)}

    def ready(self) -> tuple[bool, dict]:
        names = ["database"] + (["kafka"] if self.kafka_bootstrap or "kafka" in self.required else [])
        checks = {name: self.check(name) for name in names}
        ok = all(checks[name].ok for name in self.required if name in checks)
        body: dict = {"checks": {name: c.as_dict() for name, c in checks.items()}}
        if self.heartbeat is not None:
            started = self.heartbeat.started
            body["checks"]["agents"] = {"ok": started, "detail": "running" if started else "starting"}
            ok = ok and started
        degraded = any(not c.ok for c in checks.values())
        body["status"] = "unavailable" if not ok else ("degraded" if degraded else "ok")
        return ok, body
