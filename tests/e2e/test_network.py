"""The network end to end: real processes, real TLS 1.3 with client certificates."""

from __future__ import annotations

import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from policenet.clock import utc_now
from policenet.demo.network import DemoNetwork
from policenet.hub.app import create_administration
from policenet.hub.ca import load_ca
from policenet.security import pki
from policenet.security.tls import node_client_context

pytestmark = pytest.mark.e2e

Login = Callable[..., httpx.Client]


def _hub_url(network: DemoNetwork, path: str = "/v1/whoami") -> str:
    return f"https://localhost:{network.hub_settings().port}{path}"


def _member_context(network: DemoNetwork, key: str) -> ssl.SSLContext:
    bundle = network.bundle_dir(key)
    return node_client_context(bundle / "member.pem", bundle / "member.key", bundle / "ca.pem")


def _context_with(cert_chain: Path, key: Path, ca: Path, *, tls12: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(ca))
    context.load_cert_chain(str(cert_chain), str(key))
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def _refused(url: str, context: ssl.SSLContext) -> str:
    """Why the hub gave nothing: a TLS failure, or an error status with no data."""
    try:
        answer = httpx.get(url, verify=context, timeout=5)
    except (httpx.TransportError, ssl.SSLError) as exc:
        return f"tls: {type(exc).__name__}"
    assert answer.status_code in (401, 403), answer.text
    assert "member" not in answer.json() or answer.json().get("error")
    return f"http {answer.status_code}"


def test_enrolled_node_reaches_the_hub_and_the_audit_names_member_and_officer(
    running: DemoNetwork, login: Login
) -> None:
    met = login(running, "met")
    members = met.get("/api/v1/members").json()
    assert {m["code"] for m in members} == {
        "ncb-gb",
        "gb-metropolitan-police",
        "ncb-us",
        "us-nypd",
        "ncb-fr",
    }
    status = met.get("/api/v1/status").json()
    assert status["hub"]["connected"] is True
    assert status["member"] == "gb-metropolitan-police"

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "policenet",
            "audit",
            "show",
            "--dir",
            str(running.hub_dir),
            "--last",
            "50",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "gb-metropolitan-police/pc.smith" in out
    assert "member.list" in out


def test_hub_refuses_every_connection_without_a_valid_member_certificate(
    running: DemoNetwork, tmp_path: Path
) -> None:
    url = _hub_url(running)
    root = running.hub_dir / "ca" / "root.pem"
    # the enrolled member works
    assert httpx.get(url, verify=_member_context(running, "lyon"), timeout=5).status_code == 200

    # no client certificate
    bare = ssl.create_default_context(cafile=str(root))
    assert _refused(url, bare).startswith("tls")

    # a certificate from another CA, naming an existing member
    now = utc_now()
    other_root = pki.create_root_ca("Rogue Root", now)
    other = pki.create_issuing_ca(other_root, "Rogue Issuing", now)
    key = pki.generate_key()
    rogue = pki.issue_member_certificate(
        other,
        member_code="ncb-fr",
        member_name="NCB Lyon",
        country="FR",
        public_key=key.public_key(),
        now=now,
        crl_url="https://localhost/v1/crl",
    )
    pki.write_private_key(tmp_path / "rogue.key", key)
    pki.write_certificates(tmp_path / "rogue.pem", [rogue, other.certificate])
    assert _refused(url, _context_with(tmp_path / "rogue.pem", tmp_path / "rogue.key", root))

    # an expired certificate from the hub's own CA
    ca = load_ca(running.hub_dir / "ca")
    key = pki.generate_key()
    expired = pki.issue_member_certificate(
        ca.issuing,
        member_code="ncb-fr",
        member_name="NCB Lyon",
        country="FR",
        public_key=key.public_key(),
        now=now - timedelta(days=400),
        valid_days=30,
        crl_url="https://localhost/v1/crl",
    )
    pki.write_private_key(tmp_path / "old.key", key)
    pki.write_certificates(tmp_path / "old.pem", [expired, ca.issuing.certificate])
    assert _refused(url, _context_with(tmp_path / "old.pem", tmp_path / "old.key", root))

    # TLS 1.2 with a valid certificate
    bundle = running.bundle_dir("lyon")
    tls12 = _context_with(bundle / "member.pem", bundle / "member.key", root, tls12=True)
    assert _refused(url, tls12).startswith("tls")

    # plain HTTP
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{running.hub_settings().port}/v1/whoami", timeout=5)


def test_revocation_takes_effect_without_a_restart(running: DemoNetwork) -> None:
    url = _hub_url(running)
    context = _member_context(running, "lyon")
    assert httpx.get(url, verify=context, timeout=5).status_code == 200
    admin, store = create_administration(running.hub_settings())
    try:
        admin.revoke("ncb-fr", "key_compromise")
    finally:
        store.close()
    deadline = time.monotonic() + 60
    reason = ""
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(url, verify=context, timeout=5)
        except httpx.TransportError as exc:
            reason = f"tls: {exc!r}"
            break
        if answer.status_code == 403:
            reason = answer.json()["message"]
            break
        time.sleep(0.2)
    assert reason, "a revoked member was still served after 60 s"
    # within the CRL refresh interval the TLS layer itself refuses the certificate
    time.sleep(running.hub_settings().crl_refresh_seconds + 1)
    with pytest.raises(httpx.TransportError):
        httpx.get(url, verify=context, timeout=5)
    # the hub process was not restarted
    assert running.processes["hub"].poll() is None


def test_event_stream_resumes_after_the_hub_restarts(running: DemoNetwork, login: Login) -> None:
    met = login(running, "met")
    before = met.get("/api/v1/events").json()
    last = before[-1]["id"] if before else 0

    running.processes["hub"].terminate()
    running.processes["hub"].wait(timeout=15)
    # while the hub is down, NCB London's administrator changes the Met's scope three times
    admin, store = create_administration(running.hub_settings())
    from policenet.domain.registers import RegisterName

    scopes = [
        frozenset({RegisterName.DOCUMENTS}),
        frozenset({RegisterName.DOCUMENTS, RegisterName.PERSONS}),
        frozenset({RegisterName.PERSONS}),
    ]
    try:
        for scope in scopes:
            admin.set_scope("ncb-gb", "gb-metropolitan-police", scope, False)
    finally:
        store.close()
    status = met.get("/api/v1/status").json()
    assert status["hub"]["connected"] is False or status["hub"]["last_error"]

    running.start_hub()
    deadline = time.monotonic() + 60
    changes: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        events = met.get("/api/v1/events", params={"after": last}).json()
        changes = [e for e in events if e["kind"] == "member.scope-changed"]
        if len(changes) >= 3:
            break
        time.sleep(0.3)
    assert [sorted(c["payload"]["registers"]) for c in changes] == [  # type: ignore[index]
        sorted(r.value for r in s) for s in scopes
    ]
    ids = [e["id"] for e in met.get("/api/v1/events").json()]
    assert ids == sorted(set(ids)), "events duplicated or out of order at the node"


def test_audit_verify_catches_a_tampered_entry(running: DemoNetwork, login: Login) -> None:
    met = login(running, "met")
    assert met.get("/api/v1/members").status_code == 200
    head = met.get("/api/v1/audit/tree-head").json()
    assert head["signature_verified"] is True
    running.stop()

    verify = [sys.executable, "-m", "policenet", "audit", "verify", "--dir", str(running.hub_dir)]
    clean = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    db = running.hub_dir / "hub.db"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select seq, canonical from audit_entries order by seq").fetchall()
        seq, canonical = next((s, c) for s, c in rows if b'"action":"member.list"' in bytes(c))
        forged = bytes(canonical).replace(b'"outcome":"ok"', b'"outcome":"refused"')
        assert forged != bytes(canonical)
        conn.execute("update audit_entries set canonical = ? where seq = ?", (forged, seq))
    tampered = subprocess.run(verify, capture_output=True, text=True, check=False)
    assert tampered.returncode == 1
    assert str(seq) in tampered.stdout


def test_a_node_loads_documents_from_the_command_line_and_exports_them_back(
    running: DemoNetwork, tmp_path: Path
) -> None:
    washington = str(running.node_dir("washington"))
    rows = tmp_path / "stolen.csv"
    rows.write_text(
        "issuing_state,document_type,number,status\n"
        "USA,passport,E1234567,stolen-from-holder\n"
        "USA,passport,E7654321,lost\n"
    )
    cli = [sys.executable, "-m", "policenet", "node", "documents"]
    loaded = subprocess.run(
        [*cli, "load", "--dir", washington, str(rows)], capture_output=True, text=True, check=False
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    exported = tmp_path / "mine.csv"
    run = [*cli, "export", "--dir", washington, "--out", str(exported), "--format", "csv"]
    done = subprocess.run(run, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"written to {exported}" in done.stdout
    text = exported.read_text()
    assert "E1234567" in text and "E7654321" in text
    wrong = subprocess.run([*run[:-1], "xml"], capture_output=True, text=True, check=False)
    assert wrong.returncode != 0
    assert "--format must be csv or ndjson" in wrong.stdout + wrong.stderr
