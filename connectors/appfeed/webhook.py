"""Signed webhook pushes to a registered app: the push half of the feed contract.

Wire format (what an app implements):

    POST {webhook_url}
    Content-Type: application/json
    X-CK-Event: publish | correct | takedown
    X-CK-Delivery: <id>             same id on every retry of one delivery: deduplicate on it
    X-CK-Signature: sha256=<hex>    HMAC-SHA256 of the raw body with the shared secret

    {"event": "publish", "feed": "<feed code>", "item": <JSON Feed item>}
    {"event": "takedown", "feed": "<feed code>", "item": {"id", "removed_at", "reason"}}

Any 2xx acknowledges. How other answers rank (connectors.base error tree):
    429, 408, 5xx, connection refused/reset before sending, connect timeout  → RetryableError
    other 3xx/4xx (401 bad signature, 404 unknown app, …)                       → PermanentError
    timeout or disconnect after the request went out                            → OutcomeUnknownError
"""

import hashlib
import hmac
import json
import uuid
from enum import StrEnum
from typing import Any

import httpx

from connectors.base import OutcomeUnknownError, PermanentError, RetryableError

SIGNATURE_HEADER = "X-CK-Signature"
DELIVERY_HEADER = "X-CK-Delivery"
EVENT_HEADER = "X-CK-Event"
USER_AGENT = "CentralKitchen-AppFeed/1"

_DELIVERY_NAMESPACE = uuid.UUID("6f1c2a8e-3d4b-5c6d-8e9f-0a1b2c3d4e5f")


class WebhookEvent(StrEnum):
    publish = "publish"
    correct = "correct"
    takedown = "takedown"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def delivery_id(feed: str, item_id: int, revision: int, event: WebhookEvent) -> str:
    """Deterministic, so a retry (even from another worker) carries the id the app already saw."""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{feed}/{item_id}/{revision}/{event.value}"))


def encode(event: WebhookEvent, feed: str, item: dict[str, Any]) -> bytes:
    return json.dumps({"event": event.value, "feed": feed, "item": item}, ensure_ascii=False).encode()


def push(
    client: httpx.Client,
    url: str,
    *,
    secret: str,
    event: WebhookEvent,
    feed: str,
    item: dict[str, Any],
    delivery: str,
) -> httpx.Response:
    """POST one signed delivery; return the 2xx response or raise the ranked connector error."""
    body = encode(event, feed, item)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event.value,
        DELIVERY_HEADER: delivery,
        SIGNATURE_HEADER: sign(secret, body),
    }
    try:
        response = client.post(url, content=body, headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise RetryableError(f"webhook {url}: not sent: {exc!r}", code="connect") from exc
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise OutcomeUnknownError(f"webhook {url}: no answer after sending: {exc!r}", code="no_answer") from exc
    except httpx.HTTPError as exc:
        raise PermanentError(f"webhook {url}: {exc!r}", code="request") from exc
    status = response.status_code
    if 200 <= status < 300:
        return response
    message = f"webhook {url}: HTTP {status}: {response.text[:200]}"
    if status in (408, 429) or status >= 500:
        raise RetryableError(message, code=status, retry_after=_retry_after(response))
    raise PermanentError(message, code=status)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
