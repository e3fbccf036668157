"""What every page of the web UI shares: templates, headers, the officer's session, CSRF.

Security rules every page follows (and tests check):

- served by the node only, on its own HTTPS port, under ``/ui``;
- the session token is in a cookie that scripts cannot read (HttpOnly),
  sent over HTTPS only (Secure) and never by another site's page
  (SameSite=Strict); it is the same session as the API's (the officer
  directory's rules on idle time, lockout and logout apply);
- every form that changes something carries the session's CSRF token, and
  the login form a token of its own (double-submit cookie);
- every page is sent with a Content-Security-Policy that allows no inline
  script and no framing, and pages with police data with ``no-store``;
- templates escape everything they show (Jinja2 autoescape), so a name or a
  note can never become markup.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policenet.domain.officers import Officer, Role
from policenet.errors import Forbidden, InvalidField, Unauthenticated
from policenet.node.auth import NodeUser
from policenet.node.context import NodeContext
from policenet.node.officers import OfficerDirectory
from policenet.node.ui.i18n import COOKIE, Catalogue, available, catalogue, choose
from policenet.store.ports import OfficerSession

PREFIX = "/ui"
SESSION_COOKIE = "pn_session"
LOGIN_CSRF_COOKIE = "pn_login_csrf"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
    "strict-transport-security": "max-age=31536000",
}

_ENV = Environment(
    loader=PackageLoader("policenet.node.ui", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class SecurityHeaders:
    """Add :data:`HEADERS` to every answer under ``/ui`` (pages, fragments, static files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (k.encode(), v.encode())
                    for k, v in HEADERS.items()
                    if k.encode() not in present
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass(frozen=True, slots=True)
class Page:
    """The logged-in officer behind a page request."""

    officer: Officer
    session: OfficerSession
    token: str
    registers: tuple[str, ...] | None = None
    """The registers this member may search, as the hub last said (None: not known now)."""

    def may_search(self, register: str) -> bool:
        return self.registers is None or register in self.registers

    @property
    def user(self) -> NodeUser:
        return NodeUser(self.officer.username, self.officer.role, session_token=self.token)

    @property
    def is_operator(self) -> bool:
        return self.officer.role in (Role.OPERATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.officer.role is Role.ADMIN


class LoginNeeded(Exception):
    """No live session: the page answers with a redirect to the login form."""

    def __init__(self, reason: str, next_path: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.next_path = next_path


def language(request: Request) -> Catalogue:
    return catalogue(choose(request.cookies.get(COOKIE), request.headers.get("accept-language")))


def safe_next(path: str | None) -> str:
    """A path on this UI to go back to after login (never another site)."""
    if not path or not path.startswith(PREFIX + "/") or path.startswith("//") or "\\" in path:
        return PREFIX + "/"
    return path


async def current_page(request: Request, node: NodeContext) -> Page:
    """The officer of the session cookie, or LoginNeeded (expired, logged out, disabled...)."""
    token = request.cookies.get(SESSION_COOKIE)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        here = request.url.path
    if not token:
        raise LoginNeeded("", here)
    try:
        found = await run_in_threadpool(node.officers.authenticate, token, node.clock())
    except Unauthenticated as exc:
        raise LoginNeeded(exc.message, here) from None
    return Page(found.officer, found.session, token)


def require_csrf(page: Page, form: Mapping[str, Any]) -> None:
    """Forbidden unless the form carries the session's CSRF token."""
    submitted = form.get("csrf")
    OfficerDirectory.check_csrf(page.session, submitted if isinstance(submitted, str) else None)


def require_operator(page: Page, words: Catalogue) -> None:
    if not page.is_operator:
        raise Forbidden(words.text("error.operator_only", user=page.officer.username))


def login_redirect(problem: LoginNeeded, words: Catalogue) -> RedirectResponse:
    reason = problem.reason or words.text("login.needed")
    target = f"{PREFIX}/login?next={quote(problem.next_path)}&reason={quote(reason)}"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    page: Page | None = None,
    police_data: bool = True,
) -> HTMLResponse:
    """A page in the officer's language; ``no-store`` when it shows police data."""
    words = language(request)
    node: NodeContext = request.app.state.node
    values = {
        "_": words.text,
        "lang": words.code,
        "direction": words.direction,
        "languages": [(c, catalogue(c).name) for c in available()],
        "page": page,
        "member": node.settings.member,
        "csrf": page.session.csrf_token if page else "",
        "path": request.url.path,
        **context,
    }
    html = _ENV.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    response.headers["cache-control"] = "no-store" if police_data else "no-cache"
    return response


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error the officer can read: the message, never internals."""
    return render(request, "error.html", {"status": status, "message": message}, status=status)


async def read_form(request: Request) -> dict[str, str]:
    """The text fields of a submitted form (any files in it are closed and ignored)."""
    async with request.form() as form:
        return {k: v for k, v in form.items() if isinstance(v, str)}


def form_text(form: Mapping[str, Any], name: str, limit: int = 200) -> str:
    """A text field of a submitted form, stripped; InvalidField naming it when over ``limit``."""
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        raise InvalidField(name, f"longer than {limit} characters")
    return text
