"""Rendering console pages: the Jinja2 environment, the common page context, and a route class that
turns our errors into an HTML page (or JSON for the console's scripts) instead of problem+json."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from pipeline.clock import local
from pipeline.console import labels
from pipeline.console.sessions import SignInRequired, csrf_token, take_flashes
from pipeline.errors import CKError
from pipeline.org.roles import Role

PREFIX = "/console"
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return local(value).strftime(fmt) if value else ""


templates.env.filters["when"] = _when
templates.env.globals.update(labels=labels, Role=Role, PREFIX=PREFIX)


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.endswith(".json")


def render(request: Request, template: str, /, status_code: int = 200, **context) -> Response:
    user = getattr(request.state, "user", None)
    context.update(request=request, user=user, csrf=csrf_token(request), flashes=take_flashes(request))
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class ConsoleRoute(APIRoute):
    """Errors become pages: sign-in wanted → the sign-in page; any other CKError → an error page."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                if wants_json(request):
                    return JSONResponse({"detail": exc.detail}, status_code=401)
                if request.method != "GET":  # a form sent after the session ended: sign in, then start again
                    return redirect(f"{PREFIX}/login")
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return redirect(f"{PREFIX}/login?next={quote(target)}")
            except CKError as exc:
                if wants_json(request):
                    return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status)
                return render(request, "error.html", status_code=exc.status, error=exc)

        return console_handler
