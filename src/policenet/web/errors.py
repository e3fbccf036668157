"""The one place where errors become HTTP responses.

A :class:`~policenet.errors.PolicenetError` becomes its status code and a JSON
body ``{"error": code, "message": text}``. Anything else is a 500 whose body
carries only a reference; the traceback goes to the log under that reference.
"""

from __future__ import annotations

import logging
import secrets

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from policenet.errors import PolicenetError

log = logging.getLogger("policenet.web")


def error_body(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def policenet_error_response(exc: PolicenetError) -> JSONResponse:
    if exc.detail:
        log.warning("%s: %s (%s)", exc.code, exc.message, exc.detail)
    return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code)


def internal_reference(exc: BaseException) -> str:
    """Log ``exc`` with its traceback under a new reference, and return the reference."""
    reference = secrets.token_hex(6)
    log.error("internal error %s", reference, exc_info=exc)
    return reference


def internal_error_response(exc: BaseException) -> JSONResponse:
    reference = internal_reference(exc)
    return JSONResponse(
        error_body("internal", f"internal error; quote reference {reference} to the operator"),
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_policenet(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PolicenetError)
        return policenet_error_response(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return JSONResponse(error_body("invalid_input", "; ".join(problems)), status_code=422)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            error_body("http", str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    async def on_other(_: Request, exc: Exception) -> JSONResponse:
        return internal_error_response(exc)

    app.add_exception_handler(PolicenetError, on_policenet)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_other)
