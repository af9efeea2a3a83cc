"""Credentials sealed at rest: WeChat app secrets, Weibo tokens and webhook secrets.

A target's `config` keeps its ordinary settings; the secret ones (`SECRET_KEYS`) are taken out and
stored as one Fernet token in `ChannelTarget.secrets`. They are opened only to build the
connector's runtime target (`pipeline.distribution.channels.runtime_target`); the API and the CLI
show their names, never their values, and nothing logs them.

Keys (Fernet, urlsafe base64), newest first so the first one seals and every one opens:
- `CK_SECRET_KEY`: one or more keys, comma-separated; or
- `CK_SECRET_KEY_FILE` (default `<CK_DATA_DIR>/keys/secret.key`): one key a line, created with mode
  0600 on first use when no key is configured.

`ck keys rotate` puts a new key first in the key file, re-seals every target under it (sealing any
plain secrets left from before 0003 too) and then drops the old keys. With `CK_SECRET_KEY`, put the
new key first yourself (`ck keys generate`), run `ck keys rotate`, then remove the old one.
"""

import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlmodel import Session, select

from pipeline.config import Settings
from pipeline.errors import CKError
from pipeline.store.models import ChannelTarget

SECRET_KEYS = frozenset({"secret", "appsecret", "app_secret", "access_token", "refresh_token", "token",
                         "webhook_secret", "password", "client_secret", "api_key"})


class CredentialsUnavailable(CKError):
    status = 500
    title = "Credentials unavailable"


def is_secret(name: str) -> bool:
    return name.lower() in SECRET_KEYS


def split(config: dict) -> tuple[dict, dict]:
    """(ordinary settings, secrets)."""
    plain = {k: v for k, v in config.items() if not is_secret(k)}
    return plain, {k: v for k, v in config.items() if is_secret(k)}


@dataclass(frozen=True)
class Keyring:
    keys: tuple[bytes, ...]
    source: str  # "CK_SECRET_KEY" or the key file's path: shown to operators, never the keys

    @property
    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k) for k in self.keys])

    def seal(self, secrets: dict) -> str:
        return self._fernet.encrypt(json.dumps(secrets, ensure_ascii=False).encode("utf-8")).decode("ascii")

    def open(self, token: str, what: str = "credentials") -> dict:
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii")))
        except InvalidToken:
            raise CredentialsUnavailable(
                f"the stored {what} cannot be opened with the key(s) from {self.source}: "
                "was the key changed without `ck keys rotate`?") from None

    def reseal(self, token: str) -> str:
        """The same secrets sealed under the newest key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise CredentialsUnavailable(f"stored credentials cannot be opened with the key(s) from {self.source}") \
                from None


def _parse_keys(text: str, source: str) -> tuple[bytes, ...]:
    keys = tuple(k.strip().encode("ascii") for k in text.replace(",", "\n").splitlines()
                 if k.strip() and not k.strip().startswith("#"))
    if not keys:
        raise CredentialsUnavailable(f"no key in {source}")
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise CredentialsUnavailable(f"{source} holds something that is not a Fernet key "
                                         "(32 url-safe base64-encoded bytes; `ck keys generate` makes one)") from None
    return keys


def key_file(settings: Settings) -> Path:
    return settings.secret_key_file or settings.data_dir / "keys" / "secret.key"


def _create_key_file(path: Path) -> None:
    """Write a new key file atomically; if another process won the race, keep its file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(Fernet.generate_key().decode("ascii") + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


@lru_cache(maxsize=8)
def _from_file(path: Path, mtime_ns: int, size: int) -> Keyring:
    return Keyring(_parse_keys(path.read_text(encoding="ascii"), str(path)), str(path))


def keyring(settings: Settings) -> Keyring:
    """The configured keys; read again whenever the key file changes (after a rotation)."""
    if settings.secret_key is not None:
        return Keyring(_parse_keys(settings.secret_key.get_secret_value(), "CK_SECRET_KEY"), "CK_SECRET_KEY")
    path = key_file(settings).resolve()
    if not path.exists():
        _create_key_file(path)
    stat = path.stat()
    return _from_file(path, stat.st_mtime_ns, stat.st_size)


def protect(row: ChannelTarget, config: dict, settings: Settings) -> None:
    """Store a new target's `config`: ordinary settings in `config`, the secrets sealed."""
    plain, secrets = split(config)
    row.config = plain
    row.secrets = keyring(settings).seal(secrets) if secrets else None


def update_secrets(row: ChannelTarget, changes: dict, settings: Settings) -> None:
    """Merge `changes` into the row's sealed secrets (None removes one); plain secrets left from
    before 0003 are sealed on the way."""
    ring = keyring(settings)
    plain, loose = split(row.config or {})
    held = ring.open(row.secrets, f"credentials of {row.code}") if row.secrets else {}
    held = {k: v for k, v in (held | loose | changes).items() if v is not None}
    row.config = plain
    row.secrets = ring.seal(held) if held else None


def reveal(row: ChannelTarget, settings: Settings) -> dict:
    """The whole config a connector needs: settings and opened secrets. Never return or log it."""
    config = dict(row.config or {})
    if row.secrets:
        config |= keyring(settings).open(row.secrets, f"credentials of {row.code}")
    return config


def secret_names(row: ChannelTarget, settings: Settings) -> list[str]:
    """Which secrets the target holds (names only), for the registry's views; a listing must not
    fail because one target was sealed under a key no longer configured."""
    try:
        held = reveal(row, settings)
    except CredentialsUnavailable:
        return ["(sealed under a key not configured here)"]
    return sorted(k for k in held if is_secret(k))


@dataclass
class Rotation:
    resealed: int = 0
    sealed_plain: int = 0  # targets whose secrets were still in plain config


def reseal_all(session: Session, settings: Settings) -> Rotation:
    """Every target's secrets sealed under the newest key, plain ones sealed too."""
    ring = keyring(settings)
    done = Rotation()
    for row in session.exec(select(ChannelTarget).order_by(ChannelTarget.id).with_for_update()):
        if split(row.config or {})[1]:
            update_secrets(row, {}, settings)
            done.sealed_plain += 1
        elif row.secrets:
            row.secrets = ring.reseal(row.secrets)
            done.resealed += 1
        session.add(row)
    session.flush()
    return done


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def write_keys(path: Path, keys: list[str]) -> None:
    """Replace the key file atomically (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(k + "\n" for k in keys))
    os.replace(tmp, path)


def rotate(session_factory: Callable[[], AbstractContextManager[Session]], settings: Settings,
           keep_old: bool = False) -> tuple[Rotation, str]:
    """`ck keys rotate`: with a key file, a new key goes first, everything is re-sealed under it
    (committed), then the old keys are dropped unless `keep_old`. With CK_SECRET_KEY, re-seal under
    its first key. Returns what was done and a line for the operator."""
    if settings.secret_key is not None:
        with session_factory() as session:
            done = reseal_all(session, settings)
        return done, "re-sealed under the first key of CK_SECRET_KEY; old keys there may now be removed"
    path = key_file(settings).resolve()
    old = list(k.decode("ascii") for k in keyring(settings).keys)
    fresh = new_key()
    write_keys(path, [fresh, *old])
    with session_factory() as session:
        done = reseal_all(session, settings)
    if not keep_old:
        write_keys(path, [fresh])
    return done, f"new key first in {path}" + ("; old keys kept after it" if keep_old else "; old keys removed")
