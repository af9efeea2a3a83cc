"""Dependencies named once: the session, the settings and the signed-in user."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from pipeline.config import Settings, get_settings
from pipeline.org.roles import Role
from pipeline.org.users import user_for_token
from pipeline.store.db import get_engine
from pipeline.store.models import User

_bearer = HTTPBearer(auto_error=False)

# Row ids are INTEGER columns: PostgreSQL holds 2**31 - 1 at most (SQLite more). A larger id in a
# path or a filter is a 422 here, instead of reaching the query and failing there.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


def row_id_filter(description: str | None = None):
    """An optional `?item=`-style filter by row id."""
    return Query(None, ge=1, le=MAX_ROW_ID, description=description)


def _session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _current_user(session: SessionDep, request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    if credentials is None:
        raise HTTPException(401, "a bearer token is required")
    user = user_for_token(session, credentials.credentials)
    if user is None:
        raise HTTPException(401, "the bearer token is not valid")
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


def _admin(user: CurrentUser) -> User:
    if user.role != Role.admin:
        raise HTTPException(403, "this needs an admin")
    return user


AdminUser = Annotated[User, Depends(_admin)]
