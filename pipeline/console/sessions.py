"""Console sessions: a signed cookie (Starlette's SessionMiddleware, itsdangerous underneath) holding
the user's id, the stamp of their password, when they signed in and a CSRF token.

- A session ends after `IDLE_SECONDS` without a request (the cookie's signed timestamp), after
  `MAX_SECONDS` in all, when the password changes or the user is deactivated, and on sign-out.
- Every POST carries the session's CSRF token, as the form field `csrf_token` or the header
  `X-CSRF-Token` (the console's scripts); a POST without the right token is refused with 403.
- Cookies are signed with a key derived from the newest of the kitchen's keys (`CK_SECRET_KEY`, else
  its key file; see `pipeline.governance.credentials`), so every replica given the same keys accepts
  the same sessions, and `ck keys rotate` signs everybody out.

The API is untouched: it still wants `Authorization: Bearer …` and ignores the cookie."""

import hashlib
import hmac
import secrets
import time
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.middleware.sessions import SessionMiddleware

from pipeline.api.deps import SessionDep
from pipeline.config import Settings
from pipeline.console.passwords import password_stamp
from pipeline.errors import CKError, Forbidden
from pipeline.governance.credentials import keyring
from pipeline.org.roles import Role
from pipeline.store.models import User

COOKIE = "ck_console"
IDLE_SECONDS = 4 * 3600
MAX_SECONDS = 12 * 3600
TOUCH_SECONDS = 60  # re-sign the cookie at most once a minute to keep an active session alive
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(CKError):
    status = 401
    title = "Sign-in required"


class CsrfRefused(CKError):
    status = 403
    title = "CSRF token missing or wrong"


def secret_key(settings: Settings) -> str:
    newest = keyring(settings).keys[0]
    return hmac.new(newest, b"central-kitchen console sessions", hashlib.sha256).hexdigest()


def add_session_middleware(app, settings: Settings) -> None:
    app.add_middleware(SessionMiddleware, secret_key=secret_key(settings), session_cookie=COOKIE,
                       max_age=IDLE_SECONDS, same_site="lax",
                       https_only=settings.public_base_url.startswith("https://"))


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def sign_in(request: Request, user: User) -> None:
    """A fresh session (new CSRF token too), so a session fixed before sign-in is worth nothing."""
    request.session.clear()
    moment = int(time.time())
    request.session.update(uid=user.id, stamp=password_stamp(user), since=moment, seen=moment,
                           csrf=secrets.token_urlsafe(32))


def sign_out(request: Request) -> None:
    request.session.clear()


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = [*request.session.get("flash", []), [kind, text]]


def take_flashes(request: Request) -> list[list[str]]:
    return request.session.pop("flash", []) if "flash" in request.session else []


def _console_user(request: Request, session: SessionDep) -> User:
    data = request.session
    uid = data.get("uid")
    if not uid:
        raise SignInRequired("请先登录")
    user = session.get(User, uid)
    moment = int(time.time())
    if (user is None or not user.active or data.get("stamp") != password_stamp(user)
            or moment - int(data.get("since", 0)) > MAX_SECONDS):
        data.clear()
        raise SignInRequired("登录已失效，请重新登录")
    if moment - int(data.get("seen", 0)) > TOUCH_SECONDS:
        data["seen"] = moment
    request.state.user = user
    return user


ConsoleUser = Annotated[User, Depends(_console_user)]


def _console_admin(user: ConsoleUser) -> User:
    if user.role != Role.admin:
        raise Forbidden("只有系统管理员可以重放分发")
    return user


ConsoleAdmin = Annotated[User, Depends(_console_admin)]


async def _checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the session's."""
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD) or ""
    expected = request.session.get("csrf") or ""
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise CsrfRefused("表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
    return form


CheckedForm = Annotated[FormData, Depends(_checked_form)]
