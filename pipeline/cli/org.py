"""`ck units …` and `ck users …`."""

import sys

import typer
from rich.table import Table
from sqlmodel import select

from pipeline.audit import record
from pipeline.cli.common import fails_cleanly, out
from pipeline.org.roles import Role
from pipeline.org.units import add_unit
from pipeline.org.users import add_user
from pipeline.store.db import session_scope
from pipeline.store.models import Unit, User

units = typer.Typer(help="Units: the city, districts, departments.", no_args_is_help=True)
users = typer.Typer(help="Users, their API tokens and console passwords.", no_args_is_help=True)


@units.command("add")
@fails_cleanly
def units_add(code: str, name: str = typer.Option(..., "--name", help="full official name"),
              parent: str | None = typer.Option(None, "--parent", help="code of the parent unit"),
              org_code: str | None = typer.Option(None, "--org-code", help="组织机构代码 (first part of 索引号)")):
    """Add a unit."""
    with session_scope() as session:
        unit = add_unit(session, code, name, parent, org_code)
        record(session, None, "unit.add", code=unit.code, via="cli")
        out.print(f"unit {unit.code} ({unit.name}) added, 索引号 prefix {unit.org_code}")


@units.command("list")
def units_list():
    """List units."""
    table = Table("code", "name", "parent", "org code")
    with session_scope() as session:
        by_id = {u.id: u for u in session.exec(select(Unit))}
        for u in by_id.values():
            table.add_row(u.code, u.name, by_id[u.parent_id].code if u.parent_id else "", u.org_code)
    out.print(table)


@users.command("add")
@fails_cleanly
def users_add(name: str, role: Role = typer.Option(..., "--role"), unit: str = typer.Option(..., "--unit"),
              display_name: str = typer.Option("", "--display-name")):
    """Add a user; the new API token is printed once, alone on the last line."""
    with session_scope() as session:
        user, token = add_user(session, name, role.value, unit, display_name)
        record(session, None, "user.add", name=user.name, role=user.role, via="cli")
    out.print(f"user {name} ({role.value}, unit {unit}) added; keep this token, it is shown only once:")
    print(token)


@users.command("list")
def users_list():
    """List users (never their tokens)."""
    table = Table("name", "role", "unit", "active")
    with session_scope() as session:
        for u in session.exec(select(User).order_by(User.id)):
            table.add_row(u.name, u.role, session.get(Unit, u.unit_id).code, "yes" if u.active else "no")
    out.print(table)


@users.command("passwd")
@fails_cleanly
def users_passwd(name: str, password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from the first line of standard input")):
    """Set a user's console password (argon2id hash; ends the user's console sessions)."""
    from pipeline.console.passwords import set_password
    from pipeline.org.users import get_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    with session_scope() as session:
        set_password(session, None, get_user(session, name), password)
    out.print(f"password of {name} set; they can sign in to the console now")
