"""Governance commands: `ck report …`, `ck targets status|changes|approve|reject|filing|reconnect|health`,
`ck keys rotate|generate`, `ck rescan`, `ck findings …` and `ck items deadline`."""

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from pipeline.cli.common import TOKEN_HELP, acting_user, err, fails_cleanly, out
from pipeline.clock import NEWSROOM_TZ, aware, local, now
from pipeline.config import get_settings
from pipeline.governance import credentials, monitor, quarterly, registry, rescan, token_health
from pipeline.org.roles import Role
from pipeline.registry.targets import get_target
from pipeline.store.db import session_scope
from schemas.governance import ItemDeadline, RegistryChangePublic, TargetFreshness

report = typer.Typer(help="Reports: freshness of sites and accounts, deadlines, the quarterly report.",
                     no_args_is_help=True)
keys = typer.Typer(help="The keys that seal stored credentials.", no_args_is_help=True)
findings_cli = typer.Typer(help="Rescan findings in published items, for signers.", no_args_is_help=True)
Token = typer.Option(None, "--token", help=TOKEN_HELP)
JSON = typer.Option(False, "--json", help="print JSON instead of a table")


def install(app: typer.Typer, targets: typer.Typer, items: typer.Typer) -> None:
    """Add the governance commands to `ck` (called once from pipeline.cli.main)."""
    app.add_typer(report, name="report")
    app.add_typer(keys, name="keys")
    app.add_typer(findings_cli, name="findings")
    app.command("rescan")(rescan_command)
    for name, fn in (("status", target_status), ("changes", target_changes), ("approve", change_approve),
                     ("reject", change_reject), ("filing", target_filing), ("reconnect", target_reconnect),
                     ("health", target_health), ("check-tokens", target_check_tokens)):
        targets.command(name)(fn)
    items.command("deadline")(item_deadline)


def _when(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _filing(filing_no, filing_approver, filing_date, responsible_person) -> dict:
    return dict(filing_no=filing_no, filing_approver=filing_approver, filing_date=filing_date,
                responsible_person=responsible_person)


FilingNo = typer.Option(None, "--filing-no", help="备案号")
FilingApprover = typer.Option(None, "--filing-approver", help="who approved the 备案")
FilingDate = typer.Option(None, "--filing-date", help="备案 date, YYYY-MM-DD", formats=["%Y-%m-%d"])
Responsible = typer.Option(None, "--responsible-person")


# ------------------------------------------------------------------------------------------ reports


@report.command("freshness")
@fails_cleanly
def report_freshness(unit: str | None = typer.Option(None, "--unit"),
                     at: datetime | None = typer.Option(None, "--at", help="assess as of this time (default now)"),
                     failing: bool = typer.Option(False, "--failing", help="only 睡眠/僵尸 channels and stale columns"),
                     as_json: bool = JSON):
    """Every site, column and account: last publication and whether it keeps its rule."""
    when = (at if at.tzinfo else at.replace(tzinfo=NEWSROOM_TZ)) if at else now()
    with session_scope() as session:
        rows = monitor.freshness_report(session, get_settings(), when, unit)
    if failing:
        rows = [r for r in rows if r["state"] in ("sleeping", "zombie") or any(c["stale"] for c in r["columns"])]
    if as_json:
        print(json.dumps([TargetFreshness(**r).model_dump(mode="json") for r in rows], ensure_ascii=False, indent=1))
        return
    table = Table("unit", "target", "channel", "status", "rule", "count", "last publication", "state",
                  title=f"freshness at {_when(when)}")
    for r in rows:
        style = "red" if r["state"] in ("sleeping", "zombie") else None
        table.add_row(r["unit"], r["code"], r["channel"], r["status"], r["rule"], str(r["count"]), _when(r["last"]),
                      f"{r['label']} ({r['state']})", style=style)
        for c in r["columns"]:
            table.add_row("", f"  └ {c['column']} {c['name']}", "column", "", f"every {c['period_days']} days", "",
                          _when(c["last"]), "stale: merge or close" if c["stale"] else "ok",
                          style="red" if c["stale"] else None)
    out.print(table)
    bad = sum(r["state"] in ("sleeping", "zombie") for r in rows)
    out.print(f"{len(rows)} targets, {bad} 睡眠 or 僵尸, "
              f"{sum(c['stale'] for r in rows for c in r['columns'])} stale columns")


@report.command("deadlines")
@fails_cleanly
def report_deadlines(unit: str | None = typer.Option(None, "--unit"),
                     state: str | None = typer.Option(None, "--state", help="met, late, open or overdue"),
                     as_json: bool = JSON):
    """Every item with a deadline, when it was due and whether it was met; late items per unit."""
    with session_scope() as session:
        rows = monitor.item_deadlines(session, now(), unit)
    counts = monitor.late_counts(rows)
    rows = [r for r in rows if state is None or r["state"] == state]
    if as_json:
        print(json.dumps({"items": [ItemDeadline(**r).model_dump(mode="json") for r in rows], "per_unit": counts},
                         ensure_ascii=False, indent=1))
        return
    table = Table("item", "unit", "title", "rule", "due", "published", "state")
    for r in rows:
        table.add_row(str(r["item"]), r["unit"], r["title"][:30], r["rule_name"],
                      f"{r['due_date']}{' (estimated)' if r['estimated'] else ''}", _when(r["published_at"]),
                      r["state"] + (f" +{r['late_hours']}h" if r["late_hours"] else ""),
                      style="red" if r["state"] in ("late", "overdue") else None)
    out.print(table)
    for unit_code, c in sorted(counts.items()):
        out.print(f"{unit_code}: {c['met']} met, {c['late']} late, {c['overdue']} overdue, {c['open']} open")


@report.command("quarterly")
@fails_cleanly
def report_quarterly(unit: str = typer.Option(..., "--unit"),
                     quarter: str = typer.Option(..., "--quarter", help="e.g. 2026Q3"),
                     out_dir: Path = typer.Option(Path("."), "--out", help="folder for the HTML and CSV files")):
    """The quarterly report of one unit: <unit>-<quarter>.html (with charts) and .csv."""
    with session_scope() as session:
        data = quarterly.build(session, get_settings(), unit, quarterly.Quarter.parse(quarter), now())
    out_dir.mkdir(parents=True, exist_ok=True)
    html = out_dir / f"{unit}-{data['quarter']}.html"
    csv_file = out_dir / f"{unit}-{data['quarter']}.csv"
    html.write_text(quarterly.render_html(data), encoding="utf-8")
    csv_file.write_text(quarterly.render_csv(data), encoding="utf-8")
    if data["calendar_note"]:
        err.print(f"[yellow]note:[/yellow] {data['calendar_note']}")
    c = data["deadline_counts"]
    out.print(f"{len(data['targets'])} targets; deadlines {c['met']} met, {c['late']} late, {c['overdue']} overdue")
    out.print(str(html))
    out.print(str(csv_file))


# ------------------------------------------------------------------------------------------ registry


@fails_cleanly
def target_status(code: str, to: str = typer.Option(..., "--to", help="applied, active, suspended or closed"),
                  reason: str = typer.Option(..., "--reason"), filing_no: str | None = FilingNo,
                  filing_approver: str | None = FilingApprover, filing_date: datetime | None = FilingDate,
                  responsible_person: str | None = Responsible, token: str | None = Token):
    """Change a target's lifecycle status: an admin's change is approved at once, anyone else's waits."""
    with session_scope() as session:
        actor = acting_user(session, token)
        change = registry.request_change(session, actor, code, to, reason, _filing(
            filing_no, filing_approver, filing_date.date() if filing_date else None, responsible_person))
        done = change.decision == "approved"
    out.print(f"target {code}: {change.from_status} → {change.to_status} "
              + ("approved" if done else f"requested (change {change.id} waits for an admin)"))


@fails_cleanly
def target_changes(pending: bool = typer.Option(False, "--pending"),
                   target: str | None = typer.Option(None, "--target"),
                   as_json: bool = JSON):
    """Registry changes, requested and decided."""
    with session_scope() as session:
        rows = [registry.change_public(session, c) for c in registry.changes(session, "pending" if pending else None,
                                                                            target)]
    if as_json:
        print(json.dumps([RegistryChangePublic(**r).model_dump(mode="json") for r in rows], ensure_ascii=False))
        return
    table = Table("id", "target", "change", "reason", "requested by", "decision", "decided by")
    for r in rows:
        table.add_row(str(r["id"]), r["target"], f"{r['from_status']} → {r['to_status']}", r["reason"],
                      r["requested_by"], r["decision"], r["decided_by"] or "")
    out.print(table)


def _decide(change_id: int, approve: bool, comment: str, token: str | None) -> None:
    with session_scope() as session:
        change = registry.decide(session, acting_user(session, token), change_id, approve, comment)
    out.print(f"change {change_id} {change.decision}")


@fails_cleanly
def change_approve(change_id: int, comment: str = typer.Option("", "--comment"), token: str | None = Token):
    """Approve a requested registry change (admin)."""
    _decide(change_id, True, comment, token)


@fails_cleanly
def change_reject(change_id: int, comment: str = typer.Option("", "--comment"), token: str | None = Token):
    """Reject a requested registry change (admin)."""
    _decide(change_id, False, comment, token)


@fails_cleanly
def target_filing(code: str, filing_no: str | None = FilingNo, filing_approver: str | None = FilingApprover,
                  filing_date: datetime | None = FilingDate, responsible_person: str | None = Responsible,
                  token: str | None = Token):
    """Record a target's 备案 and responsible person (admin)."""
    with session_scope() as session:
        registry.set_filing(session, acting_user(session, token), code, _filing(
            filing_no, filing_approver, filing_date.date() if filing_date else None, responsible_person))
    out.print(f"target {code}: 备案 recorded")


@fails_cleanly
def target_reconnect(code: str, config: str = typer.Option("{}", "--config", help="new credentials as JSON"),
                     token: str | None = Token):
    """New credentials for an account that needs reconnecting (admin); its held deliveries are replayed."""
    try:
        new = json.loads(config)
    except json.JSONDecodeError as exc:
        err.print(f"[red]error:[/red] --config is not JSON: {exc}")
        raise typer.Exit(2) from None
    with session_scope() as session:
        actor = acting_user(session, token)
        if actor.role != Role.admin:
            err.print("[red]error:[/red] reconnecting an account needs an admin")
            raise typer.Exit(1)
        replayed = token_health.reconnect(session, actor, get_target(session, code), new, get_settings())
    out.print(f"target {code} reconnected ({', '.join(sorted(new)) or 'same credentials'}); "
              f"{len(replayed)} held deliveries replayed")


def target_health():
    """Accounts whose token is expired or revoked (needs reconnect)."""
    table = Table("target", "since", "reason")
    with session_scope() as session:
        rows = token_health.needing_reconnect(session)
        for t in rows:
            table.add_row(t.code, _when(aware(t.health_since)), (t.health_reason or "")[:100])
    out.print(table if rows else "every account's token works")


@fails_cleanly
def target_check_tokens():
    """Ask every active WeChat and Weibo account whether its credentials still work; flag or clear it."""
    results = token_health.check_tokens(get_settings())
    table = Table("target", "token", "platform said")
    for code, (state, detail) in results.items():
        table.add_row(code, state, detail[:100], style="red" if state == token_health.NEEDS_RECONNECT else None)
    out.print(table)
    bad = sum(state == token_health.NEEDS_RECONNECT for state, _ in results.values())
    out.print(f"{len(results)} accounts checked, {bad} need reconnect")


# -------------------------------------------------------------------------------------- keys, rescans


@keys.command("rotate")
@fails_cleanly
def keys_rotate(keep_old: bool = typer.Option(False, "--keep-old", help="keep the old keys in the key file")):
    """Re-seal every stored credential under a new key (and seal any left in plain config)."""
    done, how = credentials.rotate(session_scope, get_settings(), keep_old)
    out.print(f"{done.resealed} targets re-sealed, {done.sealed_plain} sealed for the first time; {how}")


@keys.command("generate")
def keys_generate():
    """Print a new key (for CK_SECRET_KEY)."""
    print(credentials.new_key())


@fails_cleanly
def rescan_command():
    """Scan every published item again with today's dictionary; new hits become findings."""
    with session_scope() as session:
        result = rescan.rescan(session, get_settings(), now(), reason="ck rescan")
    out.print(f"{result.scanned} published items scanned, {result.new_findings} new findings, "
              f"{result.cleared} cleared (dictionary {result.dictionary})")


@findings_cli.command("list")
def findings_list(status: str = typer.Option("open", "--status")):
    """Findings of rescans (open ones by default)."""
    table = Table("id", "item", "rev", "rule", "field", "text", "found", "status")
    with session_scope() as session:
        for f in rescan.findings(session, status):
            table.add_row(str(f.id), str(f.item_id), str(f.revision), f.rule, f.field, f.text[:40],
                          _when(aware(f.found_at)), f.status)
    out.print(table)


@findings_cli.command("takedown")
@fails_cleanly
def findings_takedown(finding_id: int, reason: str | None = typer.Option(None, "--reason"),
                      yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
                      token: str | None = Token):
    """Withdraw the item of a finding from every channel (signer or admin)."""
    if not yes and not typer.confirm(f"Take the item of finding {finding_id} down from every channel?"):
        raise typer.Exit(1)
    with session_scope() as session:
        item = rescan.take_down_for(session, acting_user(session, token), finding_id, reason, get_settings(), now())
    out.print(f"item {item.id} withdrawn; takedown queued for every channel that received it")


@findings_cli.command("dismiss")
@fails_cleanly
def findings_dismiss(finding_id: int, comment: str = typer.Option(..., "--comment"), token: str | None = Token):
    """Judge a finding harmless in context (signer or admin; recorded)."""
    with session_scope() as session:
        rescan.dismiss(session, acting_user(session, token), finding_id, comment, now())
    out.print(f"finding {finding_id} dismissed")


@fails_cleanly
def item_deadline(item_id: int, rule: str = typer.Option(..., "--rule", help="livelihood (24 h) or reply (7 working "
                                                                               "days)"),
                  starts_at: datetime = typer.Option(..., "--starts-at", help="the event, or when the question came "
                                                                               "in (newsroom time unless given)"),
                  note: str = typer.Option("", "--note"), token: str | None = Token):
    """Give an item a deadline: a 民生 activity or a reply."""
    with session_scope() as session:
        monitor.set_obligation(session, acting_user(session, token), item_id, rule, starts_at, note)
        row = monitor.item_deadlines(session, now(), item_id=item_id)[0]
    out.print(f"item {item_id}: {row['rule_name']}, due {row['due_date']}, {row['state']}")

