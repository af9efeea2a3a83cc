"""HTTP face of the emulator: WeChat's `/cgi-bin/` endpoints and the `/_sandbox/` controls."""

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connectors.wechat.emulator.faults import FaultPlan, Faults
from connectors.wechat.emulator.state import ApiError, EmulatorConfig, WeChatState

JSON_TYPE = "application/json; encoding=utf-8"  # what api.weixin.qq.com sends


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Call:
    """One parsed API call: the caller's appid (None before a token exists), query, JSON body, file."""

    appid: str | None
    query: dict[str, str]
    body: dict[str, Any]
    upload: Upload | None


@dataclass(frozen=True)
class Endpoint:
    method: str
    handler: Callable[[Call], dict]
    needs_token: bool = True
    payload: str = "json"  # json | multipart | none


def _endpoints(state: WeChatState) -> dict[str, Endpoint]:
    def upload(call: Call) -> Upload:
        if call.upload is None:
            raise ApiError(41005)
        return call.upload

    return {
        "token": Endpoint("GET", lambda c: state.fetch_token(c.query), needs_token=False, payload="none"),
        "stable_token": Endpoint("POST", lambda c: state.stable_token(c.body), needs_token=False),
        "material/add_material": Endpoint(
            "POST",
            lambda c: state.add_material(c.appid, c.query.get("type"), upload(c).filename, upload(c).data),
            payload="multipart",
        ),
        "media/uploadimg": Endpoint(
            "POST", lambda c: state.upload_image(c.appid, upload(c).filename, upload(c).data), payload="multipart"
        ),
        "draft/add": Endpoint("POST", lambda c: state.draft_add(c.appid, c.body)),
        "draft/get": Endpoint("POST", lambda c: state.draft_get(c.appid, c.body)),
        "draft/update": Endpoint("POST", lambda c: state.draft_update(c.appid, c.body)),
        "draft/delete": Endpoint("POST", lambda c: state.draft_delete(c.appid, c.body)),
        "draft/count": Endpoint("GET", lambda c: state.draft_count(c.appid), payload="none"),
        "draft/batchget": Endpoint("POST", lambda c: state.draft_batchget(c.appid, c.body)),
        "freepublish/submit": Endpoint("POST", lambda c: state.publish_submit(c.appid, c.body)),
        "freepublish/get": Endpoint("POST", lambda c: state.publish_get(c.appid, c.body)),
        "freepublish/delete": Endpoint("POST", lambda c: state.publish_delete(c.appid, c.body)),
        "freepublish/getarticle": Endpoint("POST", lambda c: state.publish_getarticle(c.appid, c.body)),
        "freepublish/batchget": Endpoint("POST", lambda c: state.publish_batchget(c.appid, c.body)),
    }


def wechat_json(body: dict, status_code: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"), status_code, media_type=JSON_TYPE)


async def _json_body(request: Request) -> tuple[dict, bytes]:
    """JSON is read from the raw body whatever the Content-Type (wechatpy sends none)."""
    raw = await request.body()
    if not raw.strip():
        raise ApiError(44002)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(47001) from None
    if not isinstance(body, dict):
        raise ApiError(47001)
    return body, raw


async def _upload(request: Request) -> Upload | None:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return None
    try:
        form = await request.form()
    except MultiPartException:
        raise ApiError(47001) from None
    try:
        media = form.get("media")
        if media is None:
            return None
        if not isinstance(media, UploadFile) or not media.filename:
            raise ApiError(40005)  # WeChat needs a file name to tell the format
        return Upload(media.filename, await media.read())
    finally:
        await form.close()


async def _hold_reply(request: Request, seconds: float) -> None:
    """Keep the reply back until the client gives up waiting, or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not await request.is_disconnected():
        await asyncio.sleep(0.05)


def create_app(config: Mapping[str, str] | EmulatorConfig) -> Starlette:
    """The emulator as an ASGI app, for accounts given as {appid: secret} or a full EmulatorConfig."""
    if not isinstance(config, EmulatorConfig):
        config = EmulatorConfig(accounts=dict(config))
    state = WeChatState(config)
    faults = Faults()
    endpoints = _endpoints(state)

    async def api(request: Request) -> Response:
        path = request.path_params["path"]
        endpoint = endpoints.get(path)
        if endpoint is None:
            return PlainTextResponse("Not Found", 404)
        started = time.monotonic()
        decision = faults.decide(request.url.path)
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        query = dict(request.query_params)
        appid = None
        warning = None
        status_code = 200
        try:
            if request.method != endpoint.method:
                raise ApiError(43001 if endpoint.method == "GET" else 43002)
            if decision.action == "http_500":
                status_code = 500
                reply = {"errcode": -1, "errmsg": "Internal Server Error"}
            elif decision.action == "errcode":
                raise ApiError(decision.code)
            else:
                if endpoint.needs_token:
                    appid = state.check_token(query.get("access_token"))
                body, upload = {}, None
                if endpoint.payload == "json":
                    body, raw = await _json_body(request)
                    if b"\\u" in raw:
                        warning = "unicode escapes in the JSON body (WeChat asks for raw UTF-8)"
                elif endpoint.payload == "multipart":
                    upload = await _upload(request)
                appid = appid or body.get("appid") or query.get("appid")
                reply = endpoint.handler(Call(appid, query, body, upload))
        except ApiError as error:
            reply = error.body()
        state.record(
            {
                "time": time.time(),
                "method": request.method,
                "path": request.url.path,
                "appid": appid,
                "http_status": status_code,
                "errcode": int(reply.get("errcode", 0)),
                "fault": decision.action,
                "warning": warning,
            }
        )
        if decision.action == "timeout_after_effect":
            stall_ms = config.stall_ms if decision.stall_ms is None else decision.stall_ms
            await _hold_reply(request, stall_ms / 1000 - (time.monotonic() - started))
        return wechat_json(reply, status_code)

    async def posts(request: Request) -> Response:
        return JSONResponse(state.posts(request.query_params.get("appid")))

    async def requests_log(request: Request) -> Response:
        return JSONResponse(state.requests(request.query_params.get("path")))

    async def set_faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                plan = FaultPlan.model_validate_json(await request.body() or b"{}")
            except ValidationError as error:
                return JSONResponse({"error": str(error)}, 400)
            state.set_publishing(plan.publish_delay_ms, plan.publish_outcome)
            faults.install(plan)
            if plan.expire_tokens:
                state.expire_tokens()
        return JSONResponse(_control_view(state, faults))

    async def reset(request: Request) -> Response:
        state.reset()
        faults.install(FaultPlan())
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[
            Route("/cgi-bin/{path:path}", api, methods=["GET", "POST"]),
            Route("/_sandbox/posts", posts, methods=["GET"]),
            Route("/_sandbox/requests", requests_log, methods=["GET"]),
            Route("/_sandbox/faults", set_faults, methods=["GET", "POST"]),
            Route("/_sandbox/reset", reset, methods=["POST"]),
        ]
    )
    app.state.wechat = state
    app.state.faults = faults
    return app


def _control_view(state: WeChatState, faults: Faults) -> dict:
    return {**faults.snapshot(), "publish_delay_ms": state.publish_delay_ms, "publish_outcome": state.publish_outcome}
