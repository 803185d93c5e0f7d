"""RFC 9162 §2.1 Merkle tree hashing, proofs and their verification (SHA-256).

Proofs are generated from *perfect subtrees*: node `(level, index)` is the hash of leaves
`[index·2^level, (index+1)·2^level)`, level 0 being the leaf hashes. Such a node never changes
once its last leaf exists, so the service stores each one as it is completed (`TreeBuilder`
yields them) and answers proofs with O(log n) lookups through a `NodeSource`, whatever n is.

Every subtree the RFC's PATH/PROOF recursion needs is either perfect or the ragged right edge
`[begin, end)` of the tree, whose hash is the right-to-left fold of its binary decomposition
into perfect subtrees; `range_hash` computes it from at most log2(n) stored nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256() (RFC 9162 §2.1.1)

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


class NodeSource(Protocol):
    """Hashes of perfect subtrees of one log (level 0 = leaf hashes)."""

    def node(self, level: int, index: int) -> bytes:
        """Hash of leaves [index << level, (index + 1) << level); KeyError if not complete."""
        ...


class TreeBuilder:
    """The right frontier (compact range) of a growing tree: O(log n) hashes of state.

    `append` returns every perfect subtree the new leaf completes, `(level, index, hash)`,
    starting with the leaf itself at level 0: exactly the rows a node table needs, each
    produced once and never changed afterwards.
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        self._size = 0
        # Perfect subtree roots covering [0, size), largest (leftmost) first: one per set bit.
        self._frontier: list[bytes] = []

    @classmethod
    def resume(cls, size: int, source: NodeSource) -> TreeBuilder:
        """Continue a stored tree of `size` leaves, reading its O(log n) frontier nodes."""
        builder = cls()
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                builder._frontier.append(source.node(level, start >> level))
                start += 1 << level
        builder._size = size
        return builder

    @property
    def size(self) -> int:
        return self._size

    @property
    def frontier(self) -> tuple[bytes, ...]:
        return tuple(self._frontier)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        if len(leaf) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        frontier = self._frontier
        index = self._size
        level = 0
        digest = leaf
        completed = [(0, index, leaf)]
        # An odd index is a right child: its left sibling is the last frontier entry.
        while index & 1:
            digest = _sha256(b"\x01" + frontier.pop() + digest).digest()
            index >>= 1
            level += 1
            completed.append((level, index, digest))
        frontier.append(digest)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """MTH of the leaves so far (EMPTY_ROOT for none)."""
        return fold_right(self._frontier)


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Hash a left-to-right decomposition into perfect subtrees into its RFC 9162 root."""
    if not hashes:
        return EMPTY_ROOT
    digest = hashes[-1]
    for left in reversed(hashes[:-1]):
        digest = _sha256(b"\x01" + left + digest).digest()
    return digest


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH(D[n]) of the given leaf hashes, in O(log n) memory."""
    builder = TreeBuilder()
    for leaf in leaf_hashes:
        builder.append(leaf)
    return builder.root()


def perfect_subtree_hashes(leaf_hashes: Iterable[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """Every perfect subtree `(level, index, hash)` of the tree, in completion order."""
    builder = TreeBuilder()
    for leaf in leaf_hashes:
        yield from builder.append(leaf)


class MemoryNodeSource:
    """A dict-backed NodeSource (tests, benchmarks, small offline tools)."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.size = 0
        self.extend(leaf_hashes)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        builder = TreeBuilder.resume(self.size, self)
        for leaf in leaf_hashes:
            for level, index, digest in builder.append(leaf):
                self.nodes[(level, index)] = digest
        self.size = builder.size

    def node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def root(self, size: int | None = None) -> bytes:
        return range_hash(self, 0, self.size if size is None else size)


def range_hash(source: NodeSource, begin: int, end: int) -> bytes:
    """MTH(D[begin:end]) for a range whose `begin` is a multiple of the smallest power of two
    ≥ end - begin: the only shape RFC 9162's recursion produces (and any prefix [0, n))."""
    if begin == end:
        return EMPTY_ROOT
    parts: list[bytes] = []
    while begin < end:
        # Largest aligned perfect subtree starting at `begin` that fits in the range.
        level = (end - begin).bit_length() - 1
        while begin & ((1 << level) - 1):
            level -= 1
        parts.append(source.node(level, begin >> level))
        begin += 1 << level
    return fold_right(parts)


def _split(n: int) -> int:
    """k: the largest power of two strictly smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    """PATH(index, D[size]) (RFC 9162 §2.1.3.1), leaf-side sibling first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    begin, end = 0, size
    # The RFC recursion, walked from the root down; siblings are collected top-down and
    # reversed at the end because PATH lists them bottom-up.
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            path.append(range_hash(source, begin + k, end))
            end = begin + k
        else:
            path.append(range_hash(source, begin, begin + k))
            begin += k
    path.reverse()
    return path


def consistency_proof(first: int, second: int, source: NodeSource) -> list[bytes]:
    """PROOF(first, D[second]) (RFC 9162 §2.1.4.1) for 0 < first ≤ second."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    proof: list[bytes] = []
    begin, end = 0, second
    complete = True  # SUBPROOF's b: is [begin, end) still a prefix of the old tree's root?
    while first != end:
        k = _split(end - begin)
        if first <= begin + k:
            proof.append(range_hash(source, begin + k, end))
            end = begin + k
        else:
            proof.append(range_hash(source, begin, begin + k))
            begin += k
            complete = False
    if not complete:
        proof.append(range_hash(source, begin, end))
    proof.reverse()
    return proof


class _Recorder:
    """Answers every lookup with a placeholder and remembers which nodes were asked for."""

    def __init__(self) -> None:
        self.wanted: list[tuple[int, int]] = []

    def node(self, level: int, index: int) -> bytes:
        self.wanted.append((level, index))
        return EMPTY_ROOT


def inclusion_nodes(index: int, size: int) -> list[tuple[int, int]]:
    """The (level, index) nodes `inclusion_proof(index, size, ·)` reads: fetch them in one
    query, then generate the proof from that small mapping."""
    recorder = _Recorder()
    inclusion_proof(index, size, recorder)
    return recorder.wanted


def consistency_nodes(first: int, second: int) -> list[tuple[int, int]]:
    """The (level, index) nodes `consistency_proof(first, second, ·)` reads."""
    recorder = _Recorder()
    consistency_proof(first, second, recorder)
    return recorder.wanted


def root_nodes(size: int) -> list[tuple[int, int]]:
    """The (level, index) nodes `range_hash(·, 0, size)` reads: the frontier of the tree."""
    recorder = _Recorder()
    range_hash(recorder, 0, size)
    return recorder.wanted


def _well_formed(hashes: Sequence[bytes]) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 §2.1.3.2. Malformed input is a False, never an exception."""
    if not 0 <= index < size or not _well_formed([leaf, root_hash, *proof]):
        return False
    fn, sn = index, size - 1
    r = leaf
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
    return sn == 0 and r == root_hash


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, plus the trivial cases: equal sizes need an empty proof and equal
    roots; the empty tree is a prefix of any tree given an empty proof."""
    if not 0 <= first <= second or not _well_formed([first_root, second_root, *proof]):
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is itself a node
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
    return fr == first_root and sr == second_root and sn == 0
