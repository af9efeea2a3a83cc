"""A real single-node Apache Kafka 4.x broker (KRaft) for development, tests and CI.

The jars come from Maven Central (`deploy/kafka/pom.xml`, copied into `deploy/kafka/lib`) and run
on the machine's Java 17+. Everything one broker writes lives under its data directory:

    server.properties   regenerated on every start
    broker.json         ports and cluster id, so a later start (any process) reuses them
    broker.pid          pid of the running broker
    kraft/              log.dirs: topic partitions and the KRaft metadata log
    logs/               server.log (Log4j 2) and kafka.out (JVM stdout/stderr)

`deploy/kafka/kafka.sh` is a thin shell over the CLI at the bottom of this module.
"""

import argparse
import base64
import ctypes
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import TracebackType

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

DEPLOY_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kafka"
LIB_DIR = DEPLOY_DIR / "lib"
POM = DEPLOY_DIR / "pom.xml"
LOG4J_CONFIG = DEPLOY_DIR / "log4j2.properties"
_FETCH_STAMP = LIB_DIR / ".fetched"  # holds the sha256 of the pom the jars were copied for
_JVM_HEAP = "-Xmx512m"  # idle RSS is about 210 MiB with this; the broker itself needs far less heap
_JVM_OPTIONS = ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError",
                "-Djava.awt.headless=true"]
_HOST = "127.0.0.1"


class BrokerError(RuntimeError):
    """The local broker could not be fetched, formatted, started or stopped."""


class LocalBroker:
    """One Kafka process (broker and controller in one) on 127.0.0.1, owned by one data directory.

    Ports not given are taken from the data directory's earlier run, else chosen free, so
    `restart()` and a later `start()` find the same data on the same ports.
    """

    def __init__(self, data_dir: Path, port: int | None = None, controller_port: int | None = None):
        self.data_dir = Path(data_dir).resolve()
        saved = self._load_state()
        self.port: int = port or saved.get("port") or _free_port()
        self.controller_port: int = (
            controller_port or saved.get("controller_port") or _free_port(exclude=self.port)
        )
        if self.port == self.controller_port:
            raise BrokerError(f"broker and controller cannot share port {self.port}")
        self.cluster_id: str = saved.get("cluster_id") or _new_cluster_id()
        self._proc: subprocess.Popen | None = None

    # -- where things are -------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        return f"{_HOST}:{self.port}"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log_dirs(self) -> Path:
        return self.data_dir / "kraft"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "broker.json"

    # -- lifecycle --------------------------------------------------------------------------

    @staticmethod
    def ensure_jars() -> Path:
        """Copy the broker's jars from Maven Central into deploy/kafka/lib unless already there."""
        if _fetch_is_current():
            return LIB_DIR
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError("Maven (mvn) is needed once to fetch the Kafka jars; it is not on PATH")
        work_dir = DEPLOY_DIR / "target"  # gitignored, like lib/
        work_dir.mkdir(exist_ok=True)
        with open(work_dir / "fetch.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be fetching right now
            if _fetch_is_current():
                return LIB_DIR
            staging = work_dir / "lib.partial"  # lib/ appears complete or not at all
            shutil.rmtree(staging, ignore_errors=True)
            result = subprocess.run(
                [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
                 "-DincludeScope=runtime", f"-DoutputDirectory={staging}"],
                capture_output=True, text=True,
            )
            if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
                shutil.rmtree(staging, ignore_errors=True)
                raise BrokerError(f"mvn could not fetch the Kafka jars:\n{result.stdout}{result.stderr}")
            (staging / _FETCH_STAMP.name).write_text(_pom_digest())
            shutil.rmtree(LIB_DIR, ignore_errors=True)
            staging.rename(LIB_DIR)
        return LIB_DIR

    def start(self, timeout: float = 60, *, detach: bool = False) -> None:
        """Start the broker (formatting storage the first time) and return once it answers a
        metadata request; `timeout` counts from the JVM's launch. Does nothing if already running.

        Without `detach` the broker is bound to the calling thread (Linux PR_SET_PDEATHSIG): it
        gets SIGTERM when that thread or its process ends, so a killed test run leaves no JVM
        behind. Call it from a long-lived thread. The CLI detaches, to outlive its own process.
        """
        if self.is_running():
            return
        self.ensure_jars()
        java = _java()
        for port in (self.port, self.controller_port):
            if _accepts_connections(port):
                raise BrokerError(f"port {port} on {_HOST} is already in use")
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self._save_state()
        self.properties_file.write_text(self._server_properties())
        if not (self.log_dirs / "meta.properties").exists():
            self._format(java)

        started = time.monotonic()
        with open(self.logs_dir / "kafka.out", "ab") as out:
            self._proc = subprocess.Popen(
                [java, _JVM_HEAP, *_JVM_OPTIONS, *self._logging_options(),
                 "-cp", f"{LIB_DIR}/*", "kafka.Kafka", str(self.properties_file)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=self.data_dir, start_new_session=True,
                preexec_fn=None if detach else _die_with_parent,
            )
        self.pid_file.write_text(f"{self._proc.pid}\n")
        while not _metadata_answers(self.port):
            code = self._proc.poll()
            if code is not None:
                self._forget_process()
                raise BrokerError(f"Kafka exited with code {code}\n{self.log_tail()}")
            if time.monotonic() - started > timeout:
                self.kill()
                raise BrokerError(f"Kafka did not answer on {self.bootstrap} within {timeout}s\n"
                                  f"{self.log_tail()}")
            time.sleep(0.2)

    def stop(self, timeout: float = 30) -> None:
        """Shut down cleanly (SIGTERM); SIGKILL if still running after `timeout` seconds."""
        pid = self.pid
        if pid is None:
            return
        _signal(pid, signal.SIGTERM)
        if not self._wait_exit(pid, timeout):
            _signal(pid, signal.SIGKILL)
            self._wait_exit(pid, 10)
        self._forget_process()

    def kill(self) -> None:
        """SIGKILL the broker with no shutdown at all, as a crash would (chaos tests)."""
        pid = self.pid
        if pid is None:
            return
        _signal(pid, signal.SIGKILL)
        self._wait_exit(pid, 10)
        self._forget_process()

    def restart(self, timeout: float = 60) -> None:
        """Stop cleanly and start again on the same ports and data."""
        detach = self._proc is None and self.pid is not None  # started by another process (CLI)
        self.stop()
        self.start(timeout, detach=detach)

    def __enter__(self) -> "LocalBroker":
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- state --------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """Pid of this data directory's running broker, started by this or another process."""
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        try:
            pid = int(self.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        # The pid may have been reused since: trust it only if it runs this very broker.
        if b"kafka.Kafka" in cmdline and str(self.properties_file).encode() in cmdline:
            return pid
        return None

    def is_running(self) -> bool:
        return self.pid is not None

    def rss_bytes(self) -> int | None:
        """Resident memory of the broker process (from /proc), or None when it is not running."""
        pid = self.pid
        if pid is None:
            return None
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return None

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for name in ("kafka.out", "server.log"):
            path = self.logs_dir / name
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} ---\n" + "\n".join(text))
        return "\n".join(parts)

    # -- internals ----------------------------------------------------------------------------

    def _server_properties(self) -> str:
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"{_HOST}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{_HOST}:{self.port},CONTROLLER://{_HOST}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{_HOST}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.log_dirs),
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # Light: one machine, tests and a demo. Fewer internal partitions and threads,
            # small segments and a small log-cleaner buffer (its 128 MiB default is heap).
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.num.partitions": "10",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "log.segment.bytes": str(16 * 1024 * 1024),
            "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
            "log.retention.hours": "24",
            # After a crash (kill()), the new process may only register once the old one's
            # session has expired: 5 s instead of the default 9 s.
            "broker.heartbeat.interval.ms": "1000",
            "broker.session.timeout.ms": "5000",
        }
        return "".join(f"{key}={value}\n" for key, value in props.items())

    def _logging_options(self) -> list[str]:
        return [f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", f"-Dkafka.logs.dir={self.logs_dir}"]

    def _format(self, java: str) -> None:
        result = subprocess.run(
            [java, "-Xmx256m", *_JVM_OPTIONS, *self._logging_options(), "-cp", f"{LIB_DIR}/*",
             "kafka.tools.StorageTool", "format", "--standalone",
             "-t", self.cluster_id, "-c", str(self.properties_file)],
            capture_output=True, text=True, cwd=self.data_dir,
        )
        if result.returncode != 0:
            raise BrokerError(f"formatting {self.log_dirs} failed:\n{result.stdout}{result.stderr}")

    def _load_state(self) -> dict:
        try:
            return json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _save_state(self) -> None:
        state = {"port": self.port, "controller_port": self.controller_port, "cluster_id": self.cluster_id}
        self._state_file.write_text(json.dumps(state, indent=2) + "\n")

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        if self._proc is not None and self._proc.pid == pid:
            try:
                self._proc.wait(timeout)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # not our Popen: watch /proc instead
            if not _alive(pid):
                return True
            time.sleep(0.1)
        return False

    def _forget_process(self) -> None:
        self.pid_file.unlink(missing_ok=True)
        self._proc = None


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        raise BrokerError("Java 17+ is needed to run Kafka; no `java` found (JAVA_HOME or PATH)")
    return java


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:  # it exited meanwhile
        pass


def _alive(pid: int) -> bool:
    """False once the process has exited, including as a zombie not yet reaped by its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def _fetch_is_current() -> bool:
    try:
        return _FETCH_STAMP.read_text() == _pom_digest()
    except OSError:
        return False


def _new_cluster_id() -> str:
    """A Kafka cluster id (base64url of a random UUID, as StorageTool random-uuid makes) without a JVM."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):  # Kafka rejects ids that read like a command-line flag
            return cluster_id


def _free_port(exclude: int | None = None) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind((_HOST, 0))
            port = sock.getsockname()[1]
        if port != exclude:
            return port


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=1):
            return True
    except OSError:
        return False


def _metadata_answers(port: int) -> bool:
    """True once the broker answers a metadata request and lists itself."""
    if not _accepts_connections(port):
        return False
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=f"{_HOST}:{port}", client_id="ck-local-broker-probe",
            request_timeout_ms=5000, bootstrap_timeout_ms=5000,
        )
    except (KafkaError, OSError):
        return False
    try:
        return bool(admin.describe_cluster()["brokers"])
    except KafkaError:
        return False
    finally:
        admin.close()


# Looked up here, not in the forked child, where loading a library could deadlock.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the forked child: have Linux SIGTERM it when the thread that started it exits."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


# -- CLI: python -m pipeline.kafka.local_broker fetch|start|stop|status ----------------------


def _default_data_dir() -> Path:
    from pipeline.config import get_settings

    return Path(os.environ.get("CK_KAFKA_DATA_DIR") or get_settings().data_dir / "kafka")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.kafka.local_broker",
        description="Local single-node Kafka 4.x (KRaft) on 127.0.0.1 from Maven Central jars.",
    )
    parser.add_argument("command", choices=["fetch", "start", "stop", "status"])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="default: $CK_KAFKA_DATA_DIR, else <CK_DATA_DIR>/kafka (./var/kafka)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CK_KAFKA_PORT", 9092)),
                        help="broker port (default: $CK_KAFKA_PORT or 9092)")
    parser.add_argument("--controller-port", type=int,
                        default=int(os.environ.get("CK_KAFKA_CONTROLLER_PORT", 9093)),
                        help="KRaft controller port (default: $CK_KAFKA_CONTROLLER_PORT or 9093)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for start/stop")
    args = parser.parse_args(argv)

    if args.command == "fetch":
        started = time.monotonic()
        lib = LocalBroker.ensure_jars()
        print(f"{len(list(lib.glob('*.jar')))} jars in {lib} ({time.monotonic() - started:.1f}s)")
        return 0

    data_dir = args.data_dir or _default_data_dir()
    broker = LocalBroker(data_dir)  # a running broker is described by its saved ports
    try:
        if args.command == "start":
            if not broker.is_running():
                broker = LocalBroker(data_dir, args.port, args.controller_port)
                started = time.monotonic()
                broker.start(args.timeout, detach=True)
                print(f"Kafka started in {time.monotonic() - started:.1f}s "
                      f"(pid {broker.pid}, data {broker.data_dir})", file=sys.stderr)
            print(broker.bootstrap)
        elif args.command == "stop":
            broker.stop(args.timeout)
            print("stopped", file=sys.stderr)
        elif broker.is_running():
            rss = broker.rss_bytes() or 0
            print(f"running pid={broker.pid} bootstrap={broker.bootstrap} "
                  f"rss={rss // 2**20}MiB data={broker.data_dir}")
        else:
            print(f"stopped data={broker.data_dir}")
            return 3  # LSB "program is not running"
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
