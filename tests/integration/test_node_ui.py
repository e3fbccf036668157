"""The node's web UI in process (a fake hub behind it): login, pages, forms, and bad input.

What a browser does is simulated with the test client: cookies are kept, forms are posted
with the fields a page rendered. The real-browser run is tests/e2e/test_web_ui.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from policenet.domain.officers import Role
from policenet.node.ui import i18n
from policenet.node.ui.web import CSP, SESSION_COOKIE
from tests.integration.apps import NodeWorld, OfficerAccount, TestClient, build_node

BASE_URL = "https://node.test"
WHOAMI = {"member": {"code": "gb-metropolitan-police", "registers": ["documents", "persons"]}}
CASE = {
    "number": "PN-2026-000042",
    "register": "documents",
    "record_key": "USA:passport:561204317",
    "owner": "ncb-us",
    "owner_ncb": "ncb-us",
    "enquirer": "gb-metropolitan-police",
    "enquirer_officer": "pc.smith",
    "enquirer_ncb": "ncb-gb",
    "urgent": False,
    "state": "open",
    "opened": "2026-11-29T09:00:00+00:00",
    "deadline": "2026-12-01T09:00:00+00:00",
    "updated": "2026-11-29T09:00:00+00:00",
    "reason": None,
    "note": "",
    "escalated": False,
    "hit": {"strength": "exact", "access": "full", "explanation": ["number matches"]},
    "timeline": [
        {
            "at": "2026-11-29T09:00:00+00:00",
            "actor": "gb-metropolitan-police",
            "officer": "pc.smith",
            "action": "opened",
            "detail": {},
        }
    ],
}


@pytest.fixture
def node(tmp_path: Path) -> NodeWorld:
    world = build_node(tmp_path)
    world.hub.routes[("GET", "/v1/whoami")] = WHOAMI
    return world


@pytest.fixture
def browser(node: NodeWorld) -> Iterator[TestClient]:
    with TestClient(node.app, base_url=BASE_URL, follow_redirects=False) as client:
        yield client


def hidden(page: httpx.Response, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    assert found, f"no hidden field {name} on the page"
    return found.group(1)


def log_in(browser: TestClient, node: NodeWorld, account: OfficerAccount, **wrong: str) -> Any:
    form = browser.get("/ui/login")
    assert form.status_code == 200, form.text
    body = node.login_body(account, **wrong)
    return browser.post(
        "/ui/login",
        data={
            "username": body["username"],
            "password": body["password"],
            "code": body["otp"],
            "login_csrf": hidden(form, "login_csrf"),
            "next": hidden(form, "next"),
        },
    )


def officer(browser: TestClient, node: NodeWorld, role: Role = Role.OFFICER) -> str:
    """Log a new officer in; the CSRF token of their session."""
    account = node.add_officer(f"user.{role.value}", role)
    assert log_in(browser, node, account).status_code == 303
    return hidden(browser.get("/ui/"), "csrf")


def test_a_page_without_a_session_sends_the_officer_to_the_login_form(
    browser: TestClient,
) -> None:
    got = browser.get("/ui/persons")
    assert got.status_code == 303
    assert got.headers["location"].startswith("/ui/login?next=/ui/persons")


def test_login_with_password_and_code_opens_a_safe_session(
    browser: TestClient, node: NodeWorld
) -> None:
    account = node.add_officer("pc.jones")
    got = log_in(browser, node, account)
    assert got.status_code == 303 and got.headers["location"] == "/ui/"
    cookie = next(c for c in got.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert flag.lower() in cookie.lower(), cookie
    home = browser.get("/ui/")
    assert home.status_code == 200 and "Pc.Jones" in home.text


def test_every_page_carries_the_security_headers(browser: TestClient, node: NodeWorld) -> None:
    officer(browser, node)
    for path in ("/ui/login", "/ui/", "/ui/persons", "/ui/static/ui.css"):
        got = browser.get(path)
        assert got.headers["content-security-policy"] == CSP, path
        assert "'unsafe-inline'" not in got.headers["content-security-policy"]
        assert got.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP
    assert browser.get("/ui/persons").headers["cache-control"] == "no-store"
    assert "<script>" not in browser.get("/ui/").text  # no inline script anywhere


def test_a_wrong_code_is_refused_and_five_failures_lock_the_account(
    browser: TestClient, node: NodeWorld
) -> None:
    account = node.add_officer("pc.jones")
    for _ in range(4):
        refused = log_in(browser, node, account, otp="000000")
        assert refused.status_code == 401
        assert "wrong username, password or one-time code" in refused.text
    locked = log_in(browser, node, account, password="wrong")
    assert locked.status_code == 401 and "account locked until" in locked.text
    assert log_in(browser, node, account).status_code == 401


def test_a_login_post_without_its_form_token_is_sent_back(
    browser: TestClient, node: NodeWorld
) -> None:
    account = node.add_officer("pc.jones")
    body = node.login_body(account)
    got = browser.post(
        "/ui/login", data={"username": account.username, "password": body["password"]}
    )
    assert got.status_code == 303 and "form%20had%20expired" in got.headers["location"]


def test_a_form_without_the_csrf_token_is_refused(browser: TestClient, node: NodeWorld) -> None:
    officer(browser, node)
    got = browser.post("/ui/persons", data={"name": "John Smith"})
    assert got.status_code == 403
    assert "CSRF" in got.text and "Traceback" not in got.text
    assert node.hub.calls == [("GET", "/v1/whoami", "user.officer", {})]


def test_a_person_search_shows_the_hit_and_its_explanation(
    browser: TestClient, node: NodeWorld
) -> None:
    csrf = officer(browser, node)
    hit = {
        "register": "persons",
        "key": "FR-RN-1",
        "owner": "ncb-fr",
        "owner_name": "NCB Lyon",
        "owner_country": "FR",
        "access": "full",
        "strength": "possible",
        "score": 0.96,
        "explanation": ["given name 'Kareem' ~ 'Karim': spelling variant"],
        "record": {"kind": "red", "charges": "armed robbery", "names": [{"text": "Karim B"}]},
        "caveats": "",
        "advice": "Possible hit only: compare the person's details with the record.",
        "offline": False,
        "case": "PN-2026-000007",
        "details": {},
    }
    node.hub.routes[("POST", "/v1/persons/search")] = {
        "searched_at": "2026-11-29T10:00:00+00:00",
        "query": "Kareem Ben Haddou",
        "hits": [hit],
    }
    got = browser.post("/ui/persons", data={"csrf": csrf, "name": "Kareem Ben Haddou"})
    assert got.status_code == 200, got.text
    for shown in ("HIT", "PN-2026-000007", "&#39;Kareem&#39; ~ &#39;Karim&#39;", "armed robbery"):
        assert shown in got.text, shown


def test_no_hit_says_what_was_searched_and_when(browser: TestClient, node: NodeWorld) -> None:
    csrf = officer(browser, node)
    node.hub.routes[("POST", "/v1/persons/search")] = {
        "searched_at": "2026-11-29T10:00:00+00:00",
        "query": "John Smith, born 1970",
        "hits": [],
    }
    got = browser.post(
        "/ui/persons", data={"csrf": csrf, "name": "John Smith", "date_of_birth": "1970"}
    )
    assert "No hit for John Smith, born 1970 (searched 2026-11-29 10:00:00 UTC)" in got.text


def test_a_document_answered_from_the_offline_copy_shows_the_banner(
    browser: TestClient, node: NodeWorld
) -> None:
    csrf = officer(browser, node)
    node.hub.down = True
    got = browser.post("/ui/documents", data={"csrf": csrf, "number": "561204317"})
    # the fake node has no offline copy ready: the hub's absence is said plainly
    assert got.status_code == 503
    assert "no offline copy" in got.text


@pytest.mark.parametrize(
    "attack",
    ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)"],
)
def test_script_injection_is_shown_as_text(
    browser: TestClient, node: NodeWorld, attack: str
) -> None:
    csrf = officer(browser, node)
    node.hub.routes[("POST", "/v1/persons/search")] = {
        "searched_at": "2026-11-29T10:00:00+00:00",
        "query": attack,
        "hits": [],
    }
    got = browser.post("/ui/persons", data={"csrf": csrf, "name": attack})
    assert "<script>alert" not in got.text and "<img src=x" not in got.text
    assert 'href="javascript:' not in got.text and 'src="javascript:' not in got.text


def test_an_over_long_field_gets_a_clear_error_not_a_crash(
    browser: TestClient, node: NodeWorld
) -> None:
    csrf = officer(browser, node)
    got = browser.post("/ui/persons", data={"csrf": csrf, "name": "x" * 10_000})
    assert got.status_code == 422
    assert "name: longer than 200 characters" in got.text and "Traceback" not in got.text


def test_an_expired_session_mid_form_goes_to_login_and_says_why(
    browser: TestClient, node: NodeWorld
) -> None:
    csrf = officer(browser, node)
    node.clock.advance(timedelta(minutes=node.context.settings.idle_timeout_minutes + 1))
    got = browser.post("/ui/persons", data={"csrf": csrf, "name": "John Smith"})
    assert got.status_code == 303
    assert "session%20expired" in got.headers["location"]
    assert node.hub.calls == [("GET", "/v1/whoami", "user.officer", {})]


def test_a_second_tab_after_logout_is_logged_out_too(browser: TestClient, node: NodeWorld) -> None:
    csrf = officer(browser, node)
    session = browser.cookies[SESSION_COOKIE]
    assert browser.post("/ui/logout", data={"csrf": csrf}).status_code == 303
    with TestClient(node.app, base_url=BASE_URL, follow_redirects=False) as second_tab:
        second_tab.cookies.set(SESSION_COOKIE, session)
        got = second_tab.get("/ui/persons")
        assert got.status_code == 303 and got.headers["location"].startswith("/ui/login")


def test_an_officer_does_not_see_the_ncb_pages(browser: TestClient, node: NodeWorld) -> None:
    officer(browser, node)
    home = browser.get("/ui/")
    assert "/ui/cases" not in home.text and "/ui/admin" not in home.text
    got = browser.get("/ui/cases")
    assert got.status_code == 403 and "for NCB operators" in got.text


def test_the_home_page_shows_only_the_registers_in_scope(
    browser: TestClient, node: NodeWorld
) -> None:
    node.hub.routes[("GET", "/v1/whoami")] = {
        "member": {"code": "gb-x", "registers": ["documents"]}
    }
    officer(browser, node)
    home = browser.get("/ui/").text
    assert 'href="/ui/documents" class="tile"' in home
    assert 'href="/ui/persons" class="tile"' not in home


def test_an_operator_works_a_case_confirm_with_csrf(browser: TestClient, node: NodeWorld) -> None:
    csrf = officer(browser, node, Role.OPERATOR)
    node.hub.routes[("GET", "/v1/cases")] = [CASE]
    node.hub.routes[("GET", f"/v1/cases/{CASE['number']}")] = CASE
    node.hub.routes[("GET", "/v1/messages")] = []
    inbox = browser.get("/ui/cases")
    assert inbox.status_code == 200 and CASE["number"] in inbox.text and "new" in inbox.text
    page = browser.get(f"/ui/cases/{CASE['number']}")
    assert "Confirm the hit" in page.text
    node.hub.routes[("POST", f"/v1/cases/{CASE['number']}/transition")] = {**CASE}
    moved = browser.post(
        f"/ui/cases/{CASE['number']}/transition",
        data={"csrf": csrf, "to": "confirmed", "note": "it is ours"},
    )
    assert moved.status_code == 303
    assert node.hub.calls[-1] == (
        "POST",
        f"/v1/cases/{CASE['number']}/transition",
        "user.operator",
        {"to": "confirmed", "note": "it is ours"},
    )


def test_an_attachment_of_the_wrong_type_is_refused_clearly(
    browser: TestClient, node: NodeWorld
) -> None:
    csrf = officer(browser, node, Role.OPERATOR)
    got = browser.post(
        f"/ui/cases/{CASE['number']}/messages",
        data={"csrf": csrf, "text": "see attached"},
        files={"attachment": ("run.exe", b"MZ\x90\x00", "application/x-msdownload")},
    )
    assert got.status_code == 422
    assert "run.exe: files of type application/x-msdownload are not accepted" in got.text
    assert not any(path.endswith("/messages") for _, path, _, _ in node.hub.calls)


def test_an_upload_over_the_limit_gets_a_page_not_json(
    browser: TestClient, node: NodeWorld
) -> None:
    csrf = officer(browser, node, Role.OPERATOR)
    limit = node.context.settings.max_request_bytes
    got = browser.post(
        "/ui/persons",
        data={"csrf": csrf, "name": "x"},
        files={"attachment": ("big.pdf", b"%" * (limit + 1), "application/pdf")},
    )
    assert got.status_code == 413
    assert got.headers["content-type"].startswith("text/html")


def test_an_admin_adds_an_officer_and_sees_the_second_factor_once(
    browser: TestClient, node: NodeWorld
) -> None:
    csrf = officer(browser, node, Role.ADMIN)
    got = browser.post(
        "/ui/admin/officers",
        data={
            "csrf": csrf,
            "username": "pc.new",
            "display_name": "PC New",
            "role": "officer",
            "password": "a long enough passphrase 2026",
        },
    )
    assert got.status_code == 200, got.text
    assert "New second factor of pc.new" in got.text and "otpauth://" in got.text
    assert "pc.new" in browser.get("/ui/admin").text
    assert "otpauth://" not in browser.get("/ui/admin").text


def test_the_pages_speak_french_when_asked(browser: TestClient, node: NodeWorld) -> None:
    officer(browser, node)
    switched = browser.get("/ui/language?code=fr&next=/ui/persons")
    assert switched.status_code == 303 and switched.headers["location"] == "/ui/persons"
    page = browser.get("/ui/persons")
    assert '<html lang="fr" dir="ltr">' in page.text
    assert i18n.catalogue("fr").text("persons.title") in page.text


def test_a_right_to_left_catalogue_turns_the_page(
    browser: TestClient, node: NodeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    rtl = i18n.Catalogue("ar", "العربية", "rtl", {"persons.title": "البحث عن شخص"})
    monkeypatch.setattr(i18n, "available", lambda: ("en", "ar"))
    monkeypatch.setattr("policenet.node.ui.web.available", lambda: ("en", "ar"))
    real = i18n.catalogue
    monkeypatch.setattr(
        "policenet.node.ui.web.catalogue", lambda code: rtl if code == "ar" else real(code)
    )
    officer(browser, node)
    browser.cookies.set(i18n.COOKIE, "ar")
    page = browser.get("/ui/persons")
    assert '<html lang="ar" dir="rtl">' in page.text and "البحث عن شخص" in page.text
    # a message the catalogue lacks falls back to English, never to a blank
    assert "Date of birth" in page.text


def test_a_hub_that_cannot_be_reached_is_said_plainly(browser: TestClient, node: NodeWorld) -> None:
    csrf = officer(browser, node)
    node.hub.down = True
    got = browser.post("/ui/persons", data={"csrf": csrf, "name": "John Smith"})
    assert got.status_code == 503
    assert "cannot be searched offline" in got.text


def test_a_dna_search_sends_the_typed_loci_and_shows_the_match(
    browser: TestClient, node: NodeWorld
) -> None:
    csrf = officer(browser, node)
    node.hub.routes[("POST", "/v1/dna/search")] = {
        "searched_at": "2026-11-29T10:00:00+00:00",
        "hits": [
            {
                "register": "dna",
                "key": "reference-convicted:US-DNA-1",
                "owner": "ncb-us",
                "owner_name": "NCB Washington",
                "owner_country": "US",
                "access": "reference-only",
                "strength": "possible",
                "score": 0.9,
                "explanation": ["moderate match over 20 loci"],
                "record": None,
                "caveats": "",
                "advice": "Possible hit only: contact your NCB.",
                "offline": False,
                "case": "PN-2026-000009",
                "details": {"rule": "moderate"},
            }
        ],
    }
    got = browser.post(
        "/ui/dna",
        data={
            "csrf": csrf,
            "reference": "GB-LAB-7",
            "category": "crime-scene-stain",
            "mixture": "on",
            "loci": "D3S1358: 15,16\nvWA=17,18\n\n",
        },
    )
    assert got.status_code == 200, got.text
    assert "moderate match over 20 loci" in got.text and "PN-2026-000009" in got.text
    assert "reference only" in got.text
    ((_, _, _, body),) = [c for c in node.hub.calls if c[1] == "/v1/dna/search"]
    assert body["profile"] == {
        "reference": "GB-LAB-7",
        "category": "crime-scene-stain",
        "mixture": True,
        "D3S1358": "15,16",
        "vWA": "17,18",
    }


def test_a_dna_line_that_is_not_a_locus_is_named(browser: TestClient, node: NodeWorld) -> None:
    csrf = officer(browser, node)
    got = browser.post(
        "/ui/dna",
        data={"csrf": csrf, "reference": "X", "category": "crime-scene-stain", "loci": "D3: 1\n15"},
    )
    assert got.status_code == 422 and "line 2 is not" in got.text
    assert not any(c[1] == "/v1/dna/search" for c in node.hub.calls)
