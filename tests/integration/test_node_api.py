"""The node's HTTP API in process: officer login, tokens, roles and what reaches the hub.

The node runs in a TestClient over a MemoryStore with a scripted fake hub
(tests/integration/apps.py) and a clock that moves only when a test moves it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policenet.domain.audit import AuditEntry, Outcome, SignedTreeHead
from policenet.domain.events import Event, EventKind
from policenet.domain.officers import Role
from policenet.errors import Forbidden, NotFound
from policenet.node.officers import ACCOUNT_DISABLED, WRONG_CREDENTIALS
from policenet.security.auditlog import AuditLog, proof_to_json, tree_head_to_json
from policenet.store.memory import MemoryStore
from tests.integration.apps import NODE_MEMBER, NodeWorld, OfficerAccount, TestClient, build_node

BASE_URL = "https://node.test"
SCOPE_PATH = "/api/v1/agencies/gb-city-of-london-police/scope"
HUB_SCOPE_PATH = "/v1/members/gb-city-of-london-police/scope"
SCOPE = {"registers": ["documents", "persons"], "copy_enquiries_to_ncb": True}
DIRECTORY = [{"code": "ncb-gb", "kind": "ncb"}, {"code": NODE_MEMBER, "kind": "agency"}]


@pytest.fixture
def node(tmp_path: Path) -> NodeWorld:
    return build_node(tmp_path)


@pytest.fixture
def client(node: NodeWorld) -> Iterator[TestClient]:
    with TestClient(node.app, base_url=BASE_URL) as test_client:
        yield test_client


def _error(response: Any, status: int, code: str) -> str:
    """The message of a JSON error answer, after checking its status and shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    return str(body["message"])


def _login(client: TestClient, node: NodeWorld, account: OfficerAccount) -> dict[str, str]:
    """Log ``account`` in; the Authorization header of its new session."""
    got = client.post("/api/v1/login", json=node.login_body(account))
    assert got.status_code == 200, got.text
    return {"authorization": f"Bearer {got.json()['token']}"}


def _system(node: NodeWorld, name: str = "border-gates") -> dict[str, str]:
    token = node.context.officers.issue_system_token(name, node.clock())
    return {"authorization": f"Bearer {token}"}


# --- no login needed -----------------------------------------------------------------


def test_health_needs_no_login(client: TestClient) -> None:
    got = client.get("/health")
    assert got.status_code == 200
    assert got.json() == {"status": "ok", "hub_connected": False}


# --- logging in ----------------------------------------------------------------------


def test_login_with_password_and_code_opens_a_session(node: NodeWorld, client: TestClient) -> None:
    account = node.add_officer("pc.jones")
    got = client.post("/api/v1/login", json=node.login_body(account))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["token"].startswith("pn_s_")
    assert body["officer"] == {
        "username": "pc.jones",
        "display_name": "Pc.Jones",
        "role": "officer",
    }
    assert body["idle_timeout_minutes"] == node.context.settings.idle_timeout_minutes
    me = client.get("/api/v1/me", headers={"authorization": f"Bearer {body['token']}"})
    assert me.json() == {"identity": "pc.jones", "role": "officer", "member": NODE_MEMBER}


@pytest.mark.parametrize("wrong", ["password", "otp", "username", "all"])
def test_wrong_credentials_get_one_generic_answer(
    node: NodeWorld, client: TestClient, wrong: str
) -> None:
    account = node.add_officer("pc.jones")
    body = node.login_body(account)
    if wrong in ("password", "all"):
        body["password"] = "Not-the-password-77"
    if wrong in ("otp", "all"):
        right = body["otp"]
        body["otp"] = next(c for c in ("000000", "111111") if c != right)
    if wrong in ("username", "all"):
        body["username"] = "pc.nobody"
    got = client.post("/api/v1/login", json=body)
    assert _error(got, 401, "unauthenticated") == WRONG_CREDENTIALS
    assert "token" not in got.text


def test_a_right_code_with_a_wrong_password_is_not_used_up(
    node: NodeWorld, client: TestClient
) -> None:
    account = node.add_officer("pc.jones")
    wrong = client.post("/api/v1/login", json=node.login_body(account, password="Wrong-guess-9a"))
    _error(wrong, 401, "unauthenticated")
    assert client.post("/api/v1/login", json=node.login_body(account)).status_code == 200


def test_a_code_is_accepted_once(node: NodeWorld, client: TestClient) -> None:
    account = node.add_officer("pc.jones")
    body = node.login_body(account)
    assert client.post("/api/v1/login", json=body).status_code == 200
    assert _error(client.post("/api/v1/login", json=body), 401, "unauthenticated") == (
        WRONG_CREDENTIALS
    )


def test_five_failures_lock_the_account(node: NodeWorld, client: TestClient) -> None:
    account = node.add_officer("pc.jones")
    limit = node.context.settings.max_failed_logins
    wrong = node.login_body(account, password="Wrong-guess-9a")
    for _ in range(limit - 1):
        assert _error(client.post("/api/v1/login", json=wrong), 401, "unauthenticated") == (
            WRONG_CREDENTIALS
        )
    locked = _error(client.post("/api/v1/login", json=wrong), 401, "unauthenticated")
    assert locked.startswith("account locked until 09:10 UTC")
    # the right credentials do not open a locked account
    again = _error(
        client.post("/api/v1/login", json=node.login_body(account)), 401, "unauthenticated"
    )
    assert again == locked
    node.clock.advance(timedelta(minutes=node.context.settings.lockout_minutes))
    assert client.post("/api/v1/login", json=node.login_body(account)).status_code == 200


def test_an_over_long_username_is_422(node: NodeWorld, client: TestClient) -> None:
    account = node.add_officer("pc.jones")
    body = {**node.login_body(account), "username": "a" * 65}
    assert "username" in _error(client.post("/api/v1/login", json=body), 422, "invalid_input")


# --- sessions ------------------------------------------------------------------------


def test_an_idle_session_expires(node: NodeWorld, client: TestClient) -> None:
    headers = _login(client, node, node.add_officer("pc.jones"))
    idle = timedelta(minutes=node.context.settings.idle_timeout_minutes)
    for _ in range(3):
        # each request within the timeout keeps the session alive for another one
        node.clock.advance(idle - timedelta(minutes=1))
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    node.clock.advance(idle + timedelta(minutes=1))
    message = _error(client.get("/api/v1/me", headers=headers), 401, "unauthenticated")
    assert message.startswith("session expired")
    # and it stays ended when the clock is put back
    node.clock.advance(-idle)
    _error(client.get("/api/v1/me", headers=headers), 401, "unauthenticated")


def test_logout_ends_the_session(node: NodeWorld, client: TestClient) -> None:
    headers = _login(client, node, node.add_officer("pc.jones"))
    got = client.post("/api/v1/logout", headers=headers)
    assert got.status_code == 200
    assert got.json() == {"status": "logged out"}
    _error(client.get("/api/v1/me", headers=headers), 401, "unauthenticated")
    _error(client.get("/api/v1/members", headers=headers), 401, "unauthenticated")
    assert node.hub.calls == []


def test_logout_ends_only_that_session(node: NodeWorld, client: TestClient) -> None:
    jones = _login(client, node, node.add_officer("pc.jones"))
    smith = _login(client, node, node.add_officer("pc.smith"))
    assert client.post("/api/v1/logout", headers=jones).status_code == 200
    assert client.get("/api/v1/me", headers=smith).json()["identity"] == "pc.smith"


def test_disabling_an_officer_ends_their_session(node: NodeWorld, client: TestClient) -> None:
    account = node.add_officer("pc.jones")
    headers = _login(client, node, account)
    node.clock.advance(timedelta(seconds=30))
    node.context.officers.disable("pc.jones")
    _error(client.get("/api/v1/me", headers=headers), 401, "unauthenticated")
    again = client.post("/api/v1/login", json=node.login_body(account))
    assert _error(again, 401, "unauthenticated") == ACCOUNT_DISABLED


def test_events_are_read_from_the_nodes_inbox(node: NodeWorld, client: TestClient) -> None:
    with node.context.store.unit_of_work() as uow:
        for i in (1, 2, 3):
            uow.inbox.store(Event(i, NODE_MEMBER, EventKind.NOTICE, node.clock(), {"n": i}))
    got = client.get("/api/v1/events", params={"after": 1}, headers=_system(node))
    assert got.status_code == 200, got.text
    assert [(e["id"], e["payload"]) for e in got.json()] == [(2, {"n": 2}), (3, {"n": 3})]
    assert node.hub.calls == []


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic cGMuam9uZXM6c2VjcmV0",
        "Bearer pn_s_0000000000000000000000000000000000000000000",
        "Bearer pn_n_0000000000000000000000000000000000000000000",
        "Bearer eyJhbGciOiJub25lIn0.e30.",
    ],
)
def test_no_valid_authorization_is_401(
    node: NodeWorld, client: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    for path in ("/api/v1/me", "/api/v1/status", "/api/v1/members", "/api/v1/audit/tree-head"):
        _error(client.get(path, headers=headers), 401, "unauthenticated")
    _error(client.put(SCOPE_PATH, json=SCOPE, headers=headers), 401, "unauthenticated")
    _error(client.post("/api/v1/logout", headers=headers), 401, "unauthenticated")
    assert node.hub.calls == []


# --- national systems ----------------------------------------------------------------


def test_a_national_system_token_works(node: NodeWorld, client: TestClient) -> None:
    headers = _system(node)
    status = client.get("/api/v1/status", headers=headers)
    assert status.status_code == 200, status.text
    assert status.json()["member"] == NODE_MEMBER
    assert client.get("/api/v1/me", headers=headers).json()["role"] == "system"
    node.hub.routes[("GET", "/v1/members")] = DIRECTORY
    got = client.get("/api/v1/members", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json() == DIRECTORY
    assert node.hub.calls == [("GET", "/v1/members", "sys.border-gates", {})]


def test_a_revoked_national_system_token_is_401(node: NodeWorld, client: TestClient) -> None:
    headers = _system(node)
    node.context.officers.revoke_system_token("border-gates")
    assert "revoked" in _error(
        client.get("/api/v1/status", headers=headers), 401, "unauthenticated"
    )


def test_the_officers_username_reaches_the_hub(node: NodeWorld, client: TestClient) -> None:
    headers = _login(client, node, node.add_officer("pc.jones"))
    node.hub.routes[("GET", "/v1/members")] = DIRECTORY
    got = client.get("/api/v1/members", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json() == DIRECTORY
    assert node.hub.calls == [("GET", "/v1/members", "pc.jones", {})]


# --- agency scope: roles -------------------------------------------------------------


def test_an_officer_may_not_set_an_agencys_scope(node: NodeWorld, client: TestClient) -> None:
    headers = _login(client, node, node.add_officer("pc.jones"))
    node.hub.routes[("PUT", HUB_SCOPE_PATH)] = {"code": "gb-city-of-london-police"}
    message = _error(client.put(SCOPE_PATH, json=SCOPE, headers=headers), 403, "forbidden")
    assert "operator" in message
    assert node.hub.calls == []


def test_a_national_system_may_not_set_an_agencys_scope(
    node: NodeWorld, client: TestClient
) -> None:
    _error(client.put(SCOPE_PATH, json=SCOPE, headers=_system(node)), 403, "forbidden")
    assert node.hub.calls == []


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
def test_an_operator_or_admin_sets_the_scope_at_the_hub(
    node: NodeWorld, client: TestClient, role: Role
) -> None:
    headers = _login(client, node, node.add_officer("op.smith", role))
    answer = {"code": "gb-city-of-london-police", "registers": ["documents", "persons"]}
    node.hub.routes[("PUT", HUB_SCOPE_PATH)] = answer
    got = client.put(SCOPE_PATH, json=SCOPE, headers=headers)
    assert got.status_code == 200, got.text
    assert got.json() == answer
    assert node.hub.calls == [("PUT", HUB_SCOPE_PATH, "op.smith", SCOPE)]


def test_a_scope_with_wrong_types_does_not_reach_the_hub(
    node: NodeWorld, client: TestClient
) -> None:
    headers = _login(client, node, node.add_officer("op.smith", Role.OPERATOR))
    got = client.put(SCOPE_PATH, json={"registers": "documents"}, headers=headers)
    assert "registers" in _error(got, 422, "invalid_input")
    assert node.hub.calls == []


# --- the hub's failures --------------------------------------------------------------


def test_a_hub_that_is_down_is_503(node: NodeWorld, client: TestClient) -> None:
    headers = _login(client, node, node.add_officer("pc.jones"))
    node.hub.down = True
    message = _error(client.get("/api/v1/members", headers=headers), 503, "unavailable")
    assert "hub" in message
    assert "down" in message


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (
            Forbidden("hub: only ncb-gb sets the scope of gb-city-of-london-police"),
            403,
            "forbidden",
        ),
        (NotFound("hub: no member with code 'gb-city-of-london-police'"), 404, "not_found"),
    ],
)
def test_a_hub_error_is_passed_on(
    node: NodeWorld, client: TestClient, error: Exception, status: int, code: str
) -> None:
    headers = _login(client, node, node.add_officer("op.smith", Role.OPERATOR))
    node.hub.routes[("PUT", HUB_SCOPE_PATH)] = error
    got = client.put(SCOPE_PATH, json=SCOPE, headers=headers)
    assert _error(got, status, code) == str(error)


# --- the audit log, checked at the node ----------------------------------------------


@dataclass(frozen=True)
class SignedLog:
    """An audit log as a hub would serve it: its key, a signed head, inclusion proofs."""

    key: Ed25519PrivateKey
    head: SignedTreeHead
    inclusion: dict[int, dict[str, Any]]

    @property
    def public_key_json(self) -> dict[str, str]:
        raw = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"algorithm": "Ed25519", "key": base64.b64encode(raw).decode()}


def _signed_log(size: int, now: datetime) -> SignedLog:
    key = Ed25519PrivateKey.generate()
    log = AuditLog(key, key.public_key())
    store = MemoryStore()
    with store.unit_of_work() as uow:
        for i in range(size):
            entry = AuditEntry(now, "ncb-gb", "member.whoami", Outcome.OK, detail={"i": i})
            log.append(uow, entry)
    with store.unit_of_work() as uow:
        head = log.sign_tree_head(uow, now)
        inclusion = {
            seq: {
                "seq": seq,
                "size": size,
                "leaf_hash": base64.b64encode(
                    uow.audit.entries(seq, seq + 1)[0].leaf_hash
                ).decode(),
                "proof": proof_to_json(log.inclusion_proof(uow, seq, size)),
            }
            for seq in range(size)
        }
    return SignedLog(key, head, inclusion)


LOG_SIZE = 11
SEQ = 6


@pytest.fixture
def audit_log(node: NodeWorld) -> SignedLog:
    """A log the fake hub serves: head, key, and the proof for entry SEQ."""
    signed = _signed_log(LOG_SIZE, node.clock())
    _serve(node, signed, tree_head_to_json(signed.head), signed.inclusion[SEQ])
    return signed


@pytest.fixture
def checker(node: NodeWorld) -> dict[str, str]:
    """The Authorization header of a national system that checks the hub's log."""
    return _system(node, "audit-checker")


def _serve(node: NodeWorld, log: SignedLog, head: dict[str, Any], proof: dict[str, Any]) -> None:
    node.hub.routes[("GET", "/v1/audit/tree-head")] = head
    node.hub.routes[("GET", "/v1/audit/public-key")] = log.public_key_json
    node.hub.routes[("GET", "/v1/audit/proofs/inclusion")] = proof


def test_a_good_tree_head_is_accepted(
    node: NodeWorld, client: TestClient, audit_log: SignedLog
) -> None:
    headers = _login(client, node, node.add_officer("pc.jones"))
    got = client.get("/api/v1/audit/tree-head", headers=headers)
    assert got.status_code == 200, got.text
    assert got.json() == {**tree_head_to_json(audit_log.head), "signature_verified": True}
    assert ("GET", "/v1/audit/tree-head", "pc.jones", {}) in node.hub.calls


def test_a_tree_head_signed_by_another_key_is_refused(
    node: NodeWorld, client: TestClient, audit_log: SignedLog
) -> None:
    impostor = _signed_log(LOG_SIZE, node.clock())
    _serve(node, audit_log, tree_head_to_json(impostor.head), impostor.inclusion[SEQ])
    headers = _login(client, node, node.add_officer("pc.jones"))
    got = client.get("/api/v1/audit/tree-head", headers=headers)
    assert "signature" in _error(got, 502, "integrity_failure")
    got = client.get("/api/v1/audit/proofs/inclusion", params={"seq": SEQ}, headers=headers)
    _error(got, 502, "integrity_failure")
    assert all(path != "/v1/audit/proofs/inclusion" for _, path, _, _ in node.hub.calls)


def _flip(b64: str, bit: int) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[bit // 8 % len(raw)] ^= 1 << (bit % 8)
    return base64.b64encode(bytes(raw)).decode()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    part=st.sampled_from(["tree_size", "timestamp", "root_hash", "signature"]),
    bit=st.integers(0, 62),
)
def test_any_change_to_a_signed_head_is_refused(
    node: NodeWorld,
    client: TestClient,
    audit_log: SignedLog,
    checker: dict[str, str],
    part: str,
    bit: int,
) -> None:
    head: dict[str, Any] = tree_head_to_json(audit_log.head)
    if part in ("tree_size", "timestamp"):
        head[part] = int(head[part]) ^ (1 << bit)
    else:
        head[part] = _flip(str(head[part]), bit)
    _serve(node, audit_log, head, audit_log.inclusion[SEQ])
    _error(client.get("/api/v1/audit/tree-head", headers=checker), 502, "integrity_failure")


def test_a_good_inclusion_proof_is_verified(
    node: NodeWorld, client: TestClient, audit_log: SignedLog
) -> None:
    headers = _login(client, node, node.add_officer("pc.jones"))
    got = client.get("/api/v1/audit/proofs/inclusion", params={"seq": SEQ}, headers=headers)
    assert got.status_code == 200, got.text
    assert got.json() == {
        "seq": SEQ,
        "tree_size": LOG_SIZE,
        "verified": True,
        # the fake hub serves no entries, so the node could not hash the entry itself
        "entry_checked": False,
        "proof": audit_log.inclusion[SEQ]["proof"],
    }
    asked = [c for c in node.hub.calls if c[1] == "/v1/audit/proofs/inclusion"]
    assert asked == [
        ("GET", "/v1/audit/proofs/inclusion", "pc.jones", {"seq": SEQ, "size": LOG_SIZE})
    ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_change_to_an_inclusion_proof_is_refused(
    node: NodeWorld,
    client: TestClient,
    audit_log: SignedLog,
    checker: dict[str, str],
    data: st.DataObject,
) -> None:
    good = audit_log.inclusion[SEQ]
    proof = dict(good, proof=list(good["proof"]))
    where = data.draw(st.integers(-1, len(good["proof"]) - 1), label="hash (-1: the leaf)")
    bit = data.draw(st.integers(0, 255), label="bit")
    if where < 0:
        proof["leaf_hash"] = _flip(good["leaf_hash"], bit)
    else:
        proof["proof"][where] = _flip(good["proof"][where], bit)
    _serve(node, audit_log, tree_head_to_json(audit_log.head), proof)
    got = client.get("/api/v1/audit/proofs/inclusion", params={"seq": SEQ}, headers=checker)
    assert f"entry {SEQ}" in _error(got, 502, "integrity_failure")


def test_a_proof_for_another_entry_is_refused(
    node: NodeWorld, client: TestClient, audit_log: SignedLog
) -> None:
    _serve(node, audit_log, tree_head_to_json(audit_log.head), audit_log.inclusion[SEQ + 1])
    headers = _login(client, node, node.add_officer("pc.jones"))
    got = client.get("/api/v1/audit/proofs/inclusion", params={"seq": SEQ}, headers=headers)
    _error(got, 502, "integrity_failure")


def _malformed(
    log: SignedLog, what: str
) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The route to ask and what the fake hub answers, with one part of it malformed."""
    head = tree_head_to_json(log.head)
    proof: dict[str, Any] = dict(log.inclusion[SEQ])
    key = log.public_key_json
    route = "/api/v1/audit/tree-head"
    if what == "short signature":
        head = tree_head_to_json(replace(log.head, signature=log.head.signature[:32]))
    elif what == "size not a number":
        head = {**head, "tree_size": "eleven"}
    elif what == "short public key":
        key = {**key, "key": base64.b64encode(b"short").decode()}
    elif what == "proof not a list":
        route = "/api/v1/audit/proofs/inclusion"
        proof = {**proof, "proof": "not a list"}
    return route, head, key, proof


@pytest.mark.parametrize(
    "what", ["short signature", "size not a number", "short public key", "proof not a list"]
)
def test_a_malformed_audit_answer_from_the_hub_is_a_bad_gateway(
    node: NodeWorld, client: TestClient, audit_log: SignedLog, checker: dict[str, str], what: str
) -> None:
    route, head, key, proof = _malformed(audit_log, what)
    _serve(node, audit_log, head, proof)
    node.hub.routes[("GET", "/v1/audit/public-key")] = key
    got = client.get(route, params={"seq": SEQ}, headers=checker)
    assert got.status_code == 502, got.text
