"""The small interface every channel connector implements, and the errors it raises.

Error tree:

    ConnectorError            any failure a connector reports
    ├── RetryableError        try again later (rate limits, 5xx, busy)
    ├── PermanentError        never retry without a human (bad credentials, content refused)
    └── OutcomeUnknownError   the call may have taken effect (timeout after sending): verify first

Connectors are synchronous (wechatpy is requests-based); the channel agents run them in threads.
"""

from typing import Any, Protocol, runtime_checkable

from schemas.delivery import ErrorClass, Receipt, Target
from schemas.item import ItemSnapshot


class ConnectorError(Exception):
    error_class = ErrorClass.unknown

    def __init__(self, message: str, *, code: str | int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class RetryableError(ConnectorError):
    error_class = ErrorClass.retryable


class PermanentError(ConnectorError):
    error_class = ErrorClass.permanent


class OutcomeUnknownError(ConnectorError):
    error_class = ErrorClass.unknown


class MediaSource(Protocol):
    """Where connectors read media bytes by SHA-256 (the store's media files implement it)."""

    def read(self, sha256: str) -> bytes: ...


@runtime_checkable
class Connector(Protocol):
    channel: str

    def render(self, item: ItemSnapshot, target: Target) -> Any:
        """Item → the channel's payload, with no I/O (used for previews and tests)."""

    def publish(self, item: ItemSnapshot, target: Target) -> Receipt: ...

    def correct(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt:
        """Replace what `previous` published with this newer revision."""

    def take_down(self, item: ItemSnapshot, target: Target, previous: Receipt) -> Receipt: ...

    def verify(self, item: ItemSnapshot, target: Target, previous: Receipt | None) -> Receipt | None:
        """Ask the platform whether an earlier attempt took effect (or whether a pending job finished).

        Returns the receipt when it did, None when the platform has no trace of it.
        """

    def classify(self, error: Exception) -> ErrorClass: ...


def classify_default(error: Exception) -> ErrorClass:
    """The classification shared by all connectors for our own error types."""
    if isinstance(error, ConnectorError):
        return error.error_class
    return ErrorClass.unknown
