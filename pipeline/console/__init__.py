"""The newsroom web console (Chinese first), served by `ck serve` under /console with `/` leading there.

Server-rendered Jinja2 pages and a little vanilla JavaScript; sign-in with a password, a signed
session cookie and a CSRF token on every POST (`sessions`). Pages call the same service functions
as the REST API, so every rule (review levels, gates, roles, audit) applies once."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from pipeline.config import Settings
from pipeline.console.pages import PREFIX
from pipeline.console.routes import auth, distribution, items, review
from pipeline.console.sessions import add_session_middleware


def install(app: FastAPI, settings: Settings) -> None:
    """Add the console to `app`: call it before any catch-all mount at "/"."""
    for module in (auth, items, review, distribution):
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=Path(__file__).with_name("static")), name="console-static")
    for path in ("/", PREFIX):
        app.add_api_route(path, lambda: RedirectResponse(f"{PREFIX}/", status_code=307), include_in_schema=False)
    add_session_middleware(app, settings)
