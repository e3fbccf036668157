"""The hub's audit log: entries in the store, a Merkle tree over them, signed tree heads.

The store is the log; the :class:`~policenet.security.audit.MerkleTree` held
by :class:`AuditLog` is only a cache of its leaf hashes, brought up to date
from the store (``sync``) before any root or proof is computed. Several
processes (hub workers, the hub admin's CLI) may append to one database; each
keeps its own cache and they agree because they read the same leaves.

A leaf becomes part of the cache only once it is committed: :meth:`AuditLog.append`
does not touch the cache, and leaves that a unit of work appended itself are
used for that unit of work's answers and then dropped again, so a rolled-back
append never leaves a phantom leaf behind. As a second guard, every sync
checks that the cache's last leaf is still the store's and rebuilds the cache
from the store when it is not.

Tree heads are signed with Ed25519 over :func:`~policenet.domain.audit.tree_head_bytes`.
A member holding a tree head checks a proof with :func:`tree_head_from_json`,
:func:`proof_from_json`, :func:`verify_tree_head` and the ``verify_*``
functions of :mod:`policenet.security.audit`; it needs nothing else.
"""

from __future__ import annotations

import base64
import binascii
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from policenet.domain.audit import AuditEntry, SignedTreeHead, tree_head_bytes
from policenet.errors import Forbidden, InvalidField, InvalidInput
from policenet.security.audit import HASH_SIZE, MerkleTree, leaf_hash, verify_consistency
from policenet.store.ports import UnitOfWork

SIGNATURE_SIZE = 64
"""Bytes in an Ed25519 signature."""

MAX_PROOF_HASHES = 64
"""No proof for a log of fewer than 2**63 entries has more hashes than this."""

MAX_PROBLEMS = 1000
"""verify_store lists at most this many problems, then says how many more it found."""

_VERIFY_BATCH = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")


class AuditLog:
    """The hub's audit log over a store's ``audit`` repository.

    ``signing_key`` is the hub's Ed25519 key; None for a reader that can
    compute proofs and check heads but not sign. ``public_key`` is the key
    tree heads are checked with. Safe to share between threads.

    Every method takes the caller's unit of work and reads the log as that
    unit of work sees it, including entries it appended itself. Appends must
    go through :meth:`append` so the cache knows which leaves are not yet
    committed.
    """

    def __init__(self, signing_key: Ed25519PrivateKey | None, public_key: Ed25519PublicKey) -> None:
        self._signing_key = signing_key
        self._public_key = public_key
        self._tree = MerkleTree()
        self._lock = threading.Lock()
        # id(uow) -> (weak reference to it, first seq it appended). Keyed by id
        # because a unit of work need not be hashable.
        self._uncommitted: dict[int, tuple[weakref.ref[UnitOfWork], int]] = {}

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._public_key

    def append(self, uow: UnitOfWork, entry: AuditEntry) -> int:
        """Store ``entry`` in ``uow``'s transaction and return its sequence number.

        The entry lands (or not) with whatever else the unit of work does.
        """
        canonical = entry.canonical()
        seq = uow.audit.append(canonical, leaf_hash(canonical))
        with self._lock:
            if self._first_uncommitted(uow) is None:
                self._forget_finished()
                self._uncommitted[id(uow)] = (weakref.ref(uow), seq)
        return seq

    def append_many(self, uow: UnitOfWork, entries: Sequence[AuditEntry]) -> None:
        """Store ``entries`` in order, in ``uow``'s transaction (one batch after the first),
        as :meth:`append` one at a time would."""
        if not entries:
            return
        self.append(uow, entries[0])
        rest = [entry.canonical() for entry in entries[1:]]
        if rest:
            uow.audit.append_many([(canonical, leaf_hash(canonical)) for canonical in rest])

    def sync(self, uow: UnitOfWork) -> int:
        """Bring the cache up to date with the store; return the log's size as ``uow`` sees it."""
        return self._with_tree(uow, lambda tree: tree.size)

    def root(self, uow: UnitOfWork, size: int | None = None) -> bytes:
        """The root hash over the first ``size`` entries (all when None)."""

        def compute(tree: MerkleTree) -> bytes:
            if size is not None:
                _check_size(size, tree.size)
            return tree.root(size)

        return self._with_tree(uow, compute)

    def sign_tree_head(self, uow: UnitOfWork, now: datetime) -> SignedTreeHead:
        """Sign the log's current size and root, store the head in ``uow`` and return it.

        The timestamp is ``now`` in milliseconds, but never earlier than the
        latest stored head's, so heads never go back in time when clocks of
        several hub processes disagree. Raises Forbidden without a signing key.
        """
        if self._signing_key is None:
            raise Forbidden("this audit log has no signing key; only the hub signs tree heads")
        timestamp_ms = _to_ms(now)
        latest = self.latest_tree_head(uow)
        if latest is not None:
            timestamp_ms = max(timestamp_ms, latest.timestamp_ms)
        size, root = self._with_tree(uow, lambda tree: (tree.size, tree.root()))
        signature = self._signing_key.sign(tree_head_bytes(size, timestamp_ms, root))
        head = SignedTreeHead(size, timestamp_ms, root, signature)
        uow.audit.add_tree_head(head)
        return head

    def sign_if_grown(self, uow: UnitOfWork, now: datetime) -> SignedTreeHead:
        """The latest head if it covers the whole log, else a newly signed one.

        What members are served: polling the head does not make the hub sign
        and store a head per poll.
        """
        latest = self.latest_tree_head(uow)
        if latest is not None and latest.tree_size == self.sync(uow):
            return latest
        return self.sign_tree_head(uow, now)

    def latest_tree_head(self, uow: UnitOfWork) -> SignedTreeHead | None:
        """The stored head of the largest size (the latest of those), or None before the first."""
        heads = uow.audit.tree_heads()
        return heads[-1] if heads else None

    def inclusion_proof(self, uow: UnitOfWork, seq: int, size: int) -> list[bytes]:
        """The proof that entry ``seq`` is in the log of ``size`` entries (RFC 9162 2.1.3.1).

        Raises InvalidInput when ``size`` is larger than the log or ``seq`` is
        not below ``size``.
        """

        def prove(tree: MerkleTree) -> list[bytes]:
            _check_size(size, tree.size)
            if not 0 <= seq < size:
                raise InvalidInput(f"entry {seq} is not in the log of size {size}")
            return tree.inclusion_proof(seq, size)

        return self._with_tree(uow, prove)

    def consistency_proof(self, uow: UnitOfWork, first: int, second: int) -> list[bytes]:
        """The proof that the log of ``first`` entries is a prefix of that of ``second``.

        RFC 9162 2.1.4.1; empty when first is 0 or equal to second. Raises
        InvalidInput when ``second`` is larger than the log or ``first`` is
        not between 0 and ``second``.
        """

        def prove(tree: MerkleTree) -> list[bytes]:
            _check_size(second, tree.size)
            if not 0 <= first <= second:
                raise InvalidInput(f"first size {first} must be between 0 and second size {second}")
            return tree.consistency_proof(first, second)

        return self._with_tree(uow, prove)

    def _with_tree(self, uow: UnitOfWork, use: Callable[[MerkleTree], _T]) -> _T:
        with self._lock:
            committed = self._sync(uow)
            try:
                return use(self._tree)
            finally:
                # Leaves this unit of work appended may still be rolled back.
                self._tree.truncate(committed)

    def _sync(self, uow: UnitOfWork) -> int:
        """Extend the cache with every leaf ``uow`` sees; return how many of them are committed."""
        known = self._tree.size
        if known:
            tail = uow.audit.entries(known - 1, known)
            if not tail or tail[0].leaf_hash != self._tree.leaf(known - 1):
                # The store is not the one the cache was built from (restored, or
                # a leaf was cached that never committed): start again from it.
                self._tree = MerkleTree()
                known = 0
        new = uow.audit.leaf_hashes(known)
        first_uncommitted = self._first_uncommitted(uow)
        if first_uncommitted is None:
            self._tree.extend(new)
            return self._tree.size
        settled = max(0, first_uncommitted - known)
        self._tree.extend(new[:settled])
        committed = self._tree.size
        self._tree.extend(new[settled:])
        return committed

    def _first_uncommitted(self, uow: UnitOfWork) -> int | None:
        found = self._uncommitted.get(id(uow))
        if found is None or found[0]() is not uow:
            return None
        return found[1]

    def _forget_finished(self) -> None:
        for key, (ref, _) in list(self._uncommitted.items()):
            if ref() is None:
                del self._uncommitted[key]


def verify_tree_head(public_key: Ed25519PublicKey, head: SignedTreeHead) -> bool:
    """Whether ``head`` carries a valid signature of ``public_key`` over its size, time and root."""
    if len(head.root_hash) != HASH_SIZE or not 0 <= head.tree_size < 2**64:
        return False
    if not 0 <= head.timestamp_ms < 2**64:
        return False
    try:
        public_key.verify(head.signature, head.signed_bytes())
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What ``verify_store`` found.

    ``entries`` and ``tree_heads`` count what the store holds; ``uncovered``
    counts the entries after the largest signed head (not yet protected by
    any signature). ``problems`` names, for each failure, the entry's
    sequence number or the tree head's size and what failed.
    """

    entries: int
    tree_heads: int
    uncovered: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_store(uow: UnitOfWork, public_key: Ed25519PublicKey) -> AuditReport:
    """Check the whole stored log from scratch, trusting nothing but its canonical bytes.

    Every leaf hash is recomputed from the entry's stored canonical bytes and
    compared with the stored leaf hash; every entry must parse as an
    :class:`AuditEntry` and be in canonical form. Every tree head must carry
    a valid signature of ``public_key``, fit in the log, have the root
    recomputed over the first tree_size recomputed leaves, be consistent with
    the head before it (RFC 9162 consistency proof) and not be older than it.
    Reads the entries in batches, so memory stays about 64 bytes per entry.
    """
    problems = _Problems()
    size = uow.audit.size()
    tree = MerkleTree()
    for start in range(0, size, _VERIFY_BATCH):
        stop = min(start + _VERIFY_BATCH, size)
        rows = uow.audit.entries(start, stop)
        for seq, row in enumerate(rows, start):
            if row.seq != seq:
                problems.add(f"entry {seq}: stored with sequence number {row.seq}")
            computed = leaf_hash(row.canonical)
            if computed != row.leaf_hash:
                problems.add(f"entry {seq}: its bytes do not match its stored leaf hash (altered)")
            _check_canonical(seq, row.canonical, problems)
            tree.append(computed)
        if len(rows) != stop - start:
            problems.add(f"entries {start} to {stop - 1}: the store returned {len(rows)} entries")
            break

    heads = uow.audit.tree_heads()
    previous: SignedTreeHead | None = None
    for head in heads:
        label = f"tree head of size {head.tree_size} at {_when(head.timestamp_ms)}"
        if not verify_tree_head(public_key, head):
            problems.add(f"{label}: the signature does not verify with the hub's public key")
        if head.tree_size > tree.size:
            problems.add(f"{label}: larger than the log ({_entries(tree.size)})")
        elif tree.root(head.tree_size) != head.root_hash:
            problems.add(f"{label}: its root differs from the root recomputed from the entries")
        if previous is not None:
            if head.timestamp_ms < previous.timestamp_ms:
                problems.add(
                    f"{label}: older than the head of size {previous.tree_size} "
                    f"at {_when(previous.timestamp_ms)}"
                )
            if head.tree_size <= tree.size:
                proof = tree.consistency_proof(previous.tree_size, head.tree_size)
                if not verify_consistency(
                    previous.tree_size, head.tree_size, previous.root_hash, head.root_hash, proof
                ):
                    problems.add(
                        f"{label}: not consistent with the head of size {previous.tree_size}"
                    )
        previous = head
    covered = min(heads[-1].tree_size, tree.size) if heads else 0
    return AuditReport(
        entries=size,
        tree_heads=len(heads),
        uncovered=size - covered,
        problems=problems.listed(),
    )


def tree_head_to_json(head: SignedTreeHead) -> dict[str, int | str]:
    """The head as JSON: ``tree_size``, ``timestamp`` (ms), base64 ``root_hash``, ``signature``."""
    return {
        "tree_size": head.tree_size,
        "timestamp": head.timestamp_ms,
        "root_hash": _b64(head.root_hash),
        "signature": _b64(head.signature),
    }


def tree_head_from_json(data: Mapping[str, object]) -> SignedTreeHead:
    """The head from :func:`tree_head_to_json`'s form; InvalidField names a bad or missing field.

    Only the shape is checked here; :func:`verify_tree_head` checks the signature.
    """
    return SignedTreeHead(
        tree_size=_uint64(data, "tree_size"),
        timestamp_ms=_uint64(data, "timestamp"),
        root_hash=_unb64(data.get("root_hash"), "root_hash", HASH_SIZE),
        signature=_unb64(data.get("signature"), "signature", SIGNATURE_SIZE),
    )


def proof_to_json(proof: list[bytes]) -> list[str]:
    """A proof as a list of base64 strings, in order."""
    return [_b64(h) for h in proof]


def proof_from_json(data: object) -> list[bytes]:
    """A proof from :func:`proof_to_json`'s form; InvalidField names a bad element."""
    if not isinstance(data, list):
        raise InvalidField("proof", "must be a list of base64 hashes")
    if len(data) > MAX_PROOF_HASHES:
        raise InvalidField(
            "proof", f"has {len(data)} hashes; a proof has at most {MAX_PROOF_HASHES}"
        )
    return [_unb64(h, f"proof[{i}]", HASH_SIZE) for i, h in enumerate(data)]


class _Problems:
    """Problem lines up to MAX_PROBLEMS; counts the rest."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._dropped = 0

    def add(self, line: str) -> None:
        if len(self._lines) < MAX_PROBLEMS:
            self._lines.append(line)
        else:
            self._dropped += 1

    def listed(self) -> list[str]:
        if self._dropped:
            return [*self._lines, f"... and {self._dropped} more problems"]
        return list(self._lines)


def _check_canonical(seq: int, canonical: bytes, problems: _Problems) -> None:
    try:
        parsed = AuditEntry.from_canonical(canonical)
        again = parsed.canonical()
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        problems.add(f"entry {seq}: does not parse as an audit entry ({type(exc).__name__})")
        return
    if again != canonical:
        problems.add(f"entry {seq}: is not in canonical form")


def _check_size(size: int, log_size: int) -> None:
    if size > log_size:
        raise InvalidInput(f"size {size} is larger than the log ({_entries(log_size)})")
    if size < 0:
        raise InvalidInput(f"size {size} is negative")


def _entries(n: int) -> str:
    return "1 entry" if n == 1 else f"{n} entries"


def _to_ms(now: datetime) -> int:
    if now.utcoffset() is None:
        raise InvalidField("now", "must be timezone-aware")
    return (now - _EPOCH) // timedelta(milliseconds=1)


def _when(timestamp_ms: int) -> str:
    try:
        moment = _EPOCH + timedelta(milliseconds=timestamp_ms)
    except OverflowError:
        return f"{timestamp_ms} ms"
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _unb64(value: object, field: str, size: int) -> bytes:
    if not isinstance(value, str):
        raise InvalidField(field, "must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidField(field, "is not valid base64") from None
    if len(raw) != size:
        raise InvalidField(field, f"must decode to {size} bytes, got {len(raw)}")
    return raw


def _uint64(data: Mapping[str, object], field: str) -> int:
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(field, "must be an integer")
    if not 0 <= value < 2**64:
        raise InvalidField(field, f"must be between 0 and 2**64 - 1, got {value}")
    return value


__all__ = [
    "AuditLog",
    "AuditReport",
    "proof_from_json",
    "proof_to_json",
    "tree_head_from_json",
    "tree_head_to_json",
    "verify_store",
    "verify_tree_head",
]
