"""`ck worker` (faust agents, and the relay) and `ck relay` (the relay alone)."""

import signal
import threading

import typer

from pipeline.cli.common import err, out
from pipeline.config import get_settings
from pipeline.observability.logs import setup_logging

ROLES_HELP = "roles to run: router, relay, portal, wechat, weibo, appfeed (repeat --role); default all"


def _bootstrap() -> str:
    settings = get_settings()
    if not settings.kafka_bootstrap:
        err.print("[red]error:[/red] CK_KAFKA_BOOTSTRAP is not set; start a broker with "
                  "`bash deploy/kafka/kafka.sh start` and export the address it prints")
        raise typer.Exit(2)
    return settings.kafka_bootstrap


def _serve_health(settings, heartbeat: bool) -> None:
    """/metrics /healthz /readyz on CK_METRICS_PORT, when set (deploy/README.md)."""
    if settings.metrics_port is None:
        return
    from pipeline.observability.health import HEARTBEAT, Health
    from pipeline.observability.metrics import export_heartbeat
    from pipeline.observability.server import HealthServer

    if heartbeat:
        export_heartbeat(HEARTBEAT.age)
    health = Health(settings.database_url, settings.kafka_bootstrap, heartbeat=HEARTBEAT if heartbeat else None,
                    stall_seconds=settings.health_stall_seconds)
    server = HealthServer(settings.metrics_host, settings.metrics_port, health).start()
    err.print(f"metrics and health at {server.url}/metrics /healthz /readyz")


def worker(role: list[str] = typer.Option(None, "--role", help=ROLES_HELP),
           loglevel: str = typer.Option("warning", "--loglevel")):
    """Run the faust agents (router, channel agents) and the outbox relay; stops cleanly on SIGTERM.

    Processes with the same roles share the work (same consumer group); never run two processes
    whose roles overlap but differ (e.g. `ck worker` beside `ck worker --role wechat`)."""
    import faust

    from pipeline.kafka.topics import ensure_topics
    from pipeline.stream.app import ALL_ROLES, create_app

    roles = sorted(set(role or ALL_ROLES))
    unknown = [r for r in roles if r not in ALL_ROLES]
    if unknown:
        err.print(f"[red]error:[/red] unknown role(s) {', '.join(unknown)}; choose from {', '.join(ALL_ROLES)}")
        raise typer.Exit(2)
    if roles == ["relay"]:  # a faust worker needs a topic to consume: the relay alone is `ck relay`
        err.print("worker: the relay role alone runs as `ck relay`")
        return relay()
    bootstrap = _bootstrap()
    settings = get_settings()
    ensure_topics(bootstrap, replication=settings.kafka_replication)
    group = "central-kitchen" if roles == sorted(ALL_ROLES) else "central-kitchen." + "+".join(roles)
    group = settings.kafka_topic_prefix + group
    app = create_app(settings, roles, app_id=group)
    err.print(f"worker {group} on {bootstrap}: {', '.join(roles)}")
    _serve_health(settings, heartbeat=True)
    faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False,
                 logging_config=setup_logging(f"worker {group}", settings, loglevel, apply=False)
                 ).execute_from_commandline()


def relay():
    """Run the outbox relay alone until SIGTERM or Ctrl-C."""
    from pipeline.distribution.relay import run_relay
    from pipeline.kafka.producer import make_producer
    from pipeline.kafka.topics import ensure_topics

    bootstrap = _bootstrap()
    settings = get_settings()
    setup_logging("relay", settings)
    ensure_topics(bootstrap, replication=settings.kafka_replication)
    _serve_health(settings, heartbeat=False)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    producer = make_producer(bootstrap)
    out.print(f"relay on {bootstrap}")
    try:
        run_relay(producer, settings, stop)
    finally:
        producer.close(5)
