"""Refuse oversize request bodies with 413 before they are read into memory."""

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from pipeline.api.problems import PROBLEM


class BodySizeLimit:
    """`max_bytes` for every path, except the paths given their own limit in `per_path`."""

    def __init__(self, app: ASGIApp, max_bytes: int, per_path: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.per_path.get(scope["path"].rstrip("/"), self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return await self._refuse(send, limit)
        seen, too_large, answered = 0, False, False

        async def limited_receive():
            nonlocal seen, too_large
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                too_large = True
                raise _TooLarge
            return message

        async def guarded_send(message):
            """Once the body went past the limit, whatever the app answers (FastAPI turns the
            interrupted read into a 400) is replaced by the 413."""
            nonlocal answered
            if too_large:
                if not answered:
                    answered = True
                    await self._refuse(send, limit)
                return
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        if too_large and not answered:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps({"type": "about:blank", "title": "Content too large", "status": 413,
                           "detail": f"request bodies here are limited to {limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
