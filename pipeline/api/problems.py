"""Every error leaves the API as `application/problem+json` (RFC 9457) with a readable detail."""

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from pipeline.errors import CKError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"
FASTAPI_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's detail for undecodable bodies


def problem(status: int, title: str, detail: str, **extra) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def install(app: FastAPI) -> None:
    @app.exception_handler(CKError)
    async def _ck_error(_: Request, exc: CKError):
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(400, "Malformed body", "the body is not valid UTF-8 JSON: " + _describe(errors[0]))
        clean = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors]
        return problem(422, "Invalid request", "; ".join(_describe(e) for e in errors), errors=clean)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException):
        if exc.status_code == 400 and exc.detail == FASTAPI_PARSE_ERROR:
            return problem(400, "Malformed body", "the body could not be read: it must be UTF-8 encoded JSON")
        return problem(exc.status_code, HTTPStatus(exc.status_code).phrase, str(exc.detail))

    @app.exception_handler(DataError)
    async def _unstorable(_: Request, exc: DataError):
        """A value the database refuses by type (PostgreSQL: a NUL character in text, a number out
        of range): bad input, rolled back with its request; the database's own words in the detail."""
        reason = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
        return problem(422, "Invalid value", f"a value in the request cannot be stored or searched: {reason}")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        log.exception("unexpected error")
        return problem(500, "Internal error", "an unexpected error occurred; it has been logged")
