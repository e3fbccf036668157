"""A limit on request body size, enforced while the body streams in."""

from __future__ import annotations

import json
from html import escape

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policenet.errors import TooLarge
from policenet.web.errors import error_body


class BodySizeLimit:
    """Refuse (413) a request whose declared or actual body exceeds its limit in bytes.

    ``large`` gives paths (bulk loads) a limit of their own. Under
    ``pages`` (a web UI's prefix) the refusal is a page a person can read,
    elsewhere the JSON error every API answers with.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        large: dict[str, int] | None = None,
        *,
        pages: str | None = None,
    ) -> None:
        self.app = app
        self.default_limit = limit
        self.large = large or {}
        self.pages = pages

    def _limit(self, path: str) -> int:
        """The path's own limit; a ``large`` key ending in ``*`` is a prefix."""
        if path in self.large:
            return self.large[path]
        for key, limit in self.large.items():
            if key.endswith("*") and path.startswith(key[:-1]):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self._limit(path)
        html = self.pages is not None and path.startswith(self.pages)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reply(send, 400, "invalid_input", "Content-Length is not a number", html)
                    return
                if declared > limit:
                    await _reply(send, 413, "too_large", _message(limit), html)
                    return
        seen = 0
        exceeded = False
        replied = False

        async def counting_receive() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise TooLarge(_message(limit))
            return message

        async def guarded_send(message: Message) -> None:
            # Frameworks catch the error raised while they read the body and answer
            # with their own (FastAPI: 400); once the limit was passed, whatever the
            # app answers becomes the 413 it should be.
            nonlocal replied
            if not exceeded:
                await send(message)
            elif not replied:
                replied = True
                await _reply(send, 413, "too_large", _message(limit), html)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except TooLarge:
            if not replied:
                await _reply(send, 413, "too_large", _message(limit), html)


def _message(limit: int) -> str:
    return f"request body is larger than the limit of {limit} bytes"


async def _reply(send: Send, status: int, code: str, message: str, html: bool = False) -> None:
    if html:
        # a person at a browser: a page that says what happened, not JSON
        page = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{escape(message)}</p>"
        body, kind = page.encode(), b"text/html; charset=utf-8"
    else:
        body, kind = json.dumps(error_body(code, message)).encode(), b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
