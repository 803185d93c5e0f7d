"""RFC 9162 §2.1 reference behaviour of market.audit.merkle: CT vectors, every size and index
up to 200 against a literal transcription of the RFC, stored-node proofs, refusals."""

from __future__ import annotations

import pytest
from audit_factories import Reference, sha

from market.audit.merkle import (
    EMPTY_ROOT,
    MemoryNodeSource,
    TreeBuilder,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_subtree_hashes,
    range_hash,
    root,
    root_nodes,
    verify_consistency,
    verify_inclusion,
)

# The CT reference inputs (Go and C++ certificate-transparency test suites) and MTH(D[n]).
CT_DATA = [
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
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (index, size, PATH)
    (0, 1, []),
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
CT_CONSISTENCY = [  # (first, second, PROOF)
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
]
CT_LEAVES = [leaf_hash(d) for d in CT_DATA]
CT_NODES = MemoryNodeSource(CT_LEAVES)


def test_hashing_is_domain_separated_and_the_empty_tree_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == CT_ROOTS[0] == sha(b"").hex()
    assert leaf_hash(b"") == sha(b"\x00")
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) == sha(b"\x01" + left + right)
    assert leaf_hash(left + right) != node_hash(left, right)


@pytest.mark.parametrize("n", range(9))
def test_roots_match_the_ct_vectors(n: int) -> None:
    assert root(CT_LEAVES[:n]).hex() == CT_ROOTS[n]
    assert Reference(CT_DATA).mth(0, n).hex() == CT_ROOTS[n]
    assert range_hash(CT_NODES, 0, n).hex() == CT_ROOTS[n]


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION)
def test_inclusion_proofs_match_the_ct_vectors(index: int, size: int, expected: list[str]) -> None:
    proof = inclusion_proof(index, size, CT_NODES)
    assert [p.hex() for p in proof] == expected
    assert verify_inclusion(CT_LEAVES[index], index, size, proof, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("first", "second", "expected"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_ct_vectors(first: int, second: int, expected: list[str]) -> None:
    proof = consistency_proof(first, second, CT_NODES)
    assert [p.hex() for p in proof] == expected
    old, new = bytes.fromhex(CT_ROOTS[first]), bytes.fromhex(CT_ROOTS[second])
    assert verify_consistency(first, second, old, new, proof)


def test_every_proof_of_every_size_up_to_200_equals_the_rfc_and_verifies() -> None:
    data = [i.to_bytes(2, "big") for i in range(200)]
    leaves = [leaf_hash(d) for d in data]
    ref = Reference(data)
    nodes = MemoryNodeSource(leaves)
    for n in range(1, 201):
        root_n = ref.mth(0, n)
        assert range_hash(nodes, 0, n) == root_n
        for i in range(n):
            proof = inclusion_proof(i, n, nodes)
            assert proof == ref.path(i, 0, n), (i, n)
            assert verify_inclusion(leaves[i], i, n, proof, root_n)
            if n > 1:
                assert not verify_inclusion(leaves[i], (i + 1) % n, n, proof, root_n)
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, nodes)
            assert proof == ref.subproof(m, 0, n, True), (m, n)
            assert verify_consistency(m, n, ref.mth(0, m), root_n, proof)
            if m < n:
                assert not verify_consistency(m, n, ref.mth(0, m - 1), root_n, proof)


def test_tree_builder_yields_each_perfect_subtree_once_and_keeps_a_log_sized_frontier() -> None:
    data = [bytes([i]) for i in range(100)]
    leaves, ref = [leaf_hash(d) for d in data], Reference(data)
    seen: dict[tuple[int, int], bytes] = {}
    builder = TreeBuilder()
    for n, leaf in enumerate(leaves, start=1):
        for level, index, digest in builder.append(leaf):
            assert (level, index) not in seen
            assert digest == ref.mth(index << level, (index + 1) << level)
            seen[(level, index)] = digest
        assert builder.size == n and builder.root() == ref.mth(0, n)
        assert len(builder.frontier) == bin(n).count("1")
    assert len(seen) == 2 * 100 - bin(100).count("1")
    assert list(perfect_subtree_hashes(leaves)) == [(lv, ix, h) for lv, ix, h in _all_appends(leaves)]


def _all_appends(leaves: list[bytes]) -> list[tuple[int, int, bytes]]:
    builder, out = TreeBuilder(), []
    for leaf in leaves:
        out.extend(builder.append(leaf))
    return out


def test_a_resumed_builder_continues_exactly_where_the_stored_tree_ended() -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(77)]
    for cut in (0, 1, 31, 32, 33, 64, 76):
        stored = MemoryNodeSource(leaves[:cut])
        resumed = TreeBuilder.resume(cut, stored)
        rest = [node for leaf in leaves[cut:] for node in resumed.append(leaf)]
        assert rest == _all_appends(leaves)[len(_all_appends(leaves[:cut])) :]
        assert resumed.root() == root(leaves)


def test_proofs_need_only_log_n_stored_nodes_and_those_can_be_prefetched() -> None:
    leaves = [leaf_hash(i.to_bytes(3, "big")) for i in range(1000)]
    full = MemoryNodeSource(leaves)
    for index, size in ((0, 1000), (999, 1000), (500, 777), (511, 512)):
        wanted = inclusion_nodes(index, size)
        assert len(wanted) <= 2 * size.bit_length()
        subset = MemoryNodeSource()
        subset.nodes = {key: full.nodes[key] for key in wanted}
        assert inclusion_proof(index, size, subset) == inclusion_proof(index, size, full)
    for first, second in ((1, 1000), (999, 1000), (300, 777), (512, 1000)):
        wanted = consistency_nodes(first, second)
        assert len(wanted) <= 2 * second.bit_length()
        subset = MemoryNodeSource()
        subset.nodes = {key: full.nodes[key] for key in wanted}
        assert consistency_proof(first, second, subset) == consistency_proof(first, second, full)
    assert len(root_nodes(1000)) == bin(1000).count("1")


def test_a_node_that_is_not_complete_is_never_invented() -> None:
    nodes = MemoryNodeSource([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
    with pytest.raises(KeyError):
        nodes.node(1, 1)  # leaf 3 does not exist yet, so neither does MTH(D[2:4])
    with pytest.raises(KeyError):
        inclusion_proof(0, 4, nodes)


def test_generation_refuses_impossible_requests() -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(8, 8, CT_NODES)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(0, 8, CT_NODES)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(9, 8, CT_NODES)


def test_verification_refuses_every_structural_lie_without_raising() -> None:
    root8 = bytes.fromhex(CT_ROOTS[8])
    proof = inclusion_proof(5, 8, CT_NODES)
    for i in range(len(proof)):
        for byte in (0, 17, 31):
            bad = list(proof)
            bad[i] = bad[i][:byte] + bytes([bad[i][byte] ^ 1]) + bad[i][byte + 1 :]
            assert not verify_inclusion(CT_LEAVES[5], 5, 8, bad, root8)
    assert not verify_inclusion(CT_LEAVES[4], 5, 8, proof, root8)  # wrong leaf
    assert not verify_inclusion(CT_LEAVES[5], 8, 8, proof, root8)  # index outside the tree
    assert not verify_inclusion(CT_LEAVES[5], -1, 8, proof, root8)
    assert not verify_inclusion(CT_LEAVES[5], 5, 8, proof[:-1], root8)  # truncated
    assert not verify_inclusion(CT_LEAVES[5], 5, 8, [*proof, root8], root8)  # over-long
    assert not verify_inclusion(CT_LEAVES[5], 5, 8, [b"short", *proof[1:]], root8)
    assert not verify_inclusion(b"\x00" * 31, 5, 8, proof, root8)

    root6 = bytes.fromhex(CT_ROOTS[6])
    cons = consistency_proof(6, 8, CT_NODES)
    assert not verify_consistency(6, 8, root8, root8, cons)
    assert not verify_consistency(6, 8, root6, root6, cons)
    assert not verify_consistency(6, 8, root6, root8, cons[:-1])
    assert not verify_consistency(6, 8, root6, root8, [])
    assert not verify_consistency(8, 6, root8, root6, cons)  # a log never shrinks
    assert verify_consistency(8, 8, root8, root8, [])
    assert not verify_consistency(8, 8, root8, root8, [root8])
    assert not verify_consistency(8, 8, root6, root8, [])
    assert verify_consistency(0, 8, EMPTY_ROOT, root8, [])
    assert not verify_consistency(0, 8, root6, root8, [])
    assert not verify_consistency(6, 8, root6[:31], root8, cons)
