"""The Merkle maths of the audit log against RFC 9162 and Certificate Transparency's vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.errors import InvalidInput
from policenet.security.audit import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# Known answers from transparency-dev/merkle (Apache-2.0): the leaf inputs and
# roots are testonly/constants.go (LeafInputs, RootHashes); the proofs are
# proof/verify_test.go (inclusionProofs, consistencyProofs; there leaf numbers
# are 1-based, here indexes are 0-based).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def ct_tree() -> MerkleTree:
    return MerkleTree(leaf_hash(data) for data in CT_LEAVES)


# A slow but obviously correct model: RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1 as written.
def model_root(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(model_root(leaves[:k]), model_root(leaves[k:]))


def model_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*model_path(m, leaves[:k]), model_root(leaves[k:])]
    return [*model_path(m - k, leaves[k:]), model_root(leaves[:k])]


def model_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [model_root(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*model_subproof(m, leaves[:k], whole), model_root(leaves[k:])]
    return [*model_subproof(m - k, leaves[k:], False), model_root(leaves[:k])]


def flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit), *value[1:]])


leaf_lists = st.lists(st.binary(max_size=8).map(leaf_hash), min_size=1, max_size=70)
# Distinct leaves, so that moving a proof to another index must change the root.
unique_leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=70, unique=True).map(
    lambda data: [leaf_hash(d) for d in data]
)


def test_hashes_have_rfc_domain_separation() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    assert CT_ROOTS[0] == EMPTY_ROOT


def test_roots_of_every_size_match_certificate_transparency() -> None:
    tree = ct_tree()
    assert [tree.root(size) for size in range(9)] == CT_ROOTS
    assert tree.root() == CT_ROOTS[8]


def test_roots_while_growing_match_certificate_transparency() -> None:
    tree = MerkleTree()
    assert tree.root() == CT_ROOTS[0]
    for size, data in enumerate(CT_LEAVES, 1):
        tree.append(leaf_hash(data))
        assert tree.root() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION)
def test_inclusion_proofs_match_certificate_transparency(
    index: int, size: int, expected: list[str]
) -> None:
    proof = ct_tree().inclusion_proof(index, size)
    assert [h.hex() for h in proof] == expected
    assert verify_inclusion(leaf_hash(CT_LEAVES[index]), index, size, proof, CT_ROOTS[size])


@pytest.mark.parametrize(("first", "second", "expected"), CT_CONSISTENCY)
def test_consistency_proofs_match_certificate_transparency(
    first: int, second: int, expected: list[str]
) -> None:
    proof = ct_tree().consistency_proof(first, second)
    assert [h.hex() for h in proof] == expected
    assert verify_consistency(first, second, CT_ROOTS[first], CT_ROOTS[second], proof)


@given(leaf_lists)
def test_roots_and_proofs_equal_the_rfc_definitions(leaves: list[bytes]) -> None:
    tree = MerkleTree(leaves)
    for size in range(len(leaves) + 1):
        assert tree.root(size) == model_root(leaves[:size])
    n = len(leaves)
    for index in range(n):
        assert tree.inclusion_proof(index, n) == model_path(index, leaves)
    for first in range(1, n):
        assert tree.consistency_proof(first, n) == model_subproof(first, leaves, True)


@given(unique_leaf_lists, st.data())
def test_inclusion_proof_verifies_and_any_change_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = tree.root(size)
    proof = tree.inclusion_proof(index, size)
    leaf = leaves[index]

    assert verify_inclusion(leaf, index, size, proof, root)
    assert not verify_inclusion(flip(leaf), index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, flip(root, 7))
    assert not verify_inclusion(leaf, index, size, [*proof, root], root)
    # One more level on top is a proof for a bigger tree, not for this size.
    assert not verify_inclusion(leaf, index, size, [*proof, leaf], node_hash(leaf, root))
    if index ^ 1 < size:
        assert not verify_inclusion(leaf, index ^ 1, size, proof, root)
    for i in range(len(proof)):
        changed = [*proof[:i], flip(proof[i], 3), *proof[i + 1 :]]
        assert not verify_inclusion(leaf, index, size, changed, root)
    if proof:
        assert not verify_inclusion(leaf, index, size, proof[:-1], root)


@given(leaf_lists, st.data())
def test_consistency_proof_verifies_and_any_change_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MerkleTree(leaves)
    second = data.draw(st.integers(0, len(leaves)), label="second")
    first = data.draw(st.integers(0, second), label="first")
    first_root, second_root = tree.root(first), tree.root(second)
    proof = tree.consistency_proof(first, second)

    assert verify_consistency(first, second, first_root, second_root, proof)
    if first == 0:
        # The empty tree is a prefix of every tree: nothing to prove.
        assert proof == []
        return
    assert not verify_consistency(first, second, first_root, flip(second_root), proof)
    if first == second:
        assert proof == []
        return
    assert not verify_consistency(second, first, second_root, first_root, proof)
    assert not verify_consistency(first, second, flip(first_root), second_root, proof)
    assert not verify_consistency(first, second, first_root, second_root, [*proof, second_root])
    top = leaf_hash(b"on top")
    assert not verify_consistency(
        first, second, node_hash(top, first_root), node_hash(top, second_root), [*proof, top]
    )
    for i in range(len(proof)):
        changed = [*proof[:i], flip(proof[i], 4), *proof[i + 1 :]]
        assert not verify_consistency(first, second, first_root, second_root, changed)
    if proof:
        assert not verify_consistency(first, second, first_root, second_root, proof[:-1])


@given(leaf_lists, leaf_lists, st.data())
def test_consistency_fails_for_a_rewritten_history(
    leaves: list[bytes], extra: list[bytes], data: st.DataObject
) -> None:
    # The log showed ``leaves``, then rewrote one of them and grew.
    changed = data.draw(st.integers(0, len(leaves) - 1), label="changed")
    forked = [*leaves, *extra]
    forked[changed] = flip(forked[changed])
    honest, fork = MerkleTree(leaves), MerkleTree(forked)
    proof = fork.consistency_proof(len(leaves), fork.size)
    assert not verify_consistency(len(leaves), fork.size, honest.root(), fork.root(), proof)


@settings(max_examples=50)
@given(leaf_lists, st.data())
def test_append_extend_and_truncate_agree(leaves: list[bytes], data: st.DataObject) -> None:
    one_by_one = MerkleTree()
    for leaf in leaves:
        one_by_one.append(leaf)
    cut = data.draw(st.integers(0, len(leaves)), label="cut")
    rebuilt = MerkleTree(leaves)
    rebuilt.truncate(cut)
    assert rebuilt.size == cut
    assert rebuilt.root() == model_root(leaves[:cut])
    rebuilt.extend(leaves[cut:])
    assert rebuilt.root() == one_by_one.root() == model_root(leaves)
    assert [rebuilt.leaf(i) for i in range(len(leaves))] == leaves


def test_single_leaf_tree_has_empty_proofs() -> None:
    leaf = leaf_hash(b"only")
    tree = MerkleTree([leaf])
    assert tree.root() == leaf
    assert tree.inclusion_proof(0, 1) == []
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [], b"")


def test_trivial_consistency_cases() -> None:
    root = leaf_hash(b"x")
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 5, root, root, [])
    assert verify_consistency(3, 3, root, root, [])
    assert not verify_consistency(3, 3, root, root, [root])
    assert not verify_consistency(3, 3, root, EMPTY_ROOT, [])
    assert not verify_consistency(1, 2, root, root, [])
    assert not verify_consistency(-1, 2, root, root, [root])


def test_verifiers_reject_out_of_range_and_malformed_input() -> None:
    tree = ct_tree()
    root = tree.root()
    proof = tree.inclusion_proof(3, 8)
    leaf = leaf_hash(CT_LEAVES[3])
    assert not verify_inclusion(leaf, 8, 8, proof, root)
    assert not verify_inclusion(leaf, -1, 8, proof, root)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf[:31], 3, 8, proof, root)
    assert not verify_inclusion(leaf, 3, 8, [*proof[:2], proof[2][:31]], root)


def test_tree_refuses_sizes_and_indexes_outside_it() -> None:
    tree = ct_tree()
    with pytest.raises(InvalidInput, match="size 9"):
        tree.root(9)
    with pytest.raises(InvalidInput, match="leaf 8 is not in a tree of size 8"):
        tree.inclusion_proof(8, 8)
    with pytest.raises(InvalidInput, match="size 9"):
        tree.inclusion_proof(0, 9)
    with pytest.raises(InvalidInput, match="first size 5"):
        tree.consistency_proof(5, 4)
    with pytest.raises(InvalidInput, match="size 10"):
        tree.consistency_proof(1, 10)
    with pytest.raises(InvalidInput, match="must be 32 bytes, got 31"):
        tree.append(b"x" * 31)
    with pytest.raises(InvalidInput, match="leaf 9"):
        tree.leaf(9)
    assert tree.size == 8


@pytest.mark.slow
def test_a_million_leaves() -> None:
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(1_000_000)]
    tree = MerkleTree()
    for leaf in leaves[:500_000]:
        tree.append(leaf)
    tree.extend(leaves[500_000:])
    root = tree.root()
    index = 765_431
    assert verify_inclusion(
        leaves[index], index, tree.size, tree.inclusion_proof(index, tree.size), root
    )
    first = 333_333
    proof = tree.consistency_proof(first, tree.size)
    assert verify_consistency(first, tree.size, tree.root(first), root, proof)
    assert len(proof) <= 2 * 20
