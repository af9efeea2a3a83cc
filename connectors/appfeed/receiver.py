"""Emulator of an app's webhook endpoint: a real HTTP app to serve on loopback (`ServerThread`).

    POST /hooks/{app_code}      a delivery (see `webhook`): 404 unknown app, 401 bad or missing
                                signature, 400 missing X-CK-Delivery or body not JSON; else 200
                                {"ok": true, "duplicate": bool}. A repeated X-CK-Delivery is
                                acknowledged again but recorded once (its `received` count grows).

Control endpoints, shared by all our emulators:

    GET  /_sandbox/posts        {"posts": [...], "duplicates": n, "rejected": n}; each post is
                                {"delivery", "app", "event", "item_id", "body", "received", "first_at"}
    GET  /_sandbox/faults       the current fault settings
    POST /_sandbox/faults       replace them: {"error_rate", "http_500_rate", "latency_ms",
                                "timeout_after_effect_rate", "stall_ms", "next_n", "seed"}; omitted
                                keys take their defaults (no faults). Per delivery, as in the other
                                emulators: `latency_ms`; then independent seeded rolls in order
                                  http_500_rate              500 with an HTML page (nothing recorded)
                                  error_rate                 503 {"error": "busy"}, Retry-After: 1 (nothing recorded)
                                  timeout_after_effect_rate  record the delivery, then stall `stall_ms`
                                                             or until the client hangs up
                                `next_n` limits all that to the next N deliveries.
    POST /_sandbox/reset        forget posts and faults
"""

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from connectors.appfeed.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, signature_matches


class Faults(BaseModel):
    """Fault settings for deliveries (control endpoints are never faulted); see the module docstring."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0, le=1)
    http_500_rate: float = Field(default=0.0, ge=0, le=1)
    latency_ms: int = Field(default=0, ge=0)
    timeout_after_effect_rate: float = Field(default=0.0, ge=0, le=1)
    stall_ms: int = Field(default=15_000, ge=0)
    next_n: int | None = Field(default=None, ge=0)
    seed: int | None = None


@dataclass
class _Plan:
    latency: float = 0.0
    fault: str | None = None  # "http_500", "error" or "timeout_after_effect"


@dataclass
class _Receiver:
    secrets: dict[str, str]
    faults: Faults = field(default_factory=Faults)
    rng: random.Random = field(default_factory=random.Random)
    faulty_calls_left: int | None = None
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0
    rejected: int = 0

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self.rng = random.Random(faults.seed)
        self.faulty_calls_left = faults.next_n

    def plan(self) -> _Plan:
        """Roll the dice for one delivery (consumes one of `next_n`)."""
        f = self.faults
        if self.faulty_calls_left is not None:
            if self.faulty_calls_left <= 0:
                return _Plan()
            self.faulty_calls_left -= 1
        plan = _Plan(latency=f.latency_ms / 1000)
        if self.rng.random() < f.http_500_rate:
            plan.fault = "http_500"
        elif self.rng.random() < f.error_rate:
            plan.fault = "error"
        elif self.rng.random() < f.timeout_after_effect_rate:
            plan.fault = "timeout_after_effect"
        return plan


def create_app(secrets: dict[str, str]) -> Starlette:
    """`secrets` maps app code → shared webhook secret; deliveries go to POST /hooks/{app_code}."""
    receiver = _Receiver(secrets=dict(secrets))

    async def deliver(request: Request) -> Response:
        app_code = request.path_params["app_code"]
        body = await request.body()
        plan = receiver.plan()
        if plan.latency:
            await asyncio.sleep(plan.latency)
        if plan.fault == "http_500":
            return HTMLResponse("<html><body><h1>500 Internal Server Error</h1></body></html>", status_code=500)
        if plan.fault == "error":
            return JSONResponse({"error": "busy"}, status_code=503, headers={"Retry-After": "1"})
        secret = receiver.secrets.get(app_code)
        if secret is None:
            return JSONResponse({"error": "unknown app"}, status_code=404)
        if not signature_matches(secret, body, request.headers.get(SIGNATURE_HEADER)):
            receiver.rejected += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        delivery = request.headers.get(DELIVERY_HEADER)
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "body is not JSON"}, status_code=400)
        if not delivery:
            return JSONResponse({"error": f"{DELIVERY_HEADER} missing"}, status_code=400)
        duplicate = delivery in receiver.posts
        if duplicate:
            receiver.posts[delivery]["received"] += 1
            receiver.duplicates += 1
        else:
            receiver.posts[delivery] = {
                "delivery": delivery,
                "app": app_code,
                "event": payload.get("event"),
                "item_id": (payload.get("item") or {}).get("id"),
                "body": payload,
                "received": 1,
                "first_at": datetime.now(UTC).isoformat(),
            }
        if plan.fault == "timeout_after_effect":
            await _stall(request, receiver.faults.stall_ms / 1000)
        return JSONResponse({"ok": True, "duplicate": duplicate})

    async def posts(request: Request) -> Response:
        return JSONResponse(
            {"posts": list(receiver.posts.values()), "duplicates": receiver.duplicates, "rejected": receiver.rejected}
        )

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                receiver.set_faults(Faults.model_validate_json(await request.body()))
            except ValidationError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(receiver.faults.model_dump())

    async def reset(request: Request) -> Response:
        receiver.set_faults(Faults())
        receiver.posts.clear()
        receiver.duplicates = receiver.rejected = 0
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/hooks/{app_code}", deliver, methods=["POST"]),
            Route("/_sandbox/posts", posts, methods=["GET"]),
            Route("/_sandbox/faults", faults, methods=["GET", "POST"]),
            Route("/_sandbox/reset", reset, methods=["POST"]),
        ]
    )


async def _stall(request: Request, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not await request.is_disconnected():
        await asyncio.sleep(0.05)
