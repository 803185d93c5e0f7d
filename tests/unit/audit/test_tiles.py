"""Tiles as c2sp.org/tlog-tiles defines them: paths, widths, bundles, and a tree that grows
tile by tile to exactly the RFC 9162 roots and proofs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.audit.merkle import MemoryNodeSource, consistency_proof, inclusion_proof, leaf_hash, root
from market.audit.tiles import (
    WIDTH,
    TileEdge,
    TileNodes,
    bundle,
    edge_tiles,
    encode_index,
    parse_tile_path,
    tile_path,
    tiles_between,
    unbundle,
)

LEAVES = [leaf_hash(str(i).encode()) for i in range(70_000)]


def test_paths_are_the_specs() -> None:
    assert (
        encode_index(1234067) == "x001/x234/067"
        and encode_index(0) == "000"
        and encode_index(1000) == "x001/000"
    )
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17" and tile_path(None, 5) == "tile/entries/005"
    assert parse_tile_path("tile/entries/x001/234.p/255") == (None, 1234, 255)
    assert parse_tile_path("tile/63/999") == (63, 999, WIDTH)


@pytest.mark.parametrize(
    "bad",
    ["tile/0/1", "tile/0/x000/001", "tile/01/000", "tile/64/000", "tile/0/000.p/0", "tile/0/000.p/256",
     "tile/0/x1/000", "tile/0/000/", "tile/entries/000.p/07", "tile/0/abc"],
)  # fmt: skip
def test_malformed_paths_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_tile_path(bad)


def test_a_tree_of_70000_is_the_specs_example() -> None:
    # "273 full level 0 tiles, one partial level 0 tile of width 112, one full level 1 tile, one
    # partial level 1 tile of width 17, and one partial level 2 tile of width 1."
    wanted = tiles_between(0, 70_000)
    assert sum(1 for lv, _, w in wanted if lv == 0 and w == WIDTH) == 273
    assert [t for t in wanted if t[2] < WIDTH] == [(0, 273, 112), (1, 1, 17), (2, 0, 1)]
    assert edge_tiles(70_000) == [((0, 273), 112), ((1, 1), 17), ((2, 0), 1)]
    assert [t for t in tiles_between(0, 256) if t[0] == 1] == [
        (1, 0, 1)
    ]  # "a partial level 1 tile of width 1"


def test_growing_the_tree_tile_by_tile_gives_the_rfc_roots_and_proofs() -> None:
    edge, tiles, done = TileEdge(), {}, 0
    for size in (1, 2, 255, 256, 257, 511, 65_535, 65_536, 65_537, 70_000):
        tiles.update(edge.append(LEAVES[done:size]))
        done = size
        assert edge.root() == root(LEAVES[:size])
        assert TileEdge.resume(size, tiles).root() == edge.root()
        reference, nodes = MemoryNodeSource(LEAVES[:size]), TileNodes(tiles)
        for index in {0, size // 3, size - 1}:
            assert inclusion_proof(index, size, nodes) == inclusion_proof(index, size, reference)
        for first in {1, size // 2 or 1, size}:
            assert consistency_proof(first, size, nodes) == consistency_proof(first, size, reference)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=5))
def test_any_batching_gives_the_same_tiles(batches: list[int]) -> None:
    edge, tiles, done = TileEdge(), {}, 0
    for n in batches:
        tiles.update(edge.append(LEAVES[done : done + n]))
        done += n
    assert tiles == TileEdge().append(LEAVES[:done]) == _one_by_one(done)
    assert edge.root() == root(LEAVES[:done])


def _one_by_one(size: int) -> dict[tuple[int, int], bytes]:
    edge, tiles = TileEdge(), {}
    for leaf in LEAVES[:size]:
        tiles.update(edge.append([leaf]))
    return tiles


def test_a_missing_or_short_edge_tile_cannot_be_resumed() -> None:
    tiles = TileEdge().append(LEAVES[:300])
    with pytest.raises(KeyError):
        TileEdge.resume(301, tiles)
    with pytest.raises(KeyError):
        TileEdge.resume(300, {k: v for k, v in tiles.items() if k != (0, 1)})


def test_entry_bundles_round_trip_and_refuse_truncation_and_oversize() -> None:
    entries = [b"", b"a", "数据".encode(), b"x" * 65_535]
    data = bundle(entries)
    assert unbundle(data) == entries
    with pytest.raises(ValueError):
        unbundle(data[:-1])
    with pytest.raises(ValueError):
        bundle([b"x" * 65_536])
