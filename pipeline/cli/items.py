"""`ck items …` and `ck audit`: the same operations as the API, acting with an API token."""

import json
from datetime import date, datetime

import typer
from pydantic import ValidationError
from rich.table import Table
from sqlmodel import select

from pipeline.audit import entries
from pipeline.cli.common import TOKEN_HELP, acting_user, err, fails_cleanly, out, read_text_arg
from pipeline.config import get_settings
from pipeline.items.public import item_public, item_summary
from pipeline.items.service import create_item, get_item, list_items, revise_item
from pipeline.review import workflow
from pipeline.store.db import session_scope
from pipeline.store.models import User
from schemas.api import ItemCreate, ItemUpdate, ReviewCreate
from schemas.item import ItemKind

items = typer.Typer(help="Write, submit and review items.", no_args_is_help=True)
Token = typer.Option(None, "--token", help=TOKEN_HELP)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _fields(**values) -> dict:
    return {k: v for k, v in values.items() if v is not None}


def _build(model, values: dict):
    try:
        return model(**values)
    except ValidationError as exc:
        for e in exc.errors():
            err.print(f"[red]error:[/red] {'.'.join(map(str, e['loc']))}: {e['msg']}", highlight=False)
        raise typer.Exit(1) from None


def _print_item(public, as_json: bool) -> None:
    if as_json:
        print(public.model_dump_json(indent=2))
        return
    level = f" — level {public.review_level} {public.review_level_name}" if public.review_level else ""
    out.print(f"item {public.id} rev {public.revision}: {public.title}")
    out.print(f"  status {public.status}{level}; 索引号 {public.index_no}; kind {public.kind.value}")
    if public.rejection_reason:
        out.print(f"  rejected: {public.rejection_reason}")
    if public.canonical_url:
        out.print(f"  canonical URL {public.canonical_url}")


def _common(summary, issuer, doc_no, written, keywords, topic, columns, targets, interprets, republished,
            publish_at, cover, note) -> dict:
    return _fields(summary=summary, issuer=issuer, doc_no=doc_no, written_date=written, keywords=_split(keywords),
                   topic_category=topic, columns=_split(columns), targets=_split(targets), interprets=interprets,
                   republished_from=republished, publish_at=publish_at, cover=cover, correction_note=note)


@items.command("create")
@fails_cleanly
def create(title: str = typer.Option(..., "--title"), kind: ItemKind = typer.Option(..., "--kind"),
           body: str | None = typer.Option(None, "--body", help="body HTML"),
           body_file: str | None = typer.Option(None, "--body-file", help="read body HTML from a file, - for stdin"),
           unit: str | None = typer.Option(None, "--unit"), summary: str | None = typer.Option(None, "--summary"),
           issuer: str | None = typer.Option(None, "--issuer", help="发布机构"),
           doc_no: str | None = typer.Option(None, "--doc-no", help="文号"),
           written: datetime | None = typer.Option(None, "--written-date", formats=["%Y-%m-%d"], help="成文日期"),
           keywords: str | None = typer.Option(None, "--keywords", help="主题词, comma separated"),
           topic: str | None = typer.Option(None, "--topic", help="主题分类"),
           columns: str | None = typer.Option(None, "--columns", help="栏目 codes, comma separated"),
           targets: str | None = typer.Option(None, "--targets", help="target codes, comma separated"),
           interprets: int | None = typer.Option(None, "--interprets", help="policy item id (解读)"),
           republished: int | None = typer.Option(None, "--republished-from", help="source item id (转载)"),
           publish_at: datetime | None = typer.Option(None, "--publish-at"),
           cover: str | None = typer.Option(None, "--cover", help="SHA-256 of an uploaded image"),
           as_json: bool = typer.Option(False, "--json"), token: str | None = Token):
    """Create an item (revision 1, draft)."""
    body = read_text_arg(body, body_file, "body")
    if not body:
        err.print("[red]error:[/red] give --body or --body-file")
        raise typer.Exit(2)
    values = _fields(title=title, body=body, kind=kind, unit=unit) | _common(
        summary, issuer, doc_no, written.date() if written else None, keywords, topic, columns, targets,
        interprets, republished, publish_at, cover, None)
    data = _build(ItemCreate, values)
    settings = get_settings()
    with session_scope() as session:
        item = create_item(session, acting_user(session, token), data, settings)
        session.flush()
        public = item_public(session, item, settings)
    _print_item(public, as_json)


@items.command("revise")
@fails_cleanly
def revise(item_id: int, title: str | None = typer.Option(None, "--title"),
           body: str | None = typer.Option(None, "--body"), body_file: str | None = typer.Option(None, "--body-file"),
           summary: str | None = typer.Option(None, "--summary"), doc_no: str | None = typer.Option(None, "--doc-no"),
           keywords: str | None = typer.Option(None, "--keywords"), columns: str | None = typer.Option(None, "--columns"),
           note: str | None = typer.Option(None, "--correction-note", help="更正说明 shown on every channel"),
           as_json: bool = typer.Option(False, "--json"), token: str | None = Token):
    """Revise an item (a new revision; review starts again)."""
    values = _fields(title=title, body=read_text_arg(body, body_file, "body")) | _common(
        summary, None, doc_no, None, keywords, None, columns, None, None, None, None, None, note)
    data = _build(ItemUpdate, values)
    settings = get_settings()
    with session_scope() as session:
        item = revise_item(session, acting_user(session, token), item_id, data, settings)
        public = item_public(session, item, settings)
    _print_item(public, as_json)


@items.command("show")
@fails_cleanly
def show(item_id: int, as_json: bool = typer.Option(False, "--json")):
    """Show an item with its reviews."""
    settings = get_settings()
    with session_scope() as session:
        public = item_public(session, get_item(session, item_id), settings)
    _print_item(public, as_json)
    if not as_json:
        for r in public.reviews:
            out.print(f"  rev {r.revision} level {r.level} {r.level_name}: {r.decision} by {r.reviewer}"
                      f"{' — ' + r.comment if r.comment else ''}")


@items.command("list")
@fails_cleanly
def index(status: str | None = typer.Option(None, "--status"), unit: str | None = typer.Option(None, "--unit"),
          level: int | None = typer.Option(None, "--level"), limit: int = typer.Option(50, "--limit")):
    """List items, newest first."""
    table = Table("id", "status", "level", "kind", "unit", "索引号", "title")
    with session_scope() as session:
        for i in list_items(session, status=status, unit=unit, level=level, limit=limit):
            s = item_summary(session, i)
            table.add_row(str(s.id), s.status, str(s.review_level or ""), s.kind.value, s.unit, s.index_no, s.title)
    out.print(table)


@items.command("submit")
@fails_cleanly
def submit(item_id: int, token: str | None = Token):
    """Submit a draft for review (content gates run first)."""
    settings = get_settings()
    with session_scope() as session:
        item = workflow.submit(session, acting_user(session, token), item_id, settings)
        public = item_public(session, item, settings)
    _print_item(public, False)


@items.command("review")
@fails_cleanly
def review(item_id: int, decision: str = typer.Argument(..., help="approve or reject"),
           comment: str = typer.Option("", "--comment"), token: str | None = Token):
    """Decide the current review level of an item."""
    data = _build(ReviewCreate, {"decision": decision, "comment": comment})
    settings = get_settings()
    with session_scope() as session:
        item = workflow.review(session, acting_user(session, token), item_id, data, settings)
        public = item_public(session, item, settings)
    _print_item(public, False)


def audit(item: int | None = typer.Option(None, "--item"), as_json: bool = typer.Option(False, "--json")):
    """Show the audit log (all of it, or one item's)."""
    with session_scope() as session:
        rows = entries(session, item_id=item, limit=100_000)
        names = {u.id: u.name for u in session.exec(select(User))}
    if as_json:
        print(json.dumps([{"id": e.id, "at": e.at.isoformat(), "actor": names.get(e.actor_id), "action": e.action,
                           "item": e.item_id, "revision": e.revision, "detail": e.detail} for e in rows],
                         ensure_ascii=False, indent=2, default=_json_default))
        return
    table = Table("id", "at", "actor", "action", "item", "rev", "detail")
    for e in rows:
        table.add_row(str(e.id), f"{e.at:%Y-%m-%d %H:%M:%S}", names.get(e.actor_id, "-"), e.action,
                      str(e.item_id or ""), str(e.revision or ""), json.dumps(e.detail, ensure_ascii=False))
    out.print(table)


def _json_default(value):
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value))
