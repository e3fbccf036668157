"""The officers' web UI, served by each node (never by the hub) under ``/ui``.

Server-rendered pages (Jinja2) that work without JavaScript for every core
action; one small script (``static/live.js``) adds live inbox updates and
deadline countdowns where scripts run. See ``docs/web-ui.md``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from policenet.errors import PolicenetError
from policenet.node.ui import admin, casework, live, pages
from policenet.node.ui.web import PREFIX, LoginNeeded, error_page, language, login_redirect
from policenet.web.errors import (
    internal_error_response,
    internal_reference,
    policenet_error_response,
)


def install(app: FastAPI) -> None:
    """Add the UI's routes, its static files and its error pages to the node's app."""
    for router in (pages.router, casework.router, admin.router, live.router):
        app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(packages=[("policenet.node.ui", "static")]))

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=303)

    async def on_login_needed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginNeeded)
        return login_redirect(exc, language(request))

    async def on_policenet(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PolicenetError)
        if request.url.path.startswith(PREFIX):
            return error_page(request, exc.status_code, exc.message)
        return policenet_error_response(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if request.url.path.startswith(PREFIX):
            return error_page(request, exc.status_code, str(exc.detail))
        return Response(status_code=exc.status_code)

    async def on_other(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith(PREFIX):
            return internal_error_response(exc)
        reference = internal_reference(exc)
        return error_page(
            request, 500, language(request).text("error.internal", reference=reference)
        )

    app.add_exception_handler(LoginNeeded, on_login_needed)
    app.add_exception_handler(PolicenetError, on_policenet)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_other)
