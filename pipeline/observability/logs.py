"""Structured logs: one JSON object a line when not on a terminal (text on a terminal), carrying
the item, revision, target and delivery being worked on, with credentials redacted.

Context travels in a `contextvars.ContextVar`, so `asyncio.to_thread` (which copies the context)
carries it into the database and connector code an agent runs:

    with log_context(delivery_id=12, item_id=3, revision=1, target="cq-wechat"):
        await asyncio.to_thread(deliver, ...)   # every line logged inside names the delivery

Redaction happens on the formatted line, exception text included, so a secret cannot slip out
through a library's message or a traceback: registered secret values (the targets' credentials,
the database password) and anything shaped like a credential (`access_token=…`, `"secret": "…"`,
`Bearer …`, `user:password@` in URLs) become `***`.
"""

import contextvars
import json
import logging
import logging.config
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

MASK = "***"
CONTEXT_FIELDS = ("service", "channel", "item_id", "revision", "target", "delivery_id", "operation", "event_id")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("ck_log_context", default={})
_MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words

# Key names whose values are credentials, wherever they appear (query strings, JSON, reprs).
_SECRET_NAMES = r"(?:access_token|refresh_token|appsecret|app_secret|webhook_secret|secret|password|passwd|token)"
_PATTERNS = [
    (re.compile(rf"(?i)(\b{_SECRET_NAMES}=)[^&\s\"'<>,;)]+"), rf"\1{MASK}"),
    (re.compile(rf"(?i)([\"']{_SECRET_NAMES}[\"']\s*:\s*)([\"'])(?:\\.|(?!\2).)*\2"), rf"\1\2{MASK}\2"),
    (re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9._~+/=-]+"), rf"\1{MASK}"),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s/]+@"), rf"\1{MASK}@"),
]


class Redactor:
    """Masks known secret values and credential-shaped text. Thread-safe; one per process."""

    def __init__(self) -> None:
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def remember(self, *values: object) -> None:
        fresh = {str(v) for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LENGTH}
        if fresh - self._secrets:
            with self._lock:
                self._secrets = self._secrets | fresh

    def remember_config(self, config: Mapping[str, Any]) -> None:
        """The credentials in a target's config (the registry's SECRET_KEYS, nested dicts too)."""
        from pipeline.registry.targets import SECRET_KEYS

        for key, value in config.items():
            if isinstance(value, Mapping):
                self.remember_config(value)
            elif key.lower() in SECRET_KEYS or re.search(r"(?i)secret|token|password", key):
                self.remember(value)

    def remember_url_password(self, url: str | None) -> None:
        try:
            self.remember(urlsplit(url or "").password)
        except ValueError:
            pass

    def remember_settings(self, settings: Any) -> None:
        """The process's own secrets: the database password and every secret-typed setting."""
        from pydantic import SecretStr

        self.remember_url_password(settings.database_url)
        for name in type(settings).model_fields:
            value = getattr(settings, name)
            if isinstance(value, SecretStr):
                self.remember(*value.get_secret_value().split(","), value.get_secret_value())
            elif isinstance(value, str) and re.search(r"(?i)secret|token|password", name):
                self.remember(value)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):  # longest first: no half-masked values
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


redact = Redactor()


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add fields to every log line written inside the block (and in threads it starts via to_thread)."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def set_service(name: str) -> None:
    """Name this process in every line (e.g. `worker central-kitchen.wechat`, `api`, `relay`)."""
    _context.set({**_context.get(), "service": name})
    _Formatter.service = name


class _Formatter(logging.Formatter):
    service: str | None = None  # also for threads started before set_service (their context is older)

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        fields = {"service": self.service} if self.service else {}
        fields.update(_context.get())
        for name in CONTEXT_FIELDS:
            if name in record.__dict__:
                fields[name] = record.__dict__[name]
        return fields


class JsonFormatter(_Formatter):
    """`{"ts", "level", "logger", "message", <context>, "exc"}`, one line each, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **self.fields(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # Redact the values before encoding: JSON escaping would hide `"secret": "…"` from the patterns.
        return json.dumps({k: redact(v) if isinstance(v, str) else v for k, v in line.items()},
                          ensure_ascii=False, default=lambda v: redact(str(v)))


class TextFormatter(_Formatter):
    """For people at a terminal: time, level, logger, message, then the context as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in self.fields(record).items() if k != "service")
        return redact(f"{text} [{extra}]" if extra else text)


def use_json(log_format: str, stream=None) -> bool:
    if log_format != "auto":
        return log_format == "json"
    stream = stream or sys.stderr
    return not (hasattr(stream, "isatty") and stream.isatty())


def logging_config(level: str | int = "INFO", log_format: str = "auto") -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: one stderr handler with the kitchen's formatter.
    Given to faust's Worker (`logging_config=`) and uvicorn (`log_config=`) alike."""
    formatter = JsonFormatter if use_json(log_format) else TextFormatter
    level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    handler = {"class": "logging.StreamHandler", "formatter": "ck", "stream": "ext://sys.stderr"}
    # httpx writes a line per platform request at INFO: only worth its cost when debugging
    quiet = {name: {"level": max(level, logging.WARNING) if isinstance(level, int) else "WARNING"}
             for name in ("httpx",)}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"ck": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"default": handler},
        "root": {"level": level, "handlers": ["default"]},
        # uvicorn configures these itself unless told; route them through the same handler.
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}
        | (quiet if not isinstance(level, int) or level > logging.DEBUG else {}),
    }


def setup_logging(service: str, settings: Any, level: str | int = "INFO", apply: bool = True) -> dict[str, Any]:
    """This process's logging config (applied unless `apply` is false, for faust and uvicorn to
    apply themselves); the settings' own secrets are remembered for redaction first."""
    redact.remember_settings(settings)
    set_service(service)
    config = logging_config(level, settings.log_format)
    if apply:
        logging.config.dictConfig(config)
    return config
