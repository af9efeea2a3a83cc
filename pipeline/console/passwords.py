"""Console passwords: argon2id hashes (argon2-cffi's PasswordHasher, its recommended parameters).

A password is only ever stored as its hash in `User.password_hash`; an account without one cannot
sign in to the console (it may still use its API token)."""

import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from pipeline.audit import record
from pipeline.errors import Invalid
from pipeline.store.models import User

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("central-kitchen: no such user")


def set_password(session: Session, actor: User | None, user: User, password: str) -> None:
    """Store a new password for `user` (audited); every console session of `user` ends with it."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"a password has at most {MAX_LENGTH} characters")
    if not password.strip():
        raise Invalid("a password must not be only spaces")
    user.password_hash = _hasher.hash(password)
    session.add(user)
    record(session, actor, "user.password", name=user.name)
    session.flush()


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, else None (the caller says only "wrong")."""
    user = session.exec(select(User).where(User.name == name.strip())).first()
    if user is None or not user.password_hash:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.add(user)
        session.flush()
    return user


def password_stamp(user: User) -> str:
    """A short digest of the stored hash: sessions carry it, so a new password ends old sessions."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
