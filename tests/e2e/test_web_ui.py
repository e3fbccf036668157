"""The officers' web UI in a real browser (Debian's chromium, driven by Playwright).

Real processes over real TLS (the ``running`` network of conftest.py). The
story: NCB Washington has reported a passport stolen; NCB London's operator
has the case inbox open; PC Smith of the Metropolitan Police logs in with
password and one-time code, checks the passport and sees the hit; London's
inbox shows the new case without a reload; NCB Washington's operator opens
the case and confirms the hit; NCB London sends a sealed message with a
report attached, which Washington reads (signature verified) and downloads;
with the hub down, the Met's check is answered from the node's offline copy
under a banner giving its age; an NYPD detective, whose NCB took the persons
register out of the NYPD's scope, does not see it; five wrong codes lock an
account. Screenshots of the main pages are saved in ``test-artifacts/web-ui``.

The browser is the system's chromium (``POLICENET_CHROMIUM`` or
``/usr/bin/chromium``); Playwright downloads no browser of its own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from policenet.clock import utc_now
from policenet.demo.network import DemoNetwork
from policenet.demo.script import STOLEN_CSV, STOLEN_PASSPORT
from policenet.security.passwords import totp_now

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "web-ui"
CHROMIUM = os.environ.get("POLICENET_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

Login = Callable[..., httpx.Client]
REPORT = b"Seizure report: passport USA 561204317 seized at Heathrow T5.\n"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    # CI sets POLICENET_REQUIRE_BROWSER: there a missing browser fails instead of skipping
    missing = pytest.fail if os.environ.get("POLICENET_REQUIRE_BROWSER") else pytest.skip
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        missing(f"no chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def officer_of(network: DemoNetwork, node: str) -> Any:
    return next(x for x in network.logins if x.node == node)


def open_tab(chromium: Any) -> Any:
    context = chromium.new_context(ignore_https_errors=True, locale="en-GB")
    context.set_default_timeout(20_000)
    return context.new_page()


def log_in(
    page: Any, network: DemoNetwork, node: str, *, code: str | None = None, again: bool = False
) -> None:
    """Log the node's officer in through the form. ``again``: the officer's current code was
    used already (a code works once), so type the next one (the node accepts one step ahead).
    """
    who = officer_of(network, node)
    at = utc_now() + timedelta(seconds=30 if again else 0)
    page.goto(f"{who.url}/ui/")
    page.wait_for_url("**/ui/login**")
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Password").fill(who.password)
    page.get_by_label("One-time code").fill(code or totp_now(who.totp_secret, at))
    page.get_by_role("button", name="Log in").click()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_hit_reaches_the_ncb_inbox_live_and_is_confirmed_in_the_browser(
    running: DemoNetwork, login: Login, chromium: Any
) -> None:
    washington = login(running, "washington")
    loaded = washington.post(
        "/api/v1/documents/load",
        params={"format": "csv"},
        content=STOLEN_CSV.encode(),
        headers={"content-type": "text/csv"},
    )
    assert loaded.status_code == 200 and loaded.json()["added"] == 3, loaded.text
    scoped = washington.put("/api/v1/agencies/us-nypd/scope", json={"registers": ["documents"]})
    assert scoped.status_code == 200, scoped.text

    # NCB London's operator has the inbox open
    london = open_tab(chromium)
    log_in(london, running, "london")
    london.wait_for_url("**/ui/")
    london.get_by_role("link", name="Case inbox").first.click()
    london.wait_for_selector("#inbox-summary")
    london.wait_for_selector("[data-live-state]:not([hidden])")
    london.evaluate("window.__notReloaded = true")
    shot(london, "inbox-before")

    # PC Smith checks the passport at a border post
    met = open_tab(chromium)
    who = officer_of(running, "met")
    met.goto(f"{who.url}/ui/login")
    shot(met, "login")
    log_in(met, running, "met")
    met.wait_for_url("**/ui/")
    shot(met, "home-officer")
    met.get_by_role("link", name="Travel documents").first.click()
    met.get_by_label("Document number").fill(STOLEN_PASSPORT)
    met.get_by_label("Issuing state").fill("USA")
    met.get_by_role("button", name="Check").click()
    hit = met.locator("article.hit")
    hit.wait_for()
    assert "HIT" in hit.inner_text() and "NCB Washington" in hit.inner_text()
    number = hit.locator(".case-number").inner_text().strip()
    assert number.startswith("PN-"), number
    shot(met, "documents-hit")

    # the case appears in London's inbox without a reload
    london.wait_for_selector(f'tr[data-case="{number}"]', timeout=30_000)
    assert london.evaluate("window.__notReloaded === true")
    shot(london, "inbox-live")

    # NCB Washington's operator confirms the hit
    owner = open_tab(chromium)
    log_in(owner, running, "washington", again=True)
    owner.wait_for_url("**/ui/")
    owner.goto(f"{officer_of(running, 'washington').url}/ui/cases/{number}")
    owner.get_by_role("button", name="Confirm the hit").click()
    owner.wait_for_selector("text=The case is now confirmed.")
    assert owner.locator("#case-state").inner_text().startswith("confirmed")
    shot(owner, "case-confirmed")

    # NCB London sends a sealed message with the seizure report; Washington reads it
    london.goto(f"{officer_of(running, 'london').url}/ui/cases/{number}")
    london.get_by_label("Form", exact=True).select_option("action-taken")
    london.locator("#field-action-taken-action").select_option("document-seized")
    london.locator("#field-action-taken-place").fill("London Heathrow T5")
    london.get_by_label("Text", exact=True).fill(
        "Passport seized at Heathrow T5; holder interviewed."
    )
    london.get_by_label("Attachment").set_input_files(
        files=[{"name": "seizure-report.txt", "mimeType": "text/plain", "buffer": REPORT}]
    )
    london.get_by_role("button", name="Seal and send").click()
    london.wait_for_selector("text=The message was sealed and sent.")
    owner.reload()
    message = owner.locator("li.message").first
    assert "signature verified" in message.inner_text()
    assert "Passport seized at Heathrow T5" in message.inner_text()
    assert "document seized" in message.inner_text()
    with owner.expect_download() as download:
        message.get_by_role("link", name="seizure-report.txt").click()
    assert Path(download.value.path()).read_bytes() == REPORT
    shot(owner, "case-message")

    # the NYPD no longer has the persons register: no menu entry, and the hub refuses
    nypd = open_tab(chromium)
    log_in(nypd, running, "nypd")
    nypd.wait_for_url("**/ui/")
    assert nypd.get_by_role("link", name="Persons").count() == 0
    assert nypd.get_by_role("link", name="Travel documents").count() >= 1
    shot(nypd, "home-without-persons")
    nypd.goto(f"{officer_of(running, 'nypd').url}/ui/persons")
    nypd.get_by_label("Name, as written").fill("John Smith")
    nypd.get_by_role("button", name="Search").click()
    assert "may not search the persons register" in nypd.locator("#error-message").inner_text()

    # five wrong one-time codes lock the account
    lyon = open_tab(chromium)
    for _ in range(5):
        log_in(lyon, running, "lyon", code="000000")
        lyon.wait_for_selector("#login-reason")
    assert "account locked until" in lyon.locator("#login-reason").inner_text()
    shot(lyon, "locked")

    # the hub goes down: the Met's check is answered from the offline copy, with its age
    running.processes["hub"].terminate()
    running.processes["hub"].wait(timeout=15)
    met.get_by_role("link", name="Travel documents").first.click()
    met.get_by_label("Document number").fill(STOLEN_PASSPORT)
    met.get_by_label("Issuing state").fill("USA")
    met.get_by_role("button", name="Check").click()
    banner = met.locator("#offline-banner")
    banner.wait_for()
    assert "offline copy" in banner.inner_text()
    assert "HIT" in met.locator("article.hit").inner_text()
    shot(met, "documents-offline")
