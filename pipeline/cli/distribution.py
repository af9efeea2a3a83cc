"""`ck targets …`, `ck items takedown`, `ck replay` and `ck distributions`."""

import json
import time
from datetime import datetime

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlmodel import select

from pipeline.audit import record
from pipeline.cli.common import TOKEN_HELP, acting_user, err, fails_cleanly, out
from pipeline.config import get_settings
from pipeline.distribution.replay import DEFAULT_STATES, ReplayFilter, replay
from pipeline.distribution.takedown import take_down
from pipeline.org.roles import Role
from pipeline.registry.targets import add_target, list_targets, public_config
from pipeline.store.db import session_scope
from pipeline.store.models import Delivery, Unit
from schemas.delivery import DeliveryState

targets = typer.Typer(help="The channel registry: portal sites, WeChat/Weibo accounts, app feeds.",
                      no_args_is_help=True)
Token = typer.Option(None, "--token", help=TOKEN_HELP)
SETTLED = {DeliveryState.succeeded.value, DeliveryState.failed.value, DeliveryState.dead.value}


@targets.command("add")
@fails_cleanly
def targets_add(code: str, channel: str = typer.Option(..., "--channel"), unit: str = typer.Option(..., "--unit"),
                name: str = typer.Option(..., "--name"),
                config: str = typer.Option("{}", "--config", help="channel settings as JSON"),
                not_default: bool = typer.Option(False, "--not-default", help="only when an item names it")):
    """Register a site, account or feed for a unit."""
    try:
        settings_json = json.loads(config)
    except json.JSONDecodeError as exc:
        err.print(f"[red]error:[/red] --config is not JSON: {exc}")
        raise typer.Exit(2) from None
    with session_scope() as session:
        target = add_target(session, code, channel, unit, name, settings_json, not not_default)
        record(session, None, "target.add", code=target.code, channel=target.channel, via="cli")
    out.print(f"{channel} target {code} ({name}) added for {unit}")


@targets.command("list")
def targets_list():
    """List registered targets (credentials hidden)."""
    table = Table("code", "channel", "unit", "name", "status", "default", "config")
    with session_scope() as session:
        for t in list_targets(session):
            table.add_row(t.code, t.channel, session.get(Unit, t.unit_id).code, t.name, t.status,
                          "yes" if t.is_default else "no", json.dumps(public_config(t.config), ensure_ascii=False))
    out.print(table)


@fails_cleanly
def takedown(item_id: int, reason: str = typer.Option(..., "--reason", help="why (recorded and shown)"),
             yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"), token: str | None = Token):
    """撤稿: withdraw an item from every channel that received it (signer or admin)."""
    if not yes and not typer.confirm(f"Take item {item_id} down from every channel?"):
        raise typer.Exit(1)
    with session_scope() as session:
        item = take_down(session, acting_user(session, token), item_id, reason, get_settings())
        out.print(f"item {item.id} withdrawn; takedown queued for every channel that received it")


@fails_cleanly
def replay_command(state: list[str] = typer.Option(None, "--state", help=f"default: {', '.join(DEFAULT_STATES)}"),
                   channel: str | None = typer.Option(None, "--channel"),
                   target: str | None = typer.Option(None, "--target"),
                   item: int | None = typer.Option(None, "--item"),
                   delivery: list[int] = typer.Option(None, "--delivery", help="only this delivery id (repeatable)"),
                   since: datetime | None = typer.Option(None, "--since"),
                   force: bool = typer.Option(False, "--force", help="also re-send succeeded deliveries"),
                   wait: float = typer.Option(0, "--wait", help="follow the replayed deliveries for up to N seconds"),
                   token: str | None = Token):
    """Replay failed distributions through new outbox events (admin)."""
    flt = ReplayFilter(states=state or list(DEFAULT_STATES), channel=channel, target=target, item_id=item,
                       since=since, force=force, delivery_ids=delivery or None)
    with session_scope() as session:
        actor = acting_user(session, token)
        if actor.role != Role.admin:
            err.print("[red]error:[/red] replay needs an admin")
            raise typer.Exit(1)
        summary = replay(session, actor, flt, get_settings())
    out.print(f"replaying {len(summary.deliveries)} deliveries in {summary.events} events"
              f"{f'; {summary.skipped_withdrawn} skipped (item withdrawn)' if summary.skipped_withdrawn else ''}")
    if wait and summary.deliveries:
        _follow(summary.deliveries, wait)


def _follow(ids: list[int], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    columns = (TextColumn("deliveries settled"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("replay", total=len(ids))
        while True:
            with session_scope() as session:
                rows = list(session.exec(select(Delivery).where(Delivery.id.in_(ids))))
            settled = [r for r in rows if r.state in SETTLED]
            progress.update(task, completed=len(settled))
            if len(settled) == len(ids) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    table = Table("delivery", "channel", "target", "operation", "state", "attempts", "url / last error")
    for r in sorted(rows, key=lambda r: r.id):
        table.add_row(str(r.id), r.channel, r.target_code, r.operation, r.state, str(r.attempts),
                      r.url or (r.last_error or "")[:80])
    out.print(table)
    counts = {s: sum(r.state == s for r in rows) for s in sorted({r.state for r in rows})}
    out.print("summary: " + ", ".join(f"{n} {s}" for s, n in counts.items()))


def distributions(item: int | None = typer.Option(None, "--item"), state: str | None = typer.Option(None, "--state"),
                  channel: str | None = typer.Option(None, "--channel"), limit: int = typer.Option(100, "--limit")):
    """Show deliveries from the ledger."""
    query = select(Delivery)
    for column, value in ((Delivery.item_id, item), (Delivery.state, state), (Delivery.channel, channel)):
        if value is not None:
            query = query.where(column == value)
    table = Table("id", "item", "rev", "channel", "target", "op", "state", "tries", "url / last error")
    with session_scope() as session:
        for r in session.exec(query.order_by(Delivery.id.desc()).limit(limit)):
            table.add_row(str(r.id), str(r.item_id), str(r.revision), r.channel, r.target_code, r.operation, r.state,
                          str(r.attempts), r.url or (r.last_error or "")[:80])
    out.print(table)
