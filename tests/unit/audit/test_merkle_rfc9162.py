"""RFC 9162 reference behaviour: roots, inclusion and consistency proofs, signed heads."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from market.audit.merkle import (
    EMPTY_ROOT,
    MemoryNodeSource,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
    verify_consistency,
    verify_inclusion,
)
from market.audit.tree_head import sign_tree_head, verify_tree_head

# The RFC 6962 / CT reference inputs and the published root over all eight.
VECTOR = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def mth(leaves: list[bytes]) -> bytes:
    """The recursive definition of RFC 9162 §2.1.1, as the reference."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def test_empty_one_and_known_vector() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert TreeBuilder().root() == EMPTY_ROOT
    leaves = [leaf_hash(v) for v in VECTOR]
    one = TreeBuilder()
    one.append(leaves[0])
    assert one.root() == leaf_hash(b"")
    assert mth(leaves).hex() == ROOT_8
    assert range_hash(MemoryNodeSource(leaves), 0, 8).hex() == ROOT_8


def test_every_proof_for_every_size_up_to_200() -> None:
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(200)]
    builder = TreeBuilder()
    roots = []
    for leaf in leaves:
        builder.append(leaf)
        roots.append(builder.root())
    nodes = MemoryNodeSource(leaves)
    for n in range(1, 201):
        assert roots[n - 1] == mth(leaves[:n]) == range_hash(nodes, 0, n)
        step = 1 if n <= 64 else 7
        for i in range(0, n, step):
            proof = inclusion_proof(i, n, nodes)
            assert verify_inclusion(leaves[i], i, n, proof, roots[n - 1])
            assert (
                not verify_inclusion(leaves[i], i, n, proof, roots[n - 2] if n > 1 else b"x" * 32) or n == 1
            )
        for m in range(1, n + 1, step):
            proof = consistency_proof(m, n, nodes)
            assert verify_consistency(m, n, roots[m - 1], roots[n - 1], proof)
            if m < n:
                assert not verify_consistency(m, n, roots[m - 1], leaf_hash(b"forged"), proof)


def test_proofs_refuse_out_of_range_and_wrong_leaves() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(10)]
    nodes = MemoryNodeSource(leaves)
    root = mth(leaves)
    assert not verify_inclusion(leaves[3], 10, 10, inclusion_proof(3, 10, nodes), root)
    assert not verify_inclusion(leaves[4], 3, 10, inclusion_proof(3, 10, nodes), root)
    assert not verify_consistency(5, 4, root, root, [])


def test_signed_tree_head_verifies_and_tampering_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    sth = sign_tree_head(8, bytes.fromhex(ROOT_8), datetime(2026, 11, 22, tzinfo=UTC), key)
    assert verify_tree_head(sth, key.public_key())
    assert not verify_tree_head(sth.model_copy(update={"tree_size": 9}), key.public_key())
    assert not verify_tree_head(sth, Ed25519PrivateKey.generate().public_key())
