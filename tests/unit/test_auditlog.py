"""The audit log service over the in-memory store: append, sign, prove, verify, tamper."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.domain.audit import AuditEntry, Outcome, SignedTreeHead
from policenet.errors import Forbidden, InvalidField, InvalidInput
from policenet.security.audit import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from policenet.security.auditlog import (
    AuditLog,
    proof_from_json,
    proof_to_json,
    tree_head_from_json,
    tree_head_to_json,
    verify_store,
    verify_tree_head,
)
from policenet.store.memory import MemoryStore
from policenet.store.ports import StoredAuditEntry

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
HUB_KEY = Ed25519PrivateKey.generate()


class Rollback(Exception):
    """Raised inside a unit of work to roll it back."""


def entry(i: int) -> AuditEntry:
    return AuditEntry(
        time=T0 + timedelta(seconds=i),
        member="GB" if i % 2 else "FR",
        officer=f"officer-{i}",
        action="enquiry.documents",
        target=f"P{i:07d}",
        outcome=Outcome.NO_HIT,
        detail={"register": "documents", "n": i},
    )


def hub_log() -> AuditLog:
    return AuditLog(HUB_KEY, HUB_KEY.public_key())


def filled(count: int, log: AuditLog | None = None) -> tuple[MemoryStore, AuditLog]:
    store, log = MemoryStore(), log or hub_log()
    with store.unit_of_work() as uow:
        for i in range(count):
            log.append(uow, entry(i))
    return store, log


def stored_leaves(store: MemoryStore) -> list[bytes]:
    with store.unit_of_work() as uow:
        return uow.audit.leaf_hashes(0)


def test_append_numbers_entries_and_stores_canonical_bytes_and_leaf_hash() -> None:
    store, log = MemoryStore(), hub_log()
    with store.unit_of_work() as uow:
        assert [log.append(uow, entry(i)) for i in range(3)] == [0, 1, 2]
    with store.unit_of_work() as uow:
        rows = uow.audit.entries(0, 3)
    assert [r.canonical for r in rows] == [entry(i).canonical() for i in range(3)]
    assert [r.leaf_hash for r in rows] == [leaf_hash(entry(i).canonical()) for i in range(3)]


def test_signed_head_covers_the_log_and_every_entry_proves_into_it() -> None:
    store, log = filled(11)
    with store.unit_of_work() as uow:
        head = log.sign_tree_head(uow, T0)
        proofs = [log.inclusion_proof(uow, seq, head.tree_size) for seq in range(11)]
    assert head.tree_size == 11
    assert head.timestamp_ms == int(T0.timestamp()) * 1000
    assert verify_tree_head(HUB_KEY.public_key(), head)
    for seq, proof in enumerate(proofs):
        assert verify_inclusion(leaf_hash(entry(seq).canonical()), seq, 11, proof, head.root_hash)
    assert not verify_inclusion(leaf_hash(entry(5).canonical()), 4, 11, proofs[4], head.root_hash)
    with store.unit_of_work() as uow:
        assert log.latest_tree_head(uow) == head


def test_consistency_between_two_signed_heads() -> None:
    store, log = filled(6)
    with store.unit_of_work() as uow:
        old = log.sign_tree_head(uow, T0)
        for i in range(6, 13):
            log.append(uow, entry(i))
    with store.unit_of_work() as uow:
        new = log.sign_tree_head(uow, T0 + timedelta(minutes=1))
        proof = log.consistency_proof(uow, old.tree_size, new.tree_size)
        assert log.latest_tree_head(uow) == new
    assert verify_consistency(6, 13, old.root_hash, new.root_hash, proof)
    assert not verify_consistency(6, 13, new.root_hash, old.root_hash, proof)


def test_a_member_checks_a_proof_with_only_the_json_forms() -> None:
    store, log = filled(9)
    with store.unit_of_work() as uow:
        head = log.sign_tree_head(uow, T0)
        proof = log.inclusion_proof(uow, 7, head.tree_size)
    # What goes over the wire, and what the member rebuilds from it.
    wire = json.loads(json.dumps({"head": tree_head_to_json(head), "proof": proof_to_json(proof)}))
    got_head = tree_head_from_json(wire["head"])
    got_proof = proof_from_json(wire["proof"])
    assert got_head == head
    assert got_proof == proof
    assert verify_tree_head(HUB_KEY.public_key(), got_head)
    leaf = leaf_hash(entry(7).canonical())
    assert verify_inclusion(leaf, 7, got_head.tree_size, got_proof, got_head.root_hash)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("tree_size", "9", "must be an integer"),
        ("tree_size", True, "must be an integer"),
        ("timestamp", -1, "between 0 and"),
        ("root_hash", "AAAA", "must decode to 32 bytes, got 3"),
        ("root_hash", "not base64!", "not valid base64"),
        ("signature", None, "must be a base64 string"),
    ],
)
def test_tree_head_json_names_the_bad_field(field: str, value: object, reason: str) -> None:
    head = SignedTreeHead(3, 1000, b"r" * 32, b"s" * 64)
    data: dict[str, object] = {**tree_head_to_json(head), field: value}
    with pytest.raises(InvalidField, match=reason) as caught:
        tree_head_from_json(data)
    assert caught.value.field == field


def test_proof_json_names_the_bad_element() -> None:
    good = proof_to_json([b"a" * 32, b"b" * 32])
    assert proof_from_json(good) == [b"a" * 32, b"b" * 32]
    with pytest.raises(InvalidField) as caught:
        proof_from_json([good[0], "AAAA"])
    assert caught.value.field == "proof[1]"
    with pytest.raises(InvalidField, match="list"):
        proof_from_json("AAAA")
    with pytest.raises(InvalidField, match="at most 64"):
        proof_from_json(good * 40)


def test_out_of_range_requests_say_what_is_wrong() -> None:
    store, log = filled(10)
    with store.unit_of_work() as uow:
        with pytest.raises(InvalidInput, match=r"size 12 is larger than the log \(10 entries\)"):
            log.inclusion_proof(uow, 3, 12)
        with pytest.raises(InvalidInput, match="entry 10 is not in the log of size 10"):
            log.inclusion_proof(uow, 10, 10)
        with pytest.raises(InvalidInput, match="entry 4 is not in the log of size 4"):
            log.inclusion_proof(uow, 4, 4)
        with pytest.raises(InvalidInput, match=r"size 11 is larger than the log \(10 entries\)"):
            log.consistency_proof(uow, 2, 11)
        with pytest.raises(InvalidInput, match="first size 7 must be between 0 and second size 5"):
            log.consistency_proof(uow, 7, 5)
        with pytest.raises(InvalidInput, match="size -1 is negative"):
            log.root(uow, -1)


def test_a_verifier_without_the_private_key_proves_but_cannot_sign() -> None:
    store, hub = filled(5)
    reader = AuditLog(None, HUB_KEY.public_key())
    with store.unit_of_work() as uow:
        head = hub.sign_tree_head(uow, T0)
        proof = reader.inclusion_proof(uow, 2, 5)
        with pytest.raises(Forbidden, match="no signing key"):
            reader.sign_tree_head(uow, T0)
    assert verify_inclusion(leaf_hash(entry(2).canonical()), 2, 5, proof, head.root_hash)


def test_signing_needs_an_aware_time_and_never_goes_back_in_time() -> None:
    store, log = filled(2)
    with store.unit_of_work() as uow:
        with pytest.raises(InvalidField, match="now"):
            log.sign_tree_head(uow, datetime(2025, 3, 1, 9, 30))
        first = log.sign_tree_head(uow, T0)
        log.append(uow, entry(2))
        earlier = log.sign_tree_head(uow, T0 - timedelta(hours=1))
    assert earlier.timestamp_ms == first.timestamp_ms
    assert earlier.tree_size == 3
    with store.unit_of_work() as uow:
        assert verify_store(uow, HUB_KEY.public_key()).ok


def test_rolled_back_append_leaves_no_phantom_leaf() -> None:
    store, log = filled(4)
    with pytest.raises(Rollback), store.unit_of_work() as uow:
        seq = log.append(uow, entry(100))
        # Proofs within the unit of work see its own entry...
        proof = log.inclusion_proof(uow, seq, seq + 1)
        assert verify_inclusion(
            leaf_hash(entry(100).canonical()), seq, seq + 1, proof, log.root(uow)
        )
        raise Rollback
    # ...but once it is rolled back the log is as if it never happened.
    with store.unit_of_work() as uow:
        assert log.sync(uow) == 4
        assert log.append(uow, entry(4)) == 4
    with store.unit_of_work() as uow:
        head = log.sign_tree_head(uow, T0)
        report = verify_store(uow, HUB_KEY.public_key())
    assert head.root_hash == MerkleTree(stored_leaves(store)).root()
    assert head.tree_size == 5
    assert report.ok, report.problems


def test_rolled_back_entries_are_not_cached_even_when_the_last_one_returns() -> None:
    # Checking only the cache's last leaf against the store would miss this:
    # the rolled-back tail ends with the same entry the store later holds.
    store, log = filled(2)
    with pytest.raises(Rollback), store.unit_of_work() as uow:
        log.append(uow, entry(100))
        log.append(uow, entry(101))
        log.root(uow)
        raise Rollback
    with store.unit_of_work() as uow:
        log.append(uow, entry(200))
        log.append(uow, entry(101))
    with store.unit_of_work() as uow:
        assert log.root(uow) == MerkleTree(stored_leaves(store)).root()


@pytest.mark.parametrize("other_size", [0, 3, 6, 9])
def test_a_cache_built_from_another_database_is_rebuilt(other_size: int) -> None:
    # The cache knows 6 leaves; the database it meets now (restored, or
    # replaced) holds other entries.
    store, log = filled(6)
    with store.unit_of_work() as uow:
        assert log.sync(uow) == 6
    other = MemoryStore()
    with other.unit_of_work() as uow:
        for i in range(50, 50 + other_size):
            uow.audit.append(entry(i).canonical(), leaf_hash(entry(i).canonical()))
    with other.unit_of_work() as uow:
        assert log.root(uow) == MerkleTree(stored_leaves(other)).root()
        assert log.sync(uow) == other_size


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=12))
def test_any_mix_of_commits_and_rollbacks_keeps_the_cache_true(
    steps: list[tuple[bool, bool]],
) -> None:
    store, log = MemoryStore(), hub_log()
    for i, (commit, look_inside) in enumerate(steps):
        try:
            with store.unit_of_work() as uow:
                log.append(uow, entry(i))
                if look_inside:
                    log.root(uow)
                if not commit:
                    raise Rollback
        except Rollback:
            pass
    with store.unit_of_work() as uow:
        assert log.root(uow) == MerkleTree(stored_leaves(store)).root()
        assert log.sync(uow) == sum(commit for commit, _ in steps)


def test_two_processes_appending_to_one_store_agree() -> None:
    store = MemoryStore()
    hub, cli = hub_log(), hub_log()
    with store.unit_of_work() as uow:
        for i in range(3):
            hub.append(uow, entry(i))
    with store.unit_of_work() as uow:
        first = hub.sign_tree_head(uow, T0)
    with store.unit_of_work() as uow:
        for i in range(3, 8):
            cli.append(uow, entry(i))
        cli.sign_tree_head(uow, T0 + timedelta(seconds=1))
    with store.unit_of_work() as uow:
        hub.append(uow, entry(8))
    with store.unit_of_work() as uow:
        assert hub.root(uow) == cli.root(uow)
        assert hub.inclusion_proof(uow, 6, 9) == cli.inclusion_proof(uow, 6, 9)
        latest = cli.sign_tree_head(uow, T0 + timedelta(seconds=2))
        proof = hub.consistency_proof(uow, first.tree_size, latest.tree_size)
        report = verify_store(uow, HUB_KEY.public_key())
    assert latest.tree_size == 9
    assert verify_consistency(3, 9, first.root_hash, latest.root_hash, proof)
    assert report.ok, report.problems
    assert (report.entries, report.tree_heads, report.uncovered) == (9, 3, 0)


def test_clean_log_verifies_and_counts_uncovered_entries() -> None:
    store, log = filled(7)
    with store.unit_of_work() as uow:
        log.sign_tree_head(uow, T0)
        log.append(uow, entry(7))
        log.append(uow, entry(8))
    with store.unit_of_work() as uow:
        report = verify_store(uow, HUB_KEY.public_key())
    assert report.ok, report.problems
    assert (report.entries, report.tree_heads, report.uncovered) == (9, 1, 2)


def signed_log(count: int) -> MemoryStore:
    store, log = filled(count)
    with store.unit_of_work() as uow:
        log.sign_tree_head(uow, T0)
    return store


def test_an_edited_entry_is_named_even_when_its_leaf_hash_was_left_alone() -> None:
    store = signed_log(6)
    with store.unit_of_work() as uow:
        row = uow.state.audit[3]
        edited = replace(entry(3), outcome=Outcome.HIT).canonical()
        uow.state.audit[3] = StoredAuditEntry(row.seq, edited, row.leaf_hash)
    with store.unit_of_work() as uow:
        report = verify_store(uow, HUB_KEY.public_key())
    assert not report.ok
    assert any(p.startswith("entry 3:") and "leaf hash" in p for p in report.problems)
    assert len(report.problems) == 2  # the entry, and the head whose root it changes
    assert any(p.startswith("tree head of size 6") and "root" in p for p in report.problems)


def test_an_edited_entry_with_a_matching_leaf_hash_breaks_the_signed_root() -> None:
    store = signed_log(6)
    with store.unit_of_work() as uow:
        edited = replace(entry(2), officer="someone-else").canonical()
        uow.state.audit[2] = StoredAuditEntry(2, edited, leaf_hash(edited))
    with store.unit_of_work() as uow:
        report = verify_store(uow, HUB_KEY.public_key())
    assert report.problems == [
        "tree head of size 6 at 2025-03-01T09:30:00.000Z: "
        "its root differs from the root recomputed from the entries"
    ]


def test_an_entry_that_is_not_a_canonical_audit_entry_is_named() -> None:
    store = signed_log(4)
    garbage = b'{"not": "an entry"}'
    spaced = entry(1).canonical().replace(b",", b", ")
    with store.unit_of_work() as uow:
        uow.state.audit[0] = StoredAuditEntry(0, garbage, leaf_hash(garbage))
        uow.state.audit[1] = StoredAuditEntry(1, spaced, leaf_hash(spaced))
    with store.unit_of_work() as uow:
        problems = verify_store(uow, HUB_KEY.public_key()).problems
    assert "entry 0: does not parse as an audit entry (KeyError)" in problems
    assert "entry 1: is not in canonical form" in problems


def test_a_forged_tree_head_signature_is_reported() -> None:
    store = signed_log(5)
    intruder = Ed25519PrivateKey.generate()
    with store.unit_of_work() as uow:
        head = uow.state.tree_heads[0]
        uow.state.tree_heads[0] = replace(head, signature=intruder.sign(head.signed_bytes()))
    with store.unit_of_work() as uow:
        report = verify_store(uow, HUB_KEY.public_key())
        assert not verify_tree_head(HUB_KEY.public_key(), uow.state.tree_heads[0])
    assert report.problems == [
        "tree head of size 5 at 2025-03-01T09:30:00.000Z: "
        "the signature does not verify with the hub's public key"
    ]


def test_a_signed_fork_and_a_head_beyond_the_log_are_reported() -> None:
    store, log = filled(8)
    with store.unit_of_work() as uow:
        log.sign_tree_head(uow, T0)
    # The hub's key signs a head over another history, and one beyond the log.
    other = MerkleTree(leaf_hash(entry(i + 1).canonical()) for i in range(8))
    forged_ms = int(T0.timestamp() * 1000) - 5
    fork = SignedTreeHead(8, forged_ms, other.root(), b"")
    fork = replace(fork, signature=HUB_KEY.sign(fork.signed_bytes()))
    too_big = SignedTreeHead(20, forged_ms + 10**7, other.root(), b"")
    too_big = replace(too_big, signature=HUB_KEY.sign(too_big.signed_bytes()))
    with store.unit_of_work() as uow:
        uow.audit.add_tree_head(fork)
        uow.audit.add_tree_head(too_big)
    with store.unit_of_work() as uow:
        problems = verify_store(uow, HUB_KEY.public_key()).problems
    assert problems == [
        "tree head of size 8 at 2025-03-01T09:29:59.995Z: "
        "its root differs from the root recomputed from the entries",
        "tree head of size 8 at 2025-03-01T09:30:00.000Z: not consistent with the head of size 8",
        "tree head of size 20 at 2025-03-01T12:16:39.995Z: larger than the log (8 entries)",
    ]


def test_heads_going_back_in_time_are_reported() -> None:
    store, log = filled(3)
    with store.unit_of_work() as uow:
        log.sign_tree_head(uow, T0)
    with store.unit_of_work() as uow:
        log.append(uow, entry(3))
        root = log.root(uow)
    earlier_ms = int(T0.timestamp() * 1000) - 1000
    head = SignedTreeHead(4, earlier_ms, root, b"")
    head = replace(head, signature=HUB_KEY.sign(head.signed_bytes()))
    with store.unit_of_work() as uow:
        uow.audit.add_tree_head(head)
    with store.unit_of_work() as uow:
        problems = verify_store(uow, HUB_KEY.public_key()).problems
    assert problems == [
        "tree head of size 4 at 2025-03-01T09:29:59.000Z: "
        "older than the head of size 3 at 2025-03-01T09:30:00.000Z"
    ]
