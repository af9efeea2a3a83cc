"""API bearer tokens: random, shown once, stored only as a SHA-256 digest."""

import hashlib
import secrets


def new_token() -> str:
    return "ck_" + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
