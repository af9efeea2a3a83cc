"""Creating users and resolving a bearer token to a user."""

from sqlmodel import Session, select

from pipeline.errors import Conflict, Invalid, NotFound
from pipeline.org.roles import Role
from pipeline.org.tokens import new_token, token_digest
from pipeline.org.units import get_unit
from pipeline.store.models import User


def add_user(session: Session, name: str, role: str, unit_code: str, display_name: str = "") -> tuple[User, str]:
    """Create a user and return it with its token (the only time the token is seen)."""
    try:
        role = Role(role)
    except ValueError:
        raise Invalid(f"role {role!r} is not one of {', '.join(r.value for r in Role)}") from None
    if not name.strip():
        raise Invalid("user name must not be empty")
    if session.exec(select(User).where(User.name == name)).first():
        raise Conflict(f"user {name!r} already exists")
    unit = get_unit(session, unit_code)
    token = new_token()
    user = User(name=name, display_name=display_name or name, role=role.value, unit_id=unit.id,
                token_hash=token_digest(token))
    session.add(user)
    session.flush()
    return user, token


def user_for_token(session: Session, token: str) -> User | None:
    user = session.exec(select(User).where(User.token_hash == token_digest(token))).first()
    return user if user and user.active else None


def get_user(session: Session, name: str) -> User:
    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"user {name!r} does not exist")
    return user
