"""The web UI's words, one catalogue per language: a translation is one file away.

Every text the pages show comes from ``locales/<lang>.json``: an object of
message keys to text with ``{name}`` placeholders, and a ``_meta`` entry
giving the language's own name and its writing direction (``ltr`` or
``rtl``: Arabic and Hebrew catalogues set ``rtl`` and the pages turn).
English is the reference catalogue: every other catalogue must have exactly
its keys and placeholders (a test checks), and a key missing at run time
falls back to English rather than showing a blank.

The language is the officer's choice (a cookie set from the language menu),
else the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

DEFAULT = "en"
COOKIE = "pn_lang"


@dataclass(frozen=True, slots=True)
class Catalogue:
    """One language's messages."""

    code: str
    name: str
    direction: str
    messages: dict[str, str]

    def text(self, key: str, **values: Any) -> str:
        """The message ``key`` with its placeholders filled; English if this one lacks it."""
        template = self.messages.get(key)
        if template is None:
            template = catalogue(DEFAULT).messages.get(key, key)
        return template.format(**values) if values else template


def _read(code: str) -> Catalogue:
    raw = json.loads(resources.files(__package__).joinpath("locales", f"{code}.json").read_text())
    meta = raw.pop("_meta")
    return Catalogue(code, meta["name"], meta["direction"], raw)


@cache
def available() -> tuple[str, ...]:
    """The language codes shipped, English first."""
    found = sorted(
        p.name.removesuffix(".json")
        for p in resources.files(__package__).joinpath("locales").iterdir()
        if p.name.endswith(".json")
    )
    return (DEFAULT, *[c for c in found if c != DEFAULT])


@cache
def catalogue(code: str) -> Catalogue:
    """The catalogue of ``code`` (English for a language not shipped)."""
    return _read(code if code in available() else DEFAULT)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders of a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The language to show: the cookie's, else the first shipped one the browser accepts."""
    if cookie in available():
        return str(cookie)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in available():
            return code
    return DEFAULT
