"""`ck`: the Central Kitchen command line."""

import typer

from pipeline.cli import demo as demo_cli
from pipeline.cli import distribution as distribution_cli
from pipeline.cli import governance as governance_cli
from pipeline.cli import items as items_cli
from pipeline.cli import org as org_cli
from pipeline.cli import sandbox as sandbox_cli
from pipeline.cli import worker as worker_cli
from pipeline.cli.common import out

app = typer.Typer(help="Central Kitchen (信息中央厨房): one reviewed store, every channel at once.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(org_cli.units, name="units")
app.add_typer(org_cli.users, name="users")
app.add_typer(items_cli.items, name="items")
app.command("audit")(items_cli.audit)
app.add_typer(distribution_cli.targets, name="targets")
items_cli.items.command("takedown")(distribution_cli.takedown)
app.command("replay")(distribution_cli.replay_command)
app.command("distributions")(distribution_cli.distributions)
app.command("demo")(demo_cli.demo)
app.command("sandbox")(sandbox_cli.sandbox)
app.command("worker")(worker_cli.worker)
app.command("relay")(worker_cli.relay)
governance_cli.install(app, distribution_cli.targets, items_cli.items)


@db.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")):
    """Apply database migrations (Alembic)."""
    from pipeline.config import get_settings
    from pipeline.store.migrate import upgrade

    upgrade(revision=revision)
    out.print(f"database at {revision}: {get_settings().database_url}")


@app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port")):
    """Serve the newsroom console (/console/), the API, media, the portal sites and the feeds."""
    import uvicorn

    from pipeline.api.app import create_app

    from pipeline.config import get_settings
    from pipeline.observability.logs import setup_logging

    log_config = setup_logging("api", get_settings(), "info", apply=False)  # JSON lines, secrets redacted
    uvicorn.run(create_app(), host=host, port=port, log_config=log_config)


if __name__ == "__main__":
    app()
