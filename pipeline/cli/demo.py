"""`ck demo`: the main job. Everything on embedded defaults: a fresh SQLite file and data folder
under ./var/demo, the local Kafka broker (unless CK_KAFKA_BOOTSTRAP is set), the platform
emulators on loopback. Progress goes to stderr; `--json` puts only the results on stdout."""

import json
import os
import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

DEMO_DIR = Path("var/demo")


def demo(exit_after: bool = typer.Option(False, "--exit", help="stop after the results table"),
         as_json: bool = typer.Option(False, "--json", help="print the results as JSON on stdout"),
         host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
         timeout: float = typer.Option(120, "--timeout", help="seconds to wait for every delivery")):
    """Seed a city newsroom, review and distribute realistic items to every channel, show the outcome."""
    log = Console(stderr=True)
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    os.environ.update({"CK_DATABASE_URL": f"sqlite:///{(DEMO_DIR / 'central-kitchen.db').resolve()}",
                       "CK_DATA_DIR": str((DEMO_DIR / "data").resolve()),
                       "CK_PUBLIC_BASE_URL": f"http://{host}:{port}"})
    from connectors.sandbox.platforms import Sandbox
    from pipeline.config import get_settings
    from pipeline.demo import run
    from pipeline.kafka.local_broker import LocalBroker
    from pipeline.kafka.topics import ensure_topics
    from pipeline.store.migrate import upgrade

    get_settings.cache_clear()
    broker = worker = sandbox = None
    try:
        with log.status("preparing the store (SQLite) …"):
            upgrade()
        if not os.environ.get("CK_KAFKA_BOOTSTRAP"):
            with log.status("starting Apache Kafka (KRaft, from deploy/kafka; the first run fetches jars) …"):
                broker = LocalBroker(DEMO_DIR / "kafka")
                broker.start(timeout=240)
            os.environ["CK_KAFKA_BOOTSTRAP"] = broker.bootstrap
            get_settings.cache_clear()
        settings = get_settings()
        ensure_topics(settings.kafka_bootstrap)
        log.print(f"Kafka at {settings.kafka_bootstrap}")
        with log.status("starting the WeChat, Weibo and app-webhook emulators …"):
            sandbox = Sandbox([code for code, *_ in run.UNITS]).start()
            tokens = run.seed(sandbox)
        log.print(f"emulators: WeChat {sandbox.wechat.url} · Weibo {sandbox.weibo.url} · webhooks {sandbox.webhooks.url}")
        worker = run.start_worker(dict(os.environ), DEMO_DIR / "worker.log")
        with log.status("writing items; 初审 → 审核 → 审发 by three different people …"):
            ids = run.write_and_review(settings, lambda d: log.print(f"  signed off: {d.fields['title']}"))
        with log.status("distributing to portal, WeChat, Weibo and app feeds …") as status:
            done = run.wait_settled(list(ids.values()), timeout,
                                    lambda n, total: status.update(f"distributing … {n}/{total} deliveries settled"))
        outcome = run.results(list(ids.values()))
        if as_json:
            print(json.dumps(outcome, ensure_ascii=False, indent=2))
        else:
            _table(outcome, Console())
        if not done:
            log.print(f"[red]not every delivery settled within {timeout}s; see {DEMO_DIR / 'worker.log'}[/red]")
            raise typer.Exit(1)
        if exit_after:
            return
        _serve(settings, host, port, tokens, log)
    finally:
        if worker and worker.poll() is None:
            worker.terminate()
            worker.wait(30)
        if sandbox:
            sandbox.stop()
        if broker:
            broker.stop()


def _table(outcome: dict, console: Console) -> None:
    table = Table(title="Central Kitchen demo: one source, every channel", show_lines=True)
    for column in ("item", "status", "portal", "wechat", "weibo", "appfeed"):
        table.add_column(column, overflow="fold")
    colours = {"succeeded": "green", "failed": "red", "dead": "red"}
    for item in outcome["items"]:
        cells = {}
        for d in item["deliveries"]:
            colour = colours.get(d["state"], "yellow")
            cells.setdefault(d["channel"], []).append(f"[{colour}]{d['state']}[/{colour}] {d['target']}\n{d['url'] or ''}")
        table.add_row(f"{item['id']} {item['title']}", item["status"],
                      *("\n".join(cells.get(ch, ["—"])) for ch in ("portal", "wechat", "weibo", "appfeed")))
    console.print(table)


def _serve(settings, host: str, port: int, tokens: dict[str, str], log: Console) -> None:
    import uvicorn

    from pipeline.api.app import create_app
    from pipeline.demo.content import PASSWORD, PEOPLE

    log.print(f"\nCentral Kitchen is serving at http://{host}:{port}  (API docs: /api/v1/docs, sites: /sites/cq-portal/)")
    log.print(f"[bold]newsroom console: http://{host}:{port}/console/[/bold]")
    log.print(f"demo logins, every one with the password [bold]{PASSWORD}[/bold] "
              "(districts too: yz-editor, jb-signer …):")
    shown = ("editor", "reviewer1", "reviewer2", "signer", "admin")
    logins = Table("login", "role", "who")
    for name, role, _, display in PEOPLE:
        if name in shown:
            logins.add_row(name, role, display)
    log.print(logins)
    log.print("demo API tokens (Authorization: Bearer …):")
    for name in shown:
        log.print(f"  {name:10} {tokens[name]}", soft_wrap=True)
    log.print("Sign in as editor to write, reviewer1 → reviewer2 → signer to review, admin to replay. "
              "Ctrl-C stops the demo.")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
