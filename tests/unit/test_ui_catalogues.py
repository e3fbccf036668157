"""The web UI's message catalogues: complete, consistent, and covering every text shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policenet.domain.cases import CaseState, RejectionReason
from policenet.domain.officers import Role
from policenet.domain.registers import RegisterName
from policenet.node.messages import ACTIONS, FORMS
from policenet.node.ui import i18n
from policenet.node.ui.casework import MESSAGE_KINDS
from policenet.registers.dna.profile import Category
from policenet.registers.documents.record import DocumentType
from policenet.registers.persons.record import NoticeKind, Sex

UI = Path(i18n.__file__).parent
ENGLISH = i18n.catalogue("en")


def test_french_is_shipped_besides_english() -> None:
    assert i18n.available()[0] == "en" and "fr" in i18n.available()


@pytest.mark.parametrize("code", i18n.available())
def test_every_catalogue_has_the_english_keys_and_placeholders(code: str) -> None:
    other = i18n.catalogue(code)
    assert set(other.messages) == set(ENGLISH.messages)
    for key, text in ENGLISH.messages.items():
        assert i18n.placeholders(other.messages[key]) == i18n.placeholders(text), key
    assert other.direction in ("ltr", "rtl") and other.name


def used_keys() -> set[str]:
    """Literal keys the templates and the UI code ask for."""
    found: set[str] = set()
    for path in [*UI.glob("templates/*.html"), *UI.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r"""_\(\s*["']([a-z_]+\.[a-z0-9_.-]*[a-z0-9])["']\s*[,)]""", text))
        found |= set(re.findall(r"""text\(\s*["']([a-z_]+\.[a-z0-9_.-]+)["']""", text))
    return found


def test_every_literal_key_used_is_in_the_catalogue() -> None:
    keys = used_keys()
    assert len(keys) > 100, "the scan found too few keys: the pattern is broken"
    missing = sorted(keys - set(ENGLISH.messages))
    assert not missing, missing


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("register.", [r.value for r in RegisterName]),
        ("state.", [s.value for s in CaseState]),
        ("move.", [s.value for s in CaseState if s is not CaseState.OPEN]),
        ("reason.", [r.value for r in RejectionReason]),
        ("role.", [r.value for r in Role]),
        ("doctype.", [t.value for t in DocumentType]),
        ("dnacat.", [c.value for c in Category]),
        ("stringency.", ["high", "moderate", "low"]),
        ("notice.", [k.value for k in NoticeKind]),
        ("sex.", [s.value for s in Sex]),
        ("kind.", list(MESSAGE_KINDS)),
        ("action.", list(ACTIONS)),
        ("field.", sorted({f for fields in FORMS.values() for f in fields})),
        ("access.", ["full", "reference-only"]),
        ("hit.strength_", ["exact", "possible"]),
        ("admin.", ["enable", "disable", "unlock", "reset-second-factor"]),
        ("admin.done_", ["enable", "disable", "unlock"]),
    ],
)
def test_keys_built_from_values_exist_for_every_value(prefix: str, values: list[str]) -> None:
    missing = [v for v in values if prefix + v not in ENGLISH.messages]
    assert not missing, missing


def test_a_missing_message_falls_back_to_english() -> None:
    partial = i18n.Catalogue("xx", "Test", "rtl", {})
    assert partial.text("persons.title") == ENGLISH.text("persons.title")
    assert partial.text("cases.summary", count=2, new=1) == "Open cases: 2 · new: 1"


@pytest.mark.parametrize(
    ("cookie", "header", "chosen"),
    [
        ("fr", "en-GB", "fr"),
        (None, "fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        (None, "de-DE,en;q=0.5", "en"),
        ("zz", None, "en"),
        (None, None, "en"),
    ],
)
def test_the_language_is_the_cookie_then_the_browser_then_english(
    cookie: str | None, header: str | None, chosen: str
) -> None:
    assert i18n.choose(cookie, header) == chosen
