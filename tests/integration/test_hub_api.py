"""The hub's HTTP API in process: identity at the gate, errors, scope, audit and events.

The hub runs in a TestClient over a MemoryStore; certificates reach it as the
ASGI TLS extension (see tests/integration/apps.py), so no handshake is made.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Route

from policenet.domain.events import BROADCAST, Event, EventKind
from policenet.domain.members import MemberStatus
from policenet.domain.registers import RegisterName
from policenet.hub import identity
from policenet.hub.api import router
from policenet.security import pki
from policenet.security.audit import leaf_hash, verify_consistency, verify_inclusion
from policenet.security.auditlog import proof_from_json, tree_head_from_json, verify_tree_head
from policenet.settings import HubSettings
from policenet.store.memory import MemoryStore, MemoryUnitOfWork
from tests.integration.apps import PLAIN_HTTP, PRESENT_HEADER, HubWorld, TestClient, build_hub

BASE_URL = "https://hub.test"
MET = "gb-metropolitan-police"
FR_AGENCY = "fr-police-nationale"
INTERNAL_MESSAGE = re.compile(r"^internal error; quote reference ([0-9a-f]+) to the operator$")


@pytest.fixture
def world(tmp_path: Path) -> HubWorld:
    return build_hub(tmp_path)


@pytest.fixture
def client(world: HubWorld) -> Iterator[TestClient]:
    with TestClient(world.app, base_url=BASE_URL) as test_client:
        yield test_client


def _error(response: Any, status: int, code: str) -> str:
    """The message of a JSON error answer, after checking its status and shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    return str(body["message"])


def _last_entry(world: HubWorld, action: str) -> Any:
    found = [e for e in world.audit_entries() if e.action == action]
    assert found, f"no audit entry {action!r} in {[e.action for e in world.audit_entries()]}"
    return found[-1]


# --- every route, and who may call it ------------------------------------------------


def _fill(path: str) -> str:
    """A concrete path for a route's template (every parameter given some value)."""
    path = path.replace("{code}", MET).replace("{seq}", "0")
    return re.sub(r"\{[^}]+\}", "x1", path)


def _routes(routes: Iterable[BaseRoute]) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in routes
        if isinstance(route, Route | APIRoute)
        for method in route.methods or ()
        if method != "HEAD"
    }


def _served_routes(app: Any) -> set[tuple[str, str]]:
    """Every (method, path) the built app documents, found by unwrapping its middleware."""
    while not isinstance(app, FastAPI):
        app = app.app
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    documented = {
        (method.upper(), path) for path, operations in paths.items() for method in operations
    }
    return documented | {("GET", str(app.openapi_url))}


# One request per route of policenet.hub.api that an active member may make.
# A route added there fails test_every_route_is_in_the_table until it is listed here.
ROUTE_TABLE: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("GET", "/v1/whoami"): (MET, {}),
    ("GET", "/v1/members"): (MET, {}),
    ("GET", "/v1/members/{code}"): (MET, {}),
    ("PUT", "/v1/members/{code}/scope"): ("ncb-gb", {"json": {"registers": ["documents"]}}),
    ("GET", "/v1/audit/tree-head"): (MET, {}),
    ("GET", "/v1/audit/public-key"): (MET, {}),
    ("GET", "/v1/audit/proofs/inclusion"): (MET, {"params": {"seq": 0, "size": 1}}),
    ("GET", "/v1/audit/proofs/consistency"): (MET, {"params": {"first": 1, "second": 1}}),
    ("GET", "/v1/audit/entries/{seq}"): (MET, {}),
    ("GET", "/v1/crl"): (MET, {}),
    ("GET", "/v1/events"): (MET, {}),
    ("GET", "/v1/openapi.json"): (MET, {}),
}


def test_every_route_is_in_the_table(world: HubWorld) -> None:
    assert set(ROUTE_TABLE) == _routes(router.routes) | {("GET", "/v1/openapi.json")}
    assert set(ROUTE_TABLE) <= _served_routes(world.app)


def test_every_route_answers_an_active_member(world: HubWorld, client: TestClient) -> None:
    # entry 0 is Met's own whoami, so the audit routes have something to show it
    assert client.get("/v1/whoami", headers=world.as_member(MET)).status_code == 200
    for (method, path), (member, extra) in ROUTE_TABLE.items():
        with client.stream(method, _fill(path), headers=world.as_member(member), **extra) as got:
            assert got.status_code == 200, (method, path, got.read())


def test_every_route_refuses_a_request_without_a_certificate_and_audits_it(
    world: HubWorld, client: TestClient
) -> None:
    """Every route the app serves, those of other modules included, sits behind the gate."""
    served = sorted(_served_routes(world.app))
    assert set(ROUTE_TABLE) <= set(served)
    for method, template in served:
        path = _fill(template)
        before = world.audit_size()
        got = client.request(method, path, json={})
        message = _error(got, 401, "unauthenticated")
        assert "certificate" in message
        entries = world.audit_entries()
        assert len(entries) == before + 1, (method, path)
        refused = entries[-1]
        assert (refused.action, refused.outcome, refused.member) == (
            "request.refused",
            "refused",
            None,
        )
        assert refused.target == path
        assert refused.detail["reason"] == message


def test_plain_http_is_treated_as_no_certificate(world: HubWorld, client: TestClient) -> None:
    _error(client.get("/v1/whoami", headers={PRESENT_HEADER: PLAIN_HTTP}), 401, "unauthenticated")
    assert _last_entry(world, "request.refused").member is None


@pytest.mark.parametrize("path", ["/v1/no-such-route", "/", "/admin", "/v1/members/x/y/z"])
def test_no_route_answers_an_unknown_caller(world: HubWorld, client: TestClient, path: str) -> None:
    """An unknown path gets the same refusal as a known one: the hub does not say 404."""
    _error(client.get(path), 401, "unauthenticated")
    stranger = world.issue("ncb-gb", record=False, label="stranger")
    assert stranger.serial_number != world.certificates["ncb-gb"].serial_number
    _error(client.get(path, headers=world.as_member("stranger")), 403, "forbidden")


def test_an_unknown_path_from_a_member_is_404(world: HubWorld, client: TestClient) -> None:
    _error(client.get("/v1/no-such-route", headers=world.as_member(MET)), 404, "http")


def test_a_certificate_the_hub_did_not_issue_is_refused_and_audited(
    world: HubWorld, client: TestClient
) -> None:
    """Right CA, right shape, right member: but the hub's records hold no such serial."""
    cert = world.issue("ncb-gb", record=False, label="unrecorded")
    message = _error(
        client.get("/v1/members", headers=world.as_member("unrecorded")), 403, "forbidden"
    )
    assert "not issued" in message
    refused = _last_entry(world, "request.refused")
    assert refused.member == "ncb-gb"
    assert refused.detail["serial"] == str(cert.serial_number)
    assert refused.outcome == "refused"


def _copy_with_own_key(original: x509.Certificate) -> x509.Certificate:
    """A self-made certificate with the serial, subject and SAN of ``original``."""
    key = pki.generate_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(original.subject)
        .issuer_name(original.issuer)
        .public_key(key.public_key())
        .serial_number(original.serial_number)
        .not_valid_before(original.not_valid_before_utc)
        .not_valid_after(original.not_valid_after_utc)
        .add_extension(
            original.extensions.get_extension_for_class(x509.SubjectAlternativeName).value,
            critical=False,
        )
    )
    return builder.sign(key, hashes.SHA256())


def test_a_certificate_copying_an_issued_serial_is_refused(
    world: HubWorld, client: TestClient
) -> None:
    world.certificates["copy"] = _copy_with_own_key(world.certificates["ncb-gb"])
    _error(client.get("/v1/whoami", headers=world.as_member("copy")), 403, "forbidden")


def test_a_copy_is_refused_even_right_after_the_original_was_seen(
    world: HubWorld, client: TestClient
) -> None:
    assert client.get("/v1/whoami", headers=world.as_member("ncb-gb")).status_code == 200
    world.certificates["copy"] = _copy_with_own_key(world.certificates["ncb-gb"])
    _error(client.get("/v1/whoami", headers=world.as_member("copy")), 403, "forbidden")


def test_a_revoked_certificate_is_refused(world: HubWorld, client: TestClient) -> None:
    serial = world.certificates[MET].serial_number
    with world.store.unit_of_work() as uow:
        uow.certificates.revoke(serial, world.clock(), "key_compromise")
    message = _error(client.get("/v1/whoami", headers=world.as_member(MET)), 403, "forbidden")
    assert str(serial) in message
    assert "revoked" in message
    assert _last_entry(world, "request.refused").member == MET


def test_a_revoked_member_is_refused_even_with_a_valid_certificate(
    world: HubWorld, client: TestClient
) -> None:
    with world.store.unit_of_work() as uow:
        uow.members.update(replace(world.member(MET), status=MemberStatus.REVOKED))
    message = _error(client.get("/v1/whoami", headers=world.as_member(MET)), 403, "forbidden")
    assert MET in message
    assert "not an active member" in message


def test_revocation_takes_effect_without_a_restart(
    world: HubWorld, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The gate caches a lookup for a moment; without the cache the next request must see it.
    monkeypatch.setattr(identity, "_CACHE_SECONDS", 0.0)
    assert client.get("/v1/whoami", headers=world.as_member(MET)).status_code == 200
    with world.store.unit_of_work() as uow:
        uow.certificates.revoke(world.certificates[MET].serial_number, world.clock(), "superseded")
    _error(client.get("/v1/whoami", headers=world.as_member(MET)), 403, "forbidden")


def test_whoami_names_the_member_of_the_certificate(world: HubWorld, client: TestClient) -> None:
    for code in ("gs", "ncb-fr", FR_AGENCY):
        got = client.get("/v1/whoami", headers=world.as_member(code)).json()
        assert got["member"]["code"] == code
        assert got["serial"] == str(world.certificates[code].serial_number)
        assert got["officer"] is None


# --- the officer header --------------------------------------------------------------

USERNAMES = st.from_regex(r"[a-z0-9][a-z0-9._-]{1,63}", fullmatch=True)
USERNAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789._-"
FOREIGN_CHARACTERS = st.sampled_from(list("ABCZ '\";()=%/\\<>!#$&*+,:?@[]^`{|}~"))


def test_a_valid_officer_header_reaches_the_audit_log(world: HubWorld, client: TestClient) -> None:
    got = client.get("/v1/whoami", headers=world.as_member(MET, officer="pc.jones-2"))
    assert got.status_code == 200
    assert got.json()["officer"] == "pc.jones-2"
    entry = _last_entry(world, "member.whoami")
    assert (entry.member, entry.officer) == (MET, "pc.jones-2")


def test_an_invalid_officer_header_is_refused_naming_it(
    world: HubWorld, client: TestClient
) -> None:
    before = world.audit_size()
    got = client.get("/v1/members", headers=world.as_member(MET, officer="Robert'); DROP"))
    message = _error(got, 422, "invalid_field")
    assert message.startswith("X-Policenet-Officer:")
    refused = world.audit_entries()[before:]
    assert [e.action for e in refused] == ["request.refused"]
    assert refused[0].member == MET


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(username=USERNAMES)
def test_any_valid_username_is_recorded_as_sent(
    world: HubWorld, client: TestClient, username: str
) -> None:
    got = client.get("/v1/whoami", headers=world.as_member(MET, officer=username))
    assert got.status_code == 200, got.text
    assert got.json()["officer"] == username
    assert _last_entry(world, "member.whoami").officer == username


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    head=st.text(USERNAME_CHARACTERS, min_size=1, max_size=10),
    bad=FOREIGN_CHARACTERS,
    tail=st.text(USERNAME_CHARACTERS, min_size=1, max_size=10),
)
def test_a_header_with_any_foreign_character_is_refused(
    world: HubWorld, client: TestClient, head: str, bad: str, tail: str
) -> None:
    got = client.get("/v1/whoami", headers=world.as_member(MET, officer=head + bad + tail))
    assert "X-Policenet-Officer" in _error(got, 422, "invalid_field")


# --- body limits ---------------------------------------------------------------------


def _scope_path(code: str = MET) -> str:
    return f"/v1/members/{code}/scope"


SMALL_LIMIT = 4096


@pytest.fixture
def small(tmp_path: Path) -> Iterator[tuple[HubWorld, TestClient]]:
    """A hub that takes bodies of at most SMALL_LIMIT bytes."""
    settings = HubSettings(directory=tmp_path, db_url="sqlite://", max_request_bytes=SMALL_LIMIT)
    world = build_hub(tmp_path, settings=settings)
    with TestClient(world.app, base_url=BASE_URL) as test_client:
        yield world, test_client


def test_a_body_over_the_limit_is_413(small: tuple[HubWorld, TestClient]) -> None:
    world, client = small
    limit = world.hub.settings.max_request_bytes
    body = b'{"registers": ["documents"], "pad": "' + b"x" * limit + b'"}'
    got = client.put(_scope_path(), content=body, headers=world.as_member("ncb-gb"))
    assert str(limit) in _error(got, 413, "too_large")
    assert world.member(MET).registers == frozenset(RegisterName)


def test_a_body_at_the_limit_is_read(small: tuple[HubWorld, TestClient]) -> None:
    world, client = small
    limit = world.hub.settings.max_request_bytes
    start = b'{"registers": ["dna"], "pad": "'
    body = start + b"x" * (limit - len(start) - 2) + b'"}'
    assert len(body) == limit
    headers = {**world.as_member("ncb-gb"), "content-type": "application/json"}
    got = client.put(_scope_path(), content=body, headers=headers)
    assert got.status_code == 200, got.text
    assert world.member(MET).registers == {RegisterName.DNA}


def test_a_chunked_body_over_the_limit_is_413(small: tuple[HubWorld, TestClient]) -> None:
    world, client = small
    limit = world.hub.settings.max_request_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"registers": ["documents"], "pad": "'
        yield b"x" * limit
        yield b'"}'

    headers = {**world.as_member("ncb-gb"), "content-type": "application/json"}
    got = client.put(_scope_path(), content=chunks(), headers=headers)
    assert "content-length" not in got.request.headers
    _error(got, 413, "too_large")


@pytest.mark.parametrize("declared", ["many", "12a", ""])
def test_a_content_length_that_is_not_a_number_is_400(
    world: HubWorld, client: TestClient, declared: str
) -> None:
    headers = {**world.as_member("ncb-gb"), "content-length": declared}
    got = client.put(_scope_path(), content=b'{"registers": []}', headers=headers)
    assert "Content-Length" in _error(got, 400, "invalid_input")


# --- malformed input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"registers": "documents"}, "registers"),
        ({"registers": [1]}, "registers.0"),
        ({"registers": ["tarot"]}, "registers.0"),
        ({"registers": ["documents"], "copy_enquiries_to_ncb": "perhaps"}, "copy_enquiries_to_ncb"),
        ({"copy_enquiries_to_ncb": True}, "registers"),
    ],
)
def test_a_wrong_field_is_422_naming_it(
    world: HubWorld, client: TestClient, body: dict[str, Any], named: str
) -> None:
    got = client.put(_scope_path(), json=body, headers=world.as_member("ncb-gb"))
    message = _error(got, 422, "invalid_input")
    assert re.search(rf"(^|; ){re.escape(named)}: ", message), message
    assert world.member(MET).registers == frozenset(RegisterName)


def test_an_unknown_register_names_the_known_ones(world: HubWorld, client: TestClient) -> None:
    got = client.put(
        _scope_path(), json={"registers": ["tarot"]}, headers=world.as_member("ncb-gb")
    )
    message = _error(got, 422, "invalid_input")
    assert "documents" in message


@pytest.mark.parametrize("body", [b"{not json", b"", b"[]", b'"registers"'])
def test_malformed_json_is_422(world: HubWorld, client: TestClient, body: bytes) -> None:
    headers = {**world.as_member("ncb-gb"), "content-type": "application/json"}
    got = client.put(_scope_path(), content=body, headers=headers)
    assert _error(got, 422, "invalid_input")
    assert world.member(MET).registers == frozenset(RegisterName)


# --- agency scope --------------------------------------------------------------------


def test_the_agencys_ncb_sets_its_scope(world: HubWorld, client: TestClient) -> None:
    events_before = world.events_for(MET)
    got = client.put(
        _scope_path(),
        json={"registers": ["dna", "documents"], "copy_enquiries_to_ncb": True},
        headers=world.as_member("ncb-gb", officer="op.smith"),
    )
    assert got.status_code == 200, got.text
    assert got.json()["registers"] == ["dna", "documents"]
    assert got.json()["copy_enquiries_to_ncb"] is True
    changed = world.member(MET)
    assert changed.registers == {RegisterName.DNA, RegisterName.DOCUMENTS}
    assert changed.copy_enquiries_to_ncb
    new_events = world.events_for(MET)[len(events_before) :]
    assert [(e.recipient, e.kind) for e in new_events] == [(MET, EventKind.MEMBER_SCOPE_CHANGED)]
    assert new_events[0].payload["registers"] == ["dna", "documents"]
    entry = _last_entry(world, "member.scope")
    assert (entry.member, entry.officer, entry.target, entry.outcome) == (
        "ncb-gb",
        "op.smith",
        MET,
        "ok",
    )


def _refused_scope(
    world: HubWorld, client: TestClient, actor: str, target: str, registers: list[str]
) -> str:
    events_before = world.events_for(target)
    member_before = world.member(target)
    got = client.put(
        _scope_path(target), json={"registers": registers}, headers=world.as_member(actor, "op.x")
    )
    message = _error(got, 403, "forbidden")
    assert world.member(target) == member_before
    assert world.events_for(target) == events_before
    entry = _last_entry(world, "member.scope")
    assert (entry.member, entry.officer, entry.target, entry.outcome) == (
        actor,
        "op.x",
        target,
        "refused",
    )
    assert entry.detail["reason"] == message
    return message


def test_another_countrys_ncb_may_not_set_the_scope(world: HubWorld, client: TestClient) -> None:
    assert "ncb-gb" in _refused_scope(world, client, "ncb-fr", MET, ["documents"])


def test_an_agency_may_not_set_its_own_scope(world: HubWorld, client: TestClient) -> None:
    _refused_scope(world, client, MET, MET, ["documents"])


def test_an_ncb_may_not_give_registers_beyond_its_own(world: HubWorld, client: TestClient) -> None:
    assert "dna" in _refused_scope(world, client, "ncb-fr", FR_AGENCY, ["documents", "dna"])


def test_the_scope_of_an_unknown_member_is_404_and_audited(
    world: HubWorld, client: TestClient
) -> None:
    got = client.put(
        _scope_path("gb-nobody"), json={"registers": []}, headers=world.as_member("ncb-gb")
    )
    assert "gb-nobody" in _error(got, 404, "not_found")
    assert _last_entry(world, "member.scope").outcome == "refused"


def test_an_ncb_has_no_scope_to_set(world: HubWorld, client: TestClient) -> None:
    got = client.put(_scope_path("ncb-fr"), json={"registers": []}, headers=world.as_member("gs"))
    assert "ncb-fr" in _error(got, 422, "invalid_field")


# --- the audit log -------------------------------------------------------------------


def _public_key(world: HubWorld, client: TestClient) -> Ed25519PublicKey:
    got = client.get("/v1/audit/public-key", headers=world.as_member(MET)).json()
    assert got["algorithm"] == "Ed25519"
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(got["key"]))


def _tree_head(world: HubWorld, client: TestClient) -> dict[str, Any]:
    got = client.get("/v1/audit/tree-head", headers=world.as_member(MET))
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def _grow(world: HubWorld, client: TestClient, n: int) -> None:
    for _ in range(n):
        assert client.get("/v1/whoami", headers=world.as_member(MET)).status_code == 200


def test_the_tree_head_verifies_with_the_published_key(world: HubWorld, client: TestClient) -> None:
    _grow(world, client, 3)
    head = tree_head_from_json(_tree_head(world, client))
    key = _public_key(world, client)
    assert verify_tree_head(key, head)
    assert head.tree_size == world.audit_size() == 3
    other = replace(head, tree_size=head.tree_size + 1)
    assert not verify_tree_head(key, other)


def test_polling_the_tree_head_signs_nothing_new(world: HubWorld, client: TestClient) -> None:
    _grow(world, client, 2)
    first = _tree_head(world, client)
    with world.store.unit_of_work() as uow:
        heads = len(uow.audit.tree_heads())
    world.clock.advance(timedelta(minutes=5))
    assert _tree_head(world, client) == first
    with world.store.unit_of_work() as uow:
        assert len(uow.audit.tree_heads()) == heads
    _grow(world, client, 1)
    grown = _tree_head(world, client)
    assert grown["tree_size"] == first["tree_size"] + 1
    assert grown["timestamp"] > first["timestamp"]


def test_every_entry_has_an_inclusion_proof(world: HubWorld, client: TestClient) -> None:
    _grow(world, client, 6)
    head = tree_head_from_json(_tree_head(world, client))
    with world.store.unit_of_work() as uow:
        stored = uow.audit.entries(0, head.tree_size)
    for entry in stored:
        got = client.get(
            "/v1/audit/proofs/inclusion",
            params={"seq": entry.seq, "size": head.tree_size},
            headers=world.as_member(MET),
        )
        assert got.status_code == 200, got.text
        body = got.json()
        leaf = leaf_hash(entry.canonical)
        assert base64.b64decode(body["leaf_hash"]) == leaf
        proof = proof_from_json(body["proof"])
        assert verify_inclusion(leaf, entry.seq, head.tree_size, proof, head.root_hash)
        assert not verify_inclusion(leaf, entry.seq, head.tree_size, proof, bytes(32))


def test_two_heads_are_consistent(world: HubWorld, client: TestClient) -> None:
    _grow(world, client, 3)
    first = tree_head_from_json(_tree_head(world, client))
    _grow(world, client, 4)
    second = tree_head_from_json(_tree_head(world, client))
    assert first.tree_size < second.tree_size
    got = client.get(
        "/v1/audit/proofs/consistency",
        params={"first": first.tree_size, "second": second.tree_size},
        headers=world.as_member(MET),
    )
    assert got.status_code == 200, got.text
    proof = proof_from_json(got.json()["proof"])
    assert verify_consistency(
        first.tree_size, second.tree_size, first.root_hash, second.root_hash, proof
    )


@pytest.mark.parametrize(
    ("route", "params", "says"),
    [
        ("inclusion", {"seq": 0, "size": 99}, "size 99 is larger than the log (3 entries)"),
        ("inclusion", {"seq": 3, "size": 3}, "entry 3 is not in the log of size 3"),
        ("inclusion", {"seq": -1, "size": 3}, "seq: "),
        ("inclusion", {"seq": 0, "size": 0}, "size: "),
        ("consistency", {"first": 1, "second": 99}, "size 99 is larger than the log (3 entries)"),
        ("consistency", {"first": 3, "second": 2}, "first size 3 must be between 0 and second"),
        ("consistency", {"first": 0, "second": 2}, "first: "),
    ],
)
def test_proofs_out_of_range_are_422(
    world: HubWorld, client: TestClient, route: str, params: dict[str, int], says: str
) -> None:
    _grow(world, client, 3)
    got = client.get(f"/v1/audit/proofs/{route}", params=params, headers=world.as_member(MET))
    assert says in _error(got, 422, "invalid_input")


def _whoami_seq(world: HubWorld, client: TestClient, member: str) -> int:
    assert client.get("/v1/whoami", headers=world.as_member(member)).status_code == 200
    return world.audit_size() - 1


def test_the_actor_reads_its_own_entry(world: HubWorld, client: TestClient) -> None:
    seq = _whoami_seq(world, client, MET)
    got = client.get(f"/v1/audit/entries/{seq}", headers=world.as_member(MET))
    assert got.status_code == 200, got.text
    with world.store.unit_of_work() as uow:
        stored = uow.audit.entries(seq, seq + 1)[0]
    assert got.json()["canonical"].encode() == stored.canonical
    assert base64.b64decode(got.json()["leaf_hash"]) == leaf_hash(stored.canonical)


@pytest.mark.parametrize("reader", ["ncb-gb", "gs"])
def test_the_ncb_and_the_gs_read_an_agencys_entry(
    world: HubWorld, client: TestClient, reader: str
) -> None:
    seq = _whoami_seq(world, client, MET)
    got = client.get(f"/v1/audit/entries/{seq}", headers=world.as_member(reader))
    assert got.status_code == 200, got.text
    assert json.loads(got.json()["canonical"])["member"] == MET


@pytest.mark.parametrize(("actor", "reader"), [(MET, "ncb-fr"), (MET, FR_AGENCY), ("ncb-gb", MET)])
def test_others_may_not_read_an_entry_and_trying_is_audited(
    world: HubWorld, client: TestClient, actor: str, reader: str
) -> None:
    seq = _whoami_seq(world, client, actor)
    got = client.get(f"/v1/audit/entries/{seq}", headers=world.as_member(reader))
    assert reader in _error(got, 403, "forbidden")
    entry = world.audit_entries()[-1]
    assert (entry.action, entry.member, entry.target, entry.outcome) == (
        "audit.entry",
        reader,
        str(seq),
        "refused",
    )


def test_an_entry_past_the_end_is_404(world: HubWorld, client: TestClient) -> None:
    _grow(world, client, 1)
    _error(client.get("/v1/audit/entries/7", headers=world.as_member(MET)), 404, "not_found")


# --- events --------------------------------------------------------------------------


def _append_events(world: HubWorld, recipients: list[str]) -> list[Event]:
    with world.store.unit_of_work() as uow:
        return [
            uow.events.append(r, EventKind.NOTICE, {"n": i}, world.clock())
            for i, r in enumerate(recipients)
        ]


@contextmanager
def _event_stream(
    world: HubWorld, client: TestClient, member: str, after: int
) -> Iterator[Iterator[str]]:
    with client.stream(
        "GET", "/v1/events", params={"after": after}, headers=world.as_member(member)
    ) as got:
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("application/x-ndjson")
        lines = got.iter_lines()
        # the hub opens every stream with a heartbeat, so the node knows it is connected
        assert '"heartbeat"' in next(lines)
        yield (line for line in lines if '"heartbeat"' not in line)


@pytest.mark.timeout(20)
def test_events_stream_the_members_own_and_broadcasts_in_order(
    world: HubWorld, client: TestClient
) -> None:
    sent = _append_events(world, [BROADCAST, MET, "ncb-fr", MET, "ncb-gb", BROADCAST])
    mine = [e.id for e in sent if e.recipient in (MET, BROADCAST)]
    with _event_stream(world, client, MET, 0) as lines:
        got = [Event.from_json(next(lines)) for _ in mine]
    assert [e.id for e in got] == mine
    assert {e.recipient for e in got} == {MET, BROADCAST}
    assert got[1].payload == {"n": 1}
    subscribed = _last_entry(world, "events.subscribe")
    assert (subscribed.member, subscribed.detail["after"]) == (MET, 0)


@pytest.mark.timeout(20)
def test_events_resume_after_the_last_id_and_new_ones_follow(
    world: HubWorld, client: TestClient
) -> None:
    sent = _append_events(world, [MET, MET, BROADCAST, MET])
    with _event_stream(world, client, MET, sent[1].id) as lines:
        assert [Event.from_json(next(lines)).id for _ in range(2)] == [sent[2].id, sent[3].id]
        # appended while the stream is open: found by the stream's poll of the store
        later = _append_events(world, ["ncb-fr", MET])
        assert Event.from_json(next(lines)).id == later[1].id


@pytest.mark.timeout(20)
def test_a_quiet_stream_sends_heartbeats(tmp_path: Path) -> None:
    settings = HubSettings(directory=tmp_path, db_url="sqlite://", event_heartbeat_seconds=0.5)
    world = build_hub(tmp_path, settings=settings)
    with (
        TestClient(world.app, base_url=BASE_URL) as client,
        client.stream(
            "GET", "/v1/events", params={"after": 0}, headers=world.as_member(MET)
        ) as got,
    ):
        lines = got.iter_lines()
        opening = json.loads(next(lines))
        beat = json.loads(next(lines))  # nothing to send for 0.5 s: a heartbeat
    assert opening == beat == {"heartbeat": world.clock().isoformat()}


@pytest.mark.timeout(20)
def test_the_stream_of_a_revoked_member_ends(world: HubWorld, client: TestClient) -> None:
    _append_events(world, [MET])
    with _event_stream(world, client, MET, 0) as lines:
        next(lines)
        with world.store.unit_of_work() as uow:
            uow.members.update(replace(world.member(MET), status=MemberStatus.REVOKED))
        assert list(lines) == []


# --- internal errors -----------------------------------------------------------------

SECRET_DETAIL = "could not open /var/lib/policenet/hub.db as user postgres"


class BrokenDirectoryStore(MemoryStore):
    """A MemoryStore whose members repository fails as a lost database would.

    ``broken`` names the method that raises (``list`` or ``get``); None for none.
    """

    broken: str | None = None

    def _break(self, uow: MemoryUnitOfWork) -> MemoryUnitOfWork:
        if self.broken is not None:

            def fail(*_: Any) -> Any:
                raise RuntimeError(SECRET_DETAIL)

            setattr(uow.members, self.broken, fail)
        return uow

    @contextmanager
    def unit_of_work(self) -> Iterator[MemoryUnitOfWork]:
        with super().unit_of_work() as uow:
            yield self._break(uow)

    @contextmanager
    def reading(self) -> Iterator[MemoryUnitOfWork]:
        with super().reading() as uow:
            yield self._break(uow)


def test_an_internal_error_is_a_generic_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = BrokenDirectoryStore()
    world = build_hub(tmp_path, store=store)
    store.broken = "list"
    with (
        caplog.at_level(logging.ERROR, logger="policenet.web"),
        TestClient(world.app, base_url=BASE_URL, raise_server_exceptions=False) as client,
    ):
        got = client.get("/v1/members", headers=world.as_member(MET))
        # the failure was the handler's: the caller had been identified, and still is
        assert client.get("/v1/whoami", headers=world.as_member(MET)).status_code == 200
    message = _error(got, 500, "internal")
    reference = INTERNAL_MESSAGE.fullmatch(message)
    assert reference is not None, message
    assert SECRET_DETAIL not in got.text
    assert "RuntimeError" not in got.text
    logged = [r for r in caplog.records if reference.group(1) in r.getMessage()]
    assert logged, "the reference given to the caller is not in the log"
    assert logged[0].exc_info is not None
    assert SECRET_DETAIL in str(logged[0].exc_info[1])


def test_a_failure_while_identifying_the_caller_is_a_generic_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = BrokenDirectoryStore()
    world = build_hub(tmp_path, store=store)
    store.broken = "get"
    with (
        caplog.at_level(logging.ERROR, logger="policenet.web"),
        TestClient(world.app, base_url=BASE_URL, raise_server_exceptions=False) as client,
    ):
        got = client.get("/v1/whoami", headers=world.as_member(MET))
    assert INTERNAL_MESSAGE.fullmatch(_error(got, 500, "internal"))
    assert SECRET_DETAIL not in got.text
    assert any(SECRET_DETAIL in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
