"""One error type per failure class; the API maps each to an HTTP status and a problem+json body.

    CKError
    ├── NotFound          404  unknown item, unit, user …
    ├── Forbidden         403  the actor may not do this (role, own item, second level)
    ├── Conflict          409  a step out of order (reviewing a draft, signing twice)
    ├── Invalid           422  input that cannot be stored as given
    │   └── GateRefused   422  content gates found problems (carries the findings)
    └── TooLarge          413  body or upload over the limit
"""

from typing import Any


class CKError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(CKError):
    status = 404
    title = "Not found"


class Forbidden(CKError):
    status = 403
    title = "Forbidden"


class Conflict(CKError):
    status = 409
    title = "Conflict"


class Invalid(CKError):
    status = 422
    title = "Unprocessable content"


class GateRefused(Invalid):
    title = "Content gates refused the item"

    MAX_LISTED = 100  # hostile input can produce thousands; the count says how many there were

    def __init__(self, detail: str, findings: list):
        super().__init__(detail, findings=[f.model_dump() for f in findings[: self.MAX_LISTED]],
                         findings_total=len(findings))
        self.findings = findings


class TooLarge(CKError):
    status = 413
    title = "Content too large"
