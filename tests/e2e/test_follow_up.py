"""A follow-up end to end, over the nodes' APIs, and what survives a hub or node restart.

Real processes over real TLS (the ``running`` network of conftest.py). The
story is the demo's steps 4 to 6: NCB Washington loads its stolen passports,
PC Smith of the Metropolitan Police hits one at a London border post, NCB
Washington acknowledges and confirms the hit, NCB London sends a sealed
"action taken" message with the seizure report attached, Washington reads it
(signature verified) and downloads the report intact, and London closes the
case.

Then the reliability half: the hub is terminated right after a hit, and
again after an attachment was uploaded but before its message was posted;
London's node is terminated while the hub keeps telling it of a case that
moves. After each restart no case is lost or doubled, the interrupted message
is absent (and sending it again works), and every node holds exactly the
hub's events for it, once each, in order. The hub's audit log verifies at
the end.
"""

from __future__ import annotations

import functools
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from policenet.demo.network import DemoNetwork
from policenet.demo.script import STOLEN_CSV, STOLEN_PASSPORT, demo_passport_mrz
from policenet.security.tls import node_client_context
from policenet.store.database import open_store

pytestmark = pytest.mark.e2e

Login = Callable[..., httpx.Client]

NODES = {
    "london": "ncb-gb",
    "met": "gb-metropolitan-police",
    "washington": "ncb-us",
    "nypd": "us-nypd",
    "lyon": "ncb-fr",
}
SEIZURE_REPORT = (
    b"Seizure report\nPassport USA 561204317 seized at Heathrow T5, 29 November, 09:40.\n"
    b"Holder detained for questioning; the document is held as evidence.\n"
)
BLANK_PASSPORT = "300099881"
"""The second record of the demo's CSV: a stolen blank passport."""


# --- helpers ----------------------------------------------------------------------------


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.request.url}: {response.text}"
    return response.json()


def retrying(call: Callable[[], httpx.Response], timeout: float = 20.0) -> httpx.Response:
    """``call`` once the node answers again (its process, or its link to the hub, restarted)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = call()
            if answer.status_code != 503 or time.monotonic() > deadline:
                return answer
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.3)


def hit_case(met: httpx.Client, document: dict[str, str]) -> str:
    answer = ok(met.post("/api/v1/documents/check", json={"documents": [document]}))
    assert answer["source"] == "live", answer
    (hit,) = answer["answers"][0]["hits"]
    assert hit["case"], hit
    return str(hit["case"])


def move(client: httpx.Client, number: str, to: str, **body: str) -> dict[str, Any]:
    moved: dict[str, Any] = ok(
        client.post(f"/api/v1/cases/{number}/transition", json={"to": to, **body})
    )
    assert moved["state"] == to
    return moved


def case_numbers(client: httpx.Client) -> list[str]:
    cases = ok(retrying(lambda: client.get("/api/v1/cases", params={"include_closed": True})))
    return sorted(c["number"] for c in cases)


def send_report(london: httpx.Client, number: str, text: str) -> dict[str, Any]:
    upload = ok(london.post("/api/v1/uploads", content=SEIZURE_REPORT))
    sent: dict[str, Any] = ok(
        london.post(
            "/api/v1/messages",
            json={
                "case": number,
                "kind": "action-taken",
                "fields": {"action": "document-seized", "place": "London Heathrow T5"},
                "text": text,
                "attachments": [{"upload": upload["upload"], "name": "seizure-report.txt"}],
            },
        )
    )
    return sent


def tunnel(network: DemoNetwork, key: str) -> ssl.SSLContext:
    """What node ``key`` presents to the hub (to talk to the hub without the node)."""
    bundle = network.bundle_dir(key)
    return node_client_context(bundle / "member.pem", bundle / "member.key", bundle / "ca.pem")


def hub_url(network: DemoNetwork, path: str) -> str:
    return f"https://localhost:{network.hub_settings().port}{path}"


def restart_hub(network: DemoNetwork) -> None:
    """Terminate the hub and start it again; return once it answers a member.

    Not :meth:`DemoNetwork.wait_until_up`: a node with nothing new to receive
    says it is connected only at the hub's first heartbeat, 15 s after it
    reconnects; the events themselves are checked at the end.
    """
    hub = network.processes["hub"]
    hub.terminate()
    hub.wait(timeout=15)
    network.start_hub()
    context = tunnel(network, "london")
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(hub_url(network, "/v1/whoami"), verify=context).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the hub did not come back within 60 s"
        assert network.processes["hub"].poll() is None, "the hub exited; see its log"
        time.sleep(0.2)


def _events_page(client: httpx.Client, after: int) -> httpx.Response:
    return client.get("/api/v1/events", params={"after": after})


def node_events(client: httpx.Client) -> list[dict[str, Any]]:
    """Every event in a node's inbox, page by page."""
    found: list[dict[str, Any]] = []
    while True:
        page = ok(
            retrying(functools.partial(_events_page, client, found[-1]["id"] if found else 0))
        )
        if not page:
            return found
        found += page


def hub_event_ids(network: DemoNetwork, recipient: str) -> list[int]:
    store = open_store(network.hub_settings().db_url)
    try:
        with store.unit_of_work() as uow:
            return [e.id for e in uow.events.after(recipient, 0, 1_000_000)]
    finally:
        store.close()


def assert_inboxes_match_the_hub(network: DemoNetwork, clients: dict[str, httpx.Client]) -> None:
    """Each node holds exactly the hub's events for its member: all, once, in order."""
    deadline = time.monotonic() + 30
    for key, code in NODES.items():
        while True:
            expected = hub_event_ids(network, code)
            got = [e["id"] for e in node_events(clients[key])]
            if got == expected or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert len(got) == len(set(got)), f"{key}: an event stored twice: {got}"
        assert got == sorted(got), f"{key}: events out of order: {got}"
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        assert got == expected, f"{key}: missing {missing}, not the hub's {extra}"


# --- the story ----------------------------------------------------------------------------


def test_a_follow_up_end_to_end_survives_hub_and_node_restarts(
    running: DemoNetwork, login: Login
) -> None:
    network = running
    clients = {key: login(network, key) for key in NODES}
    london, met, washington = clients["london"], clients["met"], clients["washington"]

    # 4. NCB Washington loads its stolen and lost passports
    loaded = ok(
        washington.post(
            "/api/v1/documents/load", params={"format": "csv"}, content=STOLEN_CSV.encode()
        )
    )
    assert loaded["added"] == 3, loaded

    # 5. the Met hits the stolen passport at the border: a case opens between the NCBs
    number = hit_case(met, {"mrz": demo_passport_mrz()})
    for ncb in (london, washington):
        (case,) = [c for c in ok(ncb.get("/api/v1/cases")) if c["number"] == number]
        assert (case["state"], case["owner_ncb"], case["enquirer_ncb"]) == (
            "open",
            "ncb-us",
            "ncb-gb",
        )
        assert case["record_key"] == f"USA:passport:{STOLEN_PASSPORT}"

    # 6. Washington acknowledges and confirms; London sends the seizure report and closes
    move(washington, number, "acknowledged")
    move(washington, number, "confirmed", note="stolen from holder; still outstanding")
    assert ok(london.get(f"/api/v1/cases/{number}"))["state"] == "confirmed"
    sent = send_report(london, number, "The document was seized at the border. Report attached.")
    (read,) = ok(washington.get("/api/v1/messages", params={"case": number}))
    assert read["id"] == sent["id"]
    assert read["signature_verified"] is True
    assert read["sender"] == "ncb-gb"
    assert read["text"] == "The document was seized at the border. Report attached."
    assert read["fields"] == {"action": "document-seized", "place": "London Heathrow T5"}
    assert read["attachment_names"] == ["seizure-report.txt"]
    download = washington.get(f"/api/v1/messages/{read['id']}/attachments/0")
    assert download.status_code == 200 and download.content == SEIZURE_REPORT
    move(london, number, "closed", note="document seized at the border")
    timeline = [e["action"] for e in ok(washington.get(f"/api/v1/cases/{number}"))["timeline"]]
    assert timeline == ["opened", "acknowledged", "confirmed", "message", "closed"]

    # RELIABILITY 1: the hub goes down right after a hit
    second = hit_case(met, {"number": BLANK_PASSPORT, "issuing_state": "USA"})
    assert second != number
    restart_hub(network)
    assert case_numbers(london) == case_numbers(washington) == sorted([number, second])
    assert hit_case(met, {"number": BLANK_PASSPORT, "issuing_state": "USA"}) == second

    # RELIABILITY 2: an attachment reached the hub, then the hub went down before the message
    stray = ok(
        httpx.post(
            hub_url(network, "/v1/attachments"),
            content=os.urandom(4096),
            verify=tunnel(network, "london"),
        )
    )
    assert stray["size"] == 4096
    restart_hub(network)
    assert ok(retrying(lambda: washington.get("/api/v1/messages", params={"case": second}))) == []
    assert ok(london.get("/api/v1/messages", params={"case": second})) == []
    assert "message" not in [
        e["action"] for e in ok(washington.get(f"/api/v1/cases/{second}"))["timeline"]
    ]
    resent = send_report(london, second, "Blank passport seized; report attached.")
    (again,) = ok(washington.get("/api/v1/messages", params={"case": second}))
    assert (again["id"], again["signature_verified"]) == (resent["id"], True)
    download = washington.get(f"/api/v1/messages/{again['id']}/attachments/0")
    assert download.content == SEIZURE_REPORT

    # RELIABILITY 3: London's node is down while the hub tells it of the case's moves
    node = network.processes["london"]
    node.terminate()
    node.wait(timeout=15)
    move(washington, second, "acknowledged")
    move(washington, second, "rejected", reason="record-out-of-date")
    network._start("london", ["node", "run", "--dir", str(network.node_dir("london"))])
    seen = ok(retrying(lambda: london.get(f"/api/v1/cases/{second}")))
    assert (seen["state"], seen["reason"]) == ("rejected", "record-out-of-date")
    move(london, second, "closed")
    assert case_numbers(london) == case_numbers(washington) == sorted([number, second])
    assert ok(london.get("/api/v1/cases")) == []

    assert_inboxes_match_the_hub(network, clients)
    london_changes = [
        e["payload"]["state"]
        for e in node_events(london)
        if e["kind"] == "case.changed" and e["payload"]["number"] == second
    ]
    assert london_changes == ["acknowledged", "rejected", "closed"]
    opened = [e for e in node_events(washington) if e["kind"] == "case.opened"]
    assert sorted(e["payload"]["number"] for e in opened) == sorted([number, second])

    # the audit log of everything above verifies
    network.stop()
    verify = subprocess.run(
        [sys.executable, "-m", "policenet", "audit", "verify", "--dir", str(network.hub_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_restarted_node_says_it_is_connected_as_soon_as_it_is(running: DemoNetwork) -> None:
    network = running
    node = network.processes["lyon"]
    node.terminate()
    node.wait(timeout=15)
    network._start("lyon", ["node", "run", "--dir", str(network.node_dir("lyon"))])
    health = f"https://127.0.0.1:{network.node_settings('lyon').port}/health"
    answered = retrying(lambda: httpx.get(health, verify=False, timeout=2))
    assert answered.status_code == 200
    # the hub answers the node's own member at once: the link is up
    assert httpx.get(hub_url(network, "/v1/whoami"), verify=tunnel(network, "lyon")).is_success
    deadline = time.monotonic() + 5
    while not httpx.get(health, verify=False, timeout=2).json()["hub_connected"]:
        assert time.monotonic() < deadline, "the node still says it is not connected after 5 s"
        time.sleep(0.2)
