"""Signing in and out."""

from fastapi import APIRouter, Request

from pipeline.api.deps import SessionDep
from pipeline.audit import record
from pipeline.console.pages import PREFIX, ConsoleRoute, redirect, render
from pipeline.console.passwords import authenticate
from pipeline.console.sessions import CheckedForm, ConsoleUser, sign_in, sign_out

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _safe_next(value: str | None) -> str:
    """Only a path inside the console (never another site, never `//host`)."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    return render(request, "login.html", next=_safe_next(next), name="")


@router.post("/login")
def login(request: Request, session: SessionDep, form: CheckedForm):
    name, password = str(form.get("username") or ""), str(form.get("password") or "")
    user = authenticate(session, name, password)
    if user is None:
        return render(request, "login.html", status_code=401, next=_safe_next(form.get("next")), name=name,
                      error="用户名或密码错误，或该账号未开通控制台登录")
    record(session, user, "console.sign_in")
    session.commit()
    sign_in(request, user)
    return redirect(_safe_next(form.get("next")))


@router.post("/logout")
def logout(request: Request, session: SessionDep, user: ConsoleUser, _: CheckedForm):
    record(session, user, "console.sign_out")
    session.commit()
    sign_out(request)
    return redirect(f"{PREFIX}/login")
