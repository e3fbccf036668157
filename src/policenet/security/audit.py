"""The Merkle tree maths of the audit log, as in Certificate Transparency (RFC 9162, 2.1).

Pure: no I/O, no clock. Hashes are SHA-256 with the RFC's domain separation,
``leaf_hash(d) = SHA-256(0x00 || d)`` and ``node_hash(l, r) = SHA-256(0x01 || l || r)``;
the root of the empty tree is ``SHA-256("")``. Sizes and indexes count leaves
from 0; a tree "of size n" is the tree over the first n leaves.

:class:`MerkleTree` is what the hub keeps: an append-only list of leaf hashes
with every complete, aligned subtree hash cached, so a root or a proof is
O(log n) hash reads. :func:`verify_inclusion` and :func:`verify_consistency`
are what a member runs: they need only a tree head and a proof, never the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from policenet.errors import InvalidInput

HASH_SIZE = 32
"""Bytes in every hash of the log (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root hash of the tree of size 0 (RFC 9162 2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only Merkle tree over leaf hashes (RFC 9162 2.1.1).

    ``levels[k]`` holds, concatenated, the hashes of the complete subtrees of
    2**k leaves that start at a multiple of 2**k: level 0 the leaves, level 1
    their pairs, and so on. Appending a leaf adds O(1) hashes amortised; a
    root or a proof for any size up to :attr:`size` is O(log n) reads of that
    cache plus O(log n) hashes. Memory is about 64 bytes per leaf (two hashes),
    so a million leaves take about 64 MB.

    Methods that take a size or an index raise :class:`InvalidInput` naming
    the value when it is outside the tree.
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (32 bytes) at the end."""
        _check_hash(leaf, "leaf hash")
        levels = self._levels
        levels[0] += leaf
        self._size += 1
        index, level, node = self._size - 1, 0, leaf
        # A node that is a right child completes its parent; carry upwards.
        while index & 1:
            start = (index - 1) * HASH_SIZE
            node = node_hash(bytes(levels[level][start : start + HASH_SIZE]), node)
            level += 1
            index >>= 1
            if level == len(levels):
                levels.append(bytearray())
            levels[level] += node

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add many leaf hashes in order; the same result as appending each, but faster."""
        added = bytearray()
        count = 0
        for leaf in leaf_hashes:
            _check_hash(leaf, f"leaf hash {self._size + count}")
            added += leaf
            count += 1
        if not count:
            return
        levels = self._levels
        levels[0] += added
        self._size += count
        level = 0
        while self._size >> (level + 1):
            if level + 1 == len(levels):
                levels.append(bytearray())
            below = memoryview(levels[level])
            above = levels[level + 1]
            for i in range(len(above) // HASH_SIZE, self._size >> (level + 1)):
                pair = 2 * i * HASH_SIZE
                digest = hashlib.sha256(_NODE_PREFIX)
                digest.update(below[pair : pair + 2 * HASH_SIZE])
                above += digest.digest()
            below.release()
            level += 1

    def truncate(self, size: int) -> None:
        """Drop every leaf from ``size`` on (0 <= size <= self.size); O(log n)."""
        self._check_size(size)
        for level, hashes in enumerate(self._levels):
            del hashes[(size >> level) * HASH_SIZE :]
        while len(self._levels) > 1 and not self._levels[-1]:
            self._levels.pop()
        self._size = size

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index`` (0 <= index < size)."""
        if not 0 <= index < self._size:
            raise InvalidInput(f"leaf {index} is not in a tree of size {self._size}")
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all when None); EMPTY_ROOT for size 0."""
        if size is None:
            size = self._size
        self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 2.1.3.1: sibling hashes from the leaf upwards.

        Needs 0 <= index < size <= self.size. A tree of one leaf has the empty proof.
        """
        self._check_size(size)
        if not 0 <= index < size:
            raise InvalidInput(f"leaf {index} is not in a tree of size {size}")
        path: list[bytes] = []
        start, end = 0, size
        # Walk down from the root; the RFC lists siblings bottom-up, so reverse at the end.
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._subtree(start + k, end))
                end = start + k
            else:
                path.append(self._subtree(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """PROOF(first, D[0:second]) of RFC 9162 2.1.4.1.

        Needs 0 <= first <= second <= self.size. The proof is empty when
        first == 0 or first == second (nothing to prove).
        """
        self._check_size(second)
        if not 0 <= first <= second:
            raise InvalidInput(f"first size {first} must be between 0 and second size {second}")
        if first in (0, second):
            return []
        proof: list[bytes] = []
        # SUBPROOF(m, D[start:end], whole) unrolled; ``m`` counts leaves from ``start``.
        start, end, m, whole = 0, second, first, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                proof.append(self._subtree(start + k, end))
                end = start + k
            else:
                proof.append(self._subtree(start, start + k))
                start += k
                m -= k
                whole = False
        if not whole:
            proof.append(self._subtree(start, end))
        proof.reverse()
        return proof

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self._size:
            raise InvalidInput(f"size {size} is outside the tree (0 to {self._size} leaves)")

    def _node(self, level: int, index: int) -> bytes:
        start = index * HASH_SIZE
        return bytes(self._levels[level][start : start + HASH_SIZE])

    def _subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range that RFC 9162's recursion produces.

        Such a range starts at a multiple of the smallest power of two that is
        >= its width, so it is a run of complete cached subtrees, one per set
        bit of the width, largest first; MTH folds them from the right.
        """
        width = end - start
        pieces: list[bytes] = []
        position = start
        for level in range(width.bit_length() - 1, -1, -1):
            if width >> level & 1:
                pieces.append(self._node(level, position >> level))
                position += 1 << level
        result = pieces.pop()
        while pieces:
            result = node_hash(pieces.pop(), result)
        return result


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf at ``index`` is in the tree of ``size`` with ``root``.

    RFC 9162 2.1.3.2, step by step. False (never an exception) for anything
    that does not verify, including an index outside the tree and hashes that
    are not 32 bytes.
    """
    if not 0 <= index < size:
        return False
    if not _all_hashes(leaf_hash, root, *proof):
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree of ``first`` leaves is a prefix of that of ``second``.

    For 0 < first < second this is RFC 9162 2.1.4.2 step by step. The RFC
    leaves the trivial cases open; here first == second holds when the proof
    is empty and the roots are equal, and first == 0 when the proof is empty
    and ``first_root`` is the empty root. False for first > second, negative
    sizes and hashes that are not 32 bytes.
    """
    if not _all_hashes(first_root, second_root, *proof):
        return False
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def _all_hashes(*values: bytes) -> bool:
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise InvalidInput(f"{what} must be {HASH_SIZE} bytes, got {size}")


__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]
