"""Sealed messages between NCBs: the hub's routes in process, and the node's Messenger.

The hub is the world of tests/integration/apps.py. Its certificates are made
without keeping their private keys, so :func:`sealing_key` issues each NCB
that must sign or open a message one more certificate, for a key the test
holds, and presents it under the label ``<code>+key``.

The case: NCB Paris (``ncb-fr``) owns a stolen passport that PC Jones of the
Metropolitan Police (under ``ncb-gb``) hit. The NCBs of the case are
``ncb-gb`` and ``ncb-fr``; the Met is a party but no NCB;
``fr-police-nationale`` is an outsider.

The node half drives :class:`policenet.node.messages.Messenger` over the
FakeHub of tests/fakes.py, with a bundle from a CA made here.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.certificates import CertificatePurpose
from policenet.errors import Forbidden, IntegrityFailure, InvalidField, NotFound
from policenet.hub import messages_api
from policenet.hub.admission import issued_record
from policenet.hub.messages import MAX_SEALED_ATTACHMENT_BYTES
from policenet.node.messages import Messenger, Outbox
from policenet.security import pki
from policenet.security.sealed import (
    AttachmentDigest,
    SealedMessage,
    new_content_key,
    open_message,
    seal,
    seal_attachment,
)
from policenet.store.ports import Store
from tests.fakes import FakeHub
from tests.integration.apps import CRL_URL, T0, HubWorld, TestClient, build_hub

HUB_URL = "https://hub.test"
MET = "gb-metropolitan-police"
FRANCE_AGENCY = "fr-police-nationale"
PASSPORT = "14FR00001"
BODY_TEXT = "Passport seized at Heathrow T5; the holder is detained for questioning."
FILE_NAME = "seizure-report-heathrow.txt"
REPORT = b"SEIZURE REPORT\n" + b"Passport FRA 14FR00001 held as evidence at Heathrow T5.\n" * 200


# --- the hub world ---------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path, store: Store) -> HubWorld:
    # build_hub is typed for a MemoryStore; any store keeps the same port
    return build_hub(tmp_path, store=store)  # type: ignore[arg-type]


@pytest.fixture
def memory_world(tmp_path: Path) -> HubWorld:
    return build_hub(tmp_path)


def sealing_key(world: HubWorld, code: str) -> tuple[str, ec.EllipticCurvePrivateKey]:
    """A certificate for ``code`` whose key the test holds: (label to present, key)."""
    key = pki.generate_key()
    member = world.member(code)
    cert = pki.issue_member_certificate(
        world.ca.issuing,
        member_code=code,
        member_name=member.name,
        country=member.country,
        public_key=key.public_key(),
        now=world.clock(),
        crl_url=CRL_URL,
    )
    with world.store.unit_of_work() as uow:
        uow.certificates.add(issued_record(code, cert, CertificatePurpose.MEMBER))
    label = f"{code}+key"
    world.certificates[label] = cert
    return label, key


@dataclass
class Desk:
    """The hub client and the NCBs' keys, with a case open between them."""

    world: HubWorld
    hub: TestClient
    case: str
    gb: str
    gb_key: ec.EllipticCurvePrivateKey
    fr: str
    fr_key: ec.EllipticCurvePrivateKey

    def headers(self, label: str) -> dict[str, str]:
        return self.world.as_member(label, officer="duty.operator")

    def upload(self, label: str, data: bytes) -> dict[str, Any]:
        got = self.hub.post("/v1/attachments", content=data, headers=self.headers(label))
        assert got.status_code == 200, got.text
        answer: dict[str, Any] = got.json()
        return answer

    def post(self, label: str, sealed: SealedMessage, uploads: list[str]) -> httpx.Response:
        got: httpx.Response = self.hub.post(
            "/v1/messages",
            json={"sealed": sealed.to_json(), "uploads": uploads},
            headers=self.headers(label),
        )
        return got

    def messages(self, label: str, **params: Any) -> list[dict[str, Any]]:
        got = self.hub.get("/v1/messages", params=params, headers=self.headers(label))
        assert got.status_code == 200, got.text
        found: list[dict[str, Any]] = got.json()
        return found


def open_desk(world: HubWorld, hub: TestClient) -> Desk:
    reported = hub.post(
        "/v1/documents/records",
        json={
            "rows": [
                {
                    "issuing_state": "FRA",
                    "document_type": "passport",
                    "number": PASSPORT,
                    "status": "stolen-from-holder",
                }
            ]
        },
        headers=world.as_member("ncb-fr"),
    )
    assert reported.status_code == 200, reported.text
    checked = hub.post(
        "/v1/documents/check",
        json={"documents": [{"number": PASSPORT}]},
        headers=world.as_member(MET, officer="pc.jones"),
    )
    case = checked.json()["answers"][0]["hits"][0]["case"]
    assert case, checked.text
    gb, gb_key = sealing_key(world, "ncb-gb")
    fr, fr_key = sealing_key(world, "ncb-fr")
    return Desk(world, hub, case, gb, gb_key, fr, fr_key)


@pytest.fixture
def desk(world: HubWorld) -> Iterator[Desk]:
    with TestClient(world.app, base_url=HUB_URL) as hub:
        yield open_desk(world, hub)


@pytest.fixture
def memory_desk(memory_world: HubWorld) -> Iterator[Desk]:
    with TestClient(memory_world.app, base_url=HUB_URL) as hub:
        yield open_desk(memory_world, hub)


def sealed_attachment(content_key: bytes, data: bytes = REPORT) -> tuple[bytes, AttachmentDigest]:
    stream = seal_attachment(
        content_key, 0, [data[i : i + 1000] for i in range(0, len(data), 1000)]
    )
    sealed = b"".join(stream)
    return sealed, stream.descriptor(FILE_NAME)


def from_london(
    desk: Desk,
    *,
    to: dict[str, ec.EllipticCurvePublicKey] | None = None,
    case: str | bool | None = True,
    attachments: list[AttachmentDigest] | None = None,
    content_key: bytes | None = None,
    kind: str = "action-taken",
    sender: str = "ncb-gb",
    key: ec.EllipticCurvePrivateKey | None = None,
) -> SealedMessage:
    """A message sealed by NCB London (by default) for NCB Paris in the case."""
    message, _ = seal(
        sender,
        key or desk.gb_key,
        to if to is not None else {"ncb-fr": desk.fr_key.public_key()},
        kind=kind,
        case=desk.case if case is True else (case or None),
        now=desk.world.clock(),
        body=json.dumps({"text": BODY_TEXT, "fields": {"action": "document-seized"}}).encode(),
        attachments=attachments or [],
        content_key=content_key,
    )
    return message


def entries(world: HubWorld, action: str) -> list[AuditEntry]:
    return [e for e in world.audit_entries() if e.action == action]


def received(world: HubWorld, code: str) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in world.events_for(code) if e.kind == "message.received"]


def error_of(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    return str(body["message"])


def pending_files(world: HubWorld) -> list[Path]:
    pending = world.hub.settings.directory / "attachments" / "pending"
    return sorted(p for p in pending.rglob("*") if p.is_file()) if pending.exists() else []


# --- delivery ----------------------------------------------------------------------------


def test_a_sealed_message_with_an_attachment_is_stored_and_its_recipient_told(
    desk: Desk,
) -> None:
    world = desk.world
    content_key = new_content_key()
    sealed_bytes, descriptor = sealed_attachment(content_key)
    upload = desk.upload("ncb-gb", sealed_bytes)
    assert upload["size"] == len(sealed_bytes) == descriptor.sealed_size
    assert upload["sha256"] == hashlib.sha256(sealed_bytes).hexdigest() == descriptor.sha256
    sealed = from_london(desk, attachments=[descriptor], content_key=content_key)
    posted = desk.post(desk.gb, sealed, [upload["upload"]])
    assert posted.status_code == 200, posted.text
    message = posted.json()
    assert (message["case"], message["sender"], message["recipients"]) == (
        desk.case,
        "ncb-gb",
        ["ncb-fr"],
    )
    assert (message["kind"], message["attachments"]) == ("action-taken", 1)
    assert message["sealed"] == sealed.to_json()

    (told,) = received(world, "ncb-fr")
    assert told["message"] == message["id"]
    assert (told["case"], told["sender"], told["kind"]) == (desk.case, "ncb-gb", "action-taken")
    assert [e.kind for e in world.events_for("ncb-gb") if e.kind.startswith("message.")] == [
        "message.sent"
    ]
    assert received(world, MET) == [] and received(world, FRANCE_AGENCY) == []
    timeline = desk.hub.get(f"/v1/cases/{desk.case}", headers=desk.headers("ncb-fr")).json()[
        "timeline"
    ]
    assert timeline[-1]["action"] == "message"
    assert (timeline[-1]["actor"], timeline[-1]["officer"]) == ("ncb-gb", "duty.operator")
    assert timeline[-1]["detail"]["message"] == message["id"]
    (audited,) = entries(world, "message.send")
    assert (audited.member, audited.target, audited.outcome) == ("ncb-gb", desk.case, Outcome.OK)
    assert audited.detail["attachments"] == 1
    assert pending_files(world) == []  # the upload was filed with its message


def test_sender_and_recipient_list_and_fetch_it_and_nobody_else(desk: Desk) -> None:
    content_key = new_content_key()
    sealed_bytes, descriptor = sealed_attachment(content_key)
    upload = desk.upload("ncb-gb", sealed_bytes)
    sealed = from_london(desk, attachments=[descriptor], content_key=content_key)
    message_id = desk.post(desk.gb, sealed, [upload["upload"]]).json()["id"]
    for label in ("ncb-gb", "ncb-fr", desk.fr):
        assert [m["id"] for m in desk.messages(label)] == [message_id], label
        assert [m["id"] for m in desk.messages(label, case=desk.case)] == [message_id], label
    assert desk.messages("ncb-fr", case="PN-2026-999999") == []
    assert desk.messages("ncb-fr", after=message_id) == []
    for outsider in (MET, FRANCE_AGENCY, "gs"):
        assert desk.messages(outsider) == [], outsider
        one = desk.hub.get(f"/v1/messages/{message_id}", headers=desk.headers(outsider))
        error_of(one, 404, "not_found")
        file = desk.hub.get(
            f"/v1/messages/{message_id}/attachments/0", headers=desk.headers(outsider)
        )
        error_of(file, 404, "not_found")
    refused_reads = [e for e in entries(desk.world, "message.read") if e.outcome == "refused"]
    assert {e.member for e in refused_reads} == {MET, FRANCE_AGENCY, "gs"}

    # the recipient gets the sealed stream back byte for byte, and opens it
    got = desk.hub.get(f"/v1/messages/{message_id}/attachments/0", headers=desk.headers("ncb-fr"))
    assert got.status_code == 200
    assert got.content == sealed_bytes
    error_of(
        desk.hub.get(f"/v1/messages/{message_id}/attachments/1", headers=desk.headers("ncb-fr")),
        404,
        "not_found",
    )
    fetched = desk.hub.get(f"/v1/messages/{message_id}", headers=desk.headers("ncb-fr")).json()
    opened = open_message(
        SealedMessage.from_json(fetched["sealed"]), "ncb-fr", desk.fr_key, desk.gb_key.public_key()
    )
    assert json.loads(opened.body)["text"] == BODY_TEXT
    assert [a.name for a in opened.attachments] == [FILE_NAME]
    assert b"".join(opened.open_attachment(0, [got.content])) == REPORT


def test_the_hub_keeps_nothing_it_could_read(desk: Desk) -> None:
    content_key = new_content_key()
    sealed_bytes, descriptor = sealed_attachment(content_key)
    upload = desk.upload("ncb-gb", sealed_bytes)
    sealed = from_london(desk, attachments=[descriptor], content_key=content_key)
    message_id = desk.post(desk.gb, sealed, [upload["upload"]]).json()["id"]
    with desk.world.store.unit_of_work() as uow:
        stored = uow.messages.get(message_id)
    assert stored is not None
    kept = json.dumps(dict(stored.sealed)).encode()
    files = b"".join(
        p.read_bytes()
        for p in (desk.world.hub.settings.directory / "attachments").rglob("*")
        if p.is_file()
    )
    audit = b"".join(e.canonical() for e in desk.world.audit_entries())
    events = json.dumps(
        [dict(e.payload) for code in ("ncb-gb", "ncb-fr") for e in desk.world.events_for(code)]
    ).encode()
    for secret in (BODY_TEXT.encode(), FILE_NAME.encode(), b"document-seized", REPORT[:40]):
        for where, blob in (
            ("message", kept),
            ("files", files),
            ("audit", audit),
            ("events", events),
        ):
            assert secret not in blob, (secret, where)
    assert sealed_bytes in files  # the stream is kept, sealed


def test_a_message_outside_a_case_goes_to_ncbs_only(memory_desk: Desk) -> None:
    desk = memory_desk
    outside = from_london(desk, case=None, kind="free-text")
    posted = desk.post(desk.gb, outside, [])
    assert posted.status_code == 200, posted.text
    assert posted.json()["case"] is None
    assert received(desk.world, "ncb-fr")[-1]["case"] is None
    to_agency = from_london(
        desk, case=None, kind="free-text", to={MET: pki.generate_key().public_key()}
    )
    assert MET in error_of(desk.post(desk.gb, to_agency, []), 403, "forbidden")


# --- refusals ----------------------------------------------------------------------------


def refused(desk: Desk, response: httpx.Response, status: int, code: str) -> str:
    """Check a refused post: the status, nothing stored or told, the refusal audited."""
    message = error_of(response, status, code)
    assert desk.messages("ncb-gb") == [] and desk.messages("ncb-fr") == []
    assert received(desk.world, "ncb-fr") == []
    (audited,) = entries(desk.world, "message.send")
    assert audited.outcome == Outcome.REFUSED
    assert audited.detail["reason"] == message
    return message


def test_a_message_claiming_another_sender_is_forbidden(desk: Desk) -> None:
    forged = from_london(
        desk, sender="ncb-fr", key=desk.fr_key, to={"ncb-gb": desk.gb_key.public_key()}
    )
    message = refused(desk, desk.post(desk.gb, forged, []), 403, "forbidden")
    assert "ncb-fr" in message and "ncb-gb" in message


def test_a_message_not_signed_with_the_senders_certificate_is_an_integrity_failure(
    desk: Desk,
) -> None:
    # the connection is ncb-gb's certificate; the signature is another key's
    forged = from_london(desk, key=pki.generate_key())
    refused(desk, desk.post(desk.gb, forged, []), 502, "integrity_failure")


def test_a_message_altered_after_signing_is_an_integrity_failure(memory_desk: Desk) -> None:
    desk = memory_desk
    genuine = from_london(desk).to_json()
    altered = bytearray(base64.b64decode(genuine["ciphertext"]))
    altered[0] ^= 1
    genuine["ciphertext"] = base64.b64encode(bytes(altered)).decode()
    posted = desk.hub.post(
        "/v1/messages", json={"sealed": genuine, "uploads": []}, headers=desk.headers(desk.gb)
    )
    refused(desk, posted, 502, "integrity_failure")


@pytest.mark.parametrize("recipient", [MET, FRANCE_AGENCY, "gs"])
def test_a_recipient_that_is_not_an_ncb_of_the_case_is_forbidden(
    desk: Desk, recipient: str
) -> None:
    wrong = from_london(
        desk, to={"ncb-fr": desk.fr_key.public_key(), recipient: pki.generate_key().public_key()}
    )
    assert recipient in refused(desk, desk.post(desk.gb, wrong, []), 403, "forbidden")


def test_a_party_that_is_not_an_ncb_may_not_write_in_the_case(memory_desk: Desk) -> None:
    desk = memory_desk
    met, met_key = sealing_key(desk.world, MET)
    message = from_london(desk, sender=MET, key=met_key)
    refused(desk, desk.post(met, message, []), 403, "forbidden")


def test_an_outsider_may_not_write_in_a_case_it_cannot_see(memory_desk: Desk) -> None:
    desk = memory_desk
    label, key = sealing_key(desk.world, FRANCE_AGENCY)
    message = from_london(desk, sender=FRANCE_AGENCY, key=key)
    refused(desk, desk.post(label, message, []), 404, "not_found")


@pytest.mark.parametrize("damage", ["truncated", "altered", "extended"])
def test_an_upload_that_does_not_match_the_signed_header_is_refused(
    desk: Desk, damage: str
) -> None:
    content_key = new_content_key()
    sealed_bytes, descriptor = sealed_attachment(content_key)
    if damage == "truncated":
        uploaded = sealed_bytes[:-7]
    elif damage == "altered":
        flipped = bytearray(sealed_bytes)
        flipped[100] ^= 0xFF
        uploaded = bytes(flipped)
    else:
        uploaded = sealed_bytes + b"\0"
    upload = desk.upload("ncb-gb", uploaded)
    sealed = from_london(desk, attachments=[descriptor], content_key=content_key)
    message = refused(
        desk, desk.post(desk.gb, sealed, [upload["upload"]]), 502, "integrity_failure"
    )
    assert "attachment 0" in message


def test_the_same_message_twice_is_a_conflict(desk: Desk) -> None:
    sealed = from_london(desk)
    first = desk.post(desk.gb, sealed, [])
    assert first.status_code == 200, first.text
    again = desk.post(desk.gb, sealed, [])
    assert sealed.message_id in error_of(again, 409, "conflict")
    assert len(desk.messages("ncb-fr")) == 1
    assert len(received(desk.world, "ncb-fr")) == 1
    outcomes = [e.outcome for e in entries(desk.world, "message.send")]
    assert outcomes == [Outcome.OK, Outcome.REFUSED]


def test_the_same_message_with_attachments_twice_is_a_conflict(memory_desk: Desk) -> None:
    desk = memory_desk
    content_key = new_content_key()
    sealed_bytes, descriptor = sealed_attachment(content_key)
    upload = desk.upload("ncb-gb", sealed_bytes)["upload"]
    sealed = from_london(desk, attachments=[descriptor], content_key=content_key)
    assert desk.post(desk.gb, sealed, [upload]).status_code == 200
    error_of(desk.post(desk.gb, sealed, [upload]), 409, "conflict")


def test_a_message_naming_uploads_it_does_not_describe_is_refused(memory_desk: Desk) -> None:
    desk = memory_desk
    content_key = new_content_key()
    sealed_bytes, _ = sealed_attachment(content_key)
    upload = desk.upload("ncb-gb", sealed_bytes)["upload"]
    without = from_london(desk)  # describes no attachment
    assert "uploads" in refused(desk, desk.post(desk.gb, without, [upload]), 422, "invalid_field")


def test_uploads_are_the_uploaders_own(memory_desk: Desk) -> None:
    desk = memory_desk
    content_key = new_content_key()
    sealed_bytes, descriptor = sealed_attachment(content_key)
    theirs = desk.upload("ncb-fr", sealed_bytes)["upload"]  # uploaded by Paris
    sealed = from_london(desk, attachments=[descriptor], content_key=content_key)
    refused(desk, desk.post(desk.gb, sealed, [theirs]), 404, "not_found")


@pytest.mark.parametrize(
    ("upload", "status", "code"),
    [
        ("0" * 32, 404, "not_found"),
        ("../../etc/passwd", 422, "invalid_field"),
        ("../pending/ncb-fr/" + "0" * 14, 422, "invalid_field"),
        ("x", 422, "invalid_field"),
    ],
)
def test_unknown_or_malformed_upload_ids_are_refused(
    memory_desk: Desk, upload: str, status: int, code: str
) -> None:
    desk = memory_desk
    content_key = new_content_key()
    _, descriptor = sealed_attachment(content_key)
    sealed = from_london(desk, attachments=[descriptor], content_key=content_key)
    refused(desk, desk.post(desk.gb, sealed, [upload]), status, code)


def test_an_unknown_kind_is_refused(memory_desk: Desk) -> None:
    desk = memory_desk
    odd = from_london(desk, kind="gossip")
    assert "kind" in refused(desk, desk.post(desk.gb, odd, []), 422, "invalid_field")


def _over_the_limit(total: int, piece: int = 1 << 20) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        size = min(piece, total - sent)
        sent += size
        yield b"\0" * size


def test_an_attachment_over_the_limit_is_refused_and_nothing_is_kept(memory_desk: Desk) -> None:
    desk = memory_desk
    streamed = desk.hub.post(
        "/v1/attachments",
        content=_over_the_limit(MAX_SEALED_ATTACHMENT_BYTES + 1),
        headers=desk.headers("ncb-gb"),
    )
    error_of(streamed, 413, "too_large")
    declared = desk.hub.post(
        "/v1/attachments",
        content=b"x",
        headers={**desk.headers("ncb-gb"), "content-length": str(MAX_SEALED_ATTACHMENT_BYTES + 1)},
    )
    error_of(declared, 413, "too_large")
    assert pending_files(desk.world) == []


def test_the_routes_own_limit_refuses_a_long_stream(
    memory_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the body-size middleware's limit, the route itself counts (and discards)."""
    desk = memory_desk
    monkeypatch.setattr(messages_api, "MAX_SEALED_ATTACHMENT_BYTES", 4096)
    got = desk.hub.post(
        "/v1/attachments", content=_over_the_limit(10_000, 1000), headers=desk.headers("ncb-gb")
    )
    error_of(got, 413, "too_large")
    assert pending_files(desk.world) == []
    assert desk.upload("ncb-gb", b"y" * 4096)["size"] == 4096


def test_a_refused_upload_is_audited(memory_desk: Desk) -> None:
    desk = memory_desk
    before = desk.world.audit_size()
    got = desk.hub.post(
        "/v1/attachments",
        content=_over_the_limit(MAX_SEALED_ATTACHMENT_BYTES + 1),
        headers=desk.headers("ncb-gb"),
    )
    assert got.status_code == 413
    added = desk.world.audit_entries()[before:]
    assert any(e.member == "ncb-gb" and e.outcome == Outcome.REFUSED for e in added), added


# --- the node: Messenger over a fake hub ---------------------------------------------------


@dataclass
class Network:
    """A root and issuing CA, and NCB London's and NCB Paris's keys and certificates."""

    root: pki.KeyAndCertificate
    issuing: pki.KeyAndCertificate
    keys: dict[str, ec.EllipticCurvePrivateKey]
    certificates: dict[str, x509.Certificate]

    def bundle(self, directory: Path, code: str) -> Path:
        """A node bundle for ``code`` as ``policenet member add`` writes one."""
        directory.mkdir(parents=True, exist_ok=True)
        pki.write_certificates(directory / "ca.pem", [self.root.certificate])
        pki.write_certificates(
            directory / "member.pem", [self.certificates[code], self.issuing.certificate]
        )
        pki.write_private_key(directory / "member.key", self.keys[code])
        return directory


def member_certificate(
    issuing: pki.KeyAndCertificate, code: str, key: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    return pki.issue_member_certificate(
        issuing,
        member_code=code,
        member_name=code.upper(),
        country=code[-2:].upper(),
        public_key=key.public_key(),
        now=T0,
        crl_url=CRL_URL,
    )


@pytest.fixture
def network() -> Network:
    root = pki.create_root_ca("Test Root CA", T0)
    issuing = pki.create_issuing_ca(root, "Test Issuing CA", T0)
    keys = {code: pki.generate_key() for code in ("ncb-gb", "ncb-fr")}
    certificates = {code: member_certificate(issuing, code, key) for code, key in keys.items()}
    return Network(root, issuing, keys, certificates)


def listing(*certs: x509.Certificate) -> list[dict[str, Any]]:
    """What GET /v1/members/{code}/certificates answers."""
    return [
        {
            "serial": str(c.serial_number),
            "valid": True,
            "pem": c.public_bytes(Encoding.PEM).decode(),
        }
        for c in certs
    ]


def paris(network: Network, tmp_path: Path) -> tuple[Messenger, FakeHub]:
    hub = FakeHub()
    hub.routes[("GET", "/v1/members/ncb-gb/certificates")] = listing(network.certificates["ncb-gb"])
    hub.routes[("GET", "/v1/members/ncb-fr/certificates")] = listing(network.certificates["ncb-fr"])
    bundle = network.bundle(tmp_path / "bundle", "ncb-fr")
    return Messenger("ncb-fr", bundle, hub, Outbox(tmp_path / "outbox")), hub


def london_message(
    network: Network, *, key: ec.EllipticCurvePrivateKey | None = None, data: bytes = REPORT
) -> tuple[dict[str, Any], bytes]:
    """A stored message from NCB London to NCB Paris (as the hub lists it) and its stream."""
    content_key = new_content_key()
    stream = seal_attachment(content_key, 0, [data])
    sealed_bytes = b"".join(stream)
    sealed, _ = seal(
        "ncb-gb",
        key or network.keys["ncb-gb"],
        {"ncb-fr": network.keys["ncb-fr"].public_key()},
        kind="action-taken",
        case="PN-2026-000001",
        now=T0 + timedelta(hours=1),
        body=json.dumps({"text": BODY_TEXT, "fields": {"action": "document-seized"}}).encode(),
        attachments=[stream.descriptor(FILE_NAME)],
        content_key=content_key,
    )
    stored = {
        "id": 1,
        "case": "PN-2026-000001",
        "sender": "ncb-gb",
        "recipients": ["ncb-fr"],
        "kind": "action-taken",
        "created": (T0 + timedelta(hours=1)).isoformat(),
        "attachments": 1,
        "sealed": sealed.to_json(),
    }
    return stored, sealed_bytes


def test_the_node_reads_a_message_verified_with_the_senders_certificate(
    network: Network, tmp_path: Path
) -> None:
    messenger, _ = paris(network, tmp_path)
    stored, _ = london_message(network)
    read = asyncio.run(messenger.read(stored))
    assert read["signature_verified"] is True
    assert read["text"] == BODY_TEXT
    assert read["fields"] == {"action": "document-seized"}
    assert read["attachment_names"] == [FILE_NAME]
    assert "sealed" not in read and read["id"] == 1


def rogue_certificate(code: str, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A certificate naming ``code`` from a CA that is not the network's."""
    root = pki.create_root_ca("Rogue Root CA", T0)
    return member_certificate(pki.create_issuing_ca(root, "Rogue Issuing CA", T0), code, key)


def test_a_signer_whose_certificate_does_not_chain_to_the_root_is_not_verified(
    network: Network, tmp_path: Path
) -> None:
    messenger, hub = paris(network, tmp_path)
    rogue_key = pki.generate_key()
    rogue = rogue_certificate("ncb-gb", rogue_key)
    stored, _ = london_message(network, key=rogue_key)
    # a hub handing out the rogue certificate alone, then beside the genuine one
    for certs in ([rogue], [rogue, network.certificates["ncb-gb"]]):
        hub.routes[("GET", "/v1/members/ncb-gb/certificates")] = listing(*certs)
        read = asyncio.run(messenger.read(stored))
        assert read["signature_verified"] is False
        assert read["error"]
        assert "text" not in read and "fields" not in read


def test_a_message_altered_at_the_hub_is_not_verified(network: Network, tmp_path: Path) -> None:
    messenger, _ = paris(network, tmp_path)
    stored, _ = london_message(network)
    stored["sealed"]["header"]["kind"] = "free-text"
    read = asyncio.run(messenger.read(stored))
    assert read["signature_verified"] is False
    assert "text" not in read


def test_the_node_decrypts_an_attachment_only_when_the_whole_stream_checks_out(
    network: Network, tmp_path: Path
) -> None:
    messenger, hub = paris(network, tmp_path)
    stored, sealed_bytes = london_message(network)
    hub.routes[("GET", "/v1/messages/1")] = stored
    pieces = [sealed_bytes[i : i + 777] for i in range(0, len(sealed_bytes), 777)]
    hub.routes[("GET-STREAM", "/v1/messages/1/attachments/0")] = pieces
    name, path = asyncio.run(messenger.attachment(1, 0, officer="op.durand"))
    assert name == FILE_NAME
    assert path.read_bytes() == REPORT
    path.unlink()
    # a stream cut short at the hub: an error, and no file left behind
    hub.routes[("GET-STREAM", "/v1/messages/1/attachments/0")] = pieces[:-1]
    with pytest.raises(IntegrityFailure):
        asyncio.run(messenger.attachment(1, 0))
    assert [p for p in (tmp_path / "outbox").iterdir() if p.is_file()] == []


def test_the_node_seals_uploads_and_sends_what_the_recipient_can_open(
    network: Network, tmp_path: Path
) -> None:
    messenger, hub = paris(network, tmp_path)
    upload_id, path = messenger.outbox.new()
    path.write_bytes(REPORT)
    hub.routes[("POST-STREAM", "/v1/attachments")] = {"upload": "a" * 32}
    hub.routes[("POST", "/v1/messages")] = {"id": 9, "case": "PN-2026-000001", "sealed": {}}
    answer = asyncio.run(
        messenger.send(
            recipients=["ncb-gb"],
            case="PN-2026-000001",
            kind="hit-confirmation",
            text="Confirmed: our record, still outstanding.",
            fields={"confirmed": "yes"},
            uploads=[(upload_id, "record-extract.txt")],
            now=T0 + timedelta(hours=2),
            officer="op.durand",
        )
    )
    assert answer == {"id": 9, "case": "PN-2026-000001"}
    assert not path.exists()  # the plaintext left the spool once sent
    ((_, _, officer, uploaded),) = [c for c in hub.calls if c[0] == "POST-STREAM"]
    ((_, _, _, posted),) = [c for c in hub.calls if c[0] == "POST"]
    assert officer == "op.durand"
    assert posted["uploads"] == ["a" * 32]
    sealed = SealedMessage.from_json(posted["sealed"])
    assert (sealed.sender, sealed.recipients) == ("ncb-fr", ("ncb-gb",))
    stream = uploaded["body"]
    assert REPORT[:40] not in stream
    (entry,) = sealed.header["attachments"]
    assert entry["sealed_size"] == len(stream)
    assert entry["sha256"] == hashlib.sha256(stream).hexdigest()
    opened = open_message(
        sealed, "ncb-gb", network.keys["ncb-gb"], network.keys["ncb-fr"].public_key()
    )
    assert json.loads(opened.body) == {
        "text": "Confirmed: our record, still outstanding.",
        "fields": {"confirmed": "yes"},
    }
    assert b"".join(opened.open_attachment(0, [stream])) == REPORT


def test_the_node_refuses_to_seal_for_a_member_without_a_genuine_certificate(
    network: Network, tmp_path: Path
) -> None:
    messenger, hub = paris(network, tmp_path)
    hub.routes[("GET", "/v1/members/ncb-gb/certificates")] = listing(
        rogue_certificate("ncb-gb", pki.generate_key())
    )
    with pytest.raises(Forbidden, match="no valid certificate"):
        asyncio.run(
            messenger.send(
                recipients=["ncb-gb"],
                case=None,
                kind="free-text",
                text="hello",
                fields={},
                uploads=[],
                now=T0,
                officer=None,
            )
        )
    assert not [c for c in hub.calls if c[0].startswith("POST")]


def test_node_outbox_ids_are_checked(network: Network, tmp_path: Path) -> None:
    messenger, _ = paris(network, tmp_path)
    for bad in ("../../bundle/member.key", "x" * 31, "g" * 32 + "/"):
        with pytest.raises(InvalidField, match="not an upload id"):
            messenger.outbox.get(bad)
    with pytest.raises(NotFound):
        messenger.outbox.get("0" * 32)
