"""What every command shares: turning our errors into a message and a non-zero exit, and who acts."""

import functools
import os
import sys

import typer
from rich.console import Console

from pipeline.errors import CKError, GateRefused
from pipeline.org.users import user_for_token
from pipeline.store.models import User

out = Console()
err = Console(stderr=True)

TOKEN_HELP = "your API token (or set CK_TOKEN); decisions are recorded under its user"


def fails_cleanly(fn):
    """Print a CKError as `error: …` on stderr and exit 1 instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GateRefused as exc:
            err.print(f"[red]error:[/red] {exc.detail}", highlight=False)
            for f in exc.findings:
                err.print(f"  - {f.rule} in {f.field} at {f.start}-{f.end}: {f.text!r} — {f.message}",
                          highlight=False)
            raise typer.Exit(1) from None
        except CKError as exc:
            err.print(f"[red]error:[/red] {exc.detail}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def acting_user(session, token: str | None) -> User:
    token = token or os.environ.get("CK_TOKEN")
    if not token:
        err.print("[red]error:[/red] give --token or set CK_TOKEN to say who is acting")
        raise typer.Exit(2)
    user = user_for_token(session, token)
    if user is None:
        err.print("[red]error:[/red] that token does not belong to an active user")
        raise typer.Exit(1)
    return user


def read_text_arg(value: str | None, file: str | None, what: str) -> str | None:
    if file:
        if file == "-":
            return sys.stdin.read()
        try:
            with open(file, encoding="utf-8") as f:
                return f.read()
        except (OSError, UnicodeDecodeError) as exc:
            err.print(f"[red]error:[/red] cannot read {what} from {file}: {exc}")
            raise typer.Exit(1) from None
    return value
