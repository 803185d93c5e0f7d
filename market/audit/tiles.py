"""The Merkle tree as tiles (c2sp.org/tlog-tiles): paths, entry bundles, growth and nodes.

A tile at level L, index N holds up to 256 consecutive hashes of the tree's level 8L: at level 0
the leaf hashes, above that the root of each *full* tile of the level below. The service keeps
one row per tile; a tile only ever grows (its first W hashes never change), so any older tree
size reads its nodes from the same rows. Pure: no database, no HTTP.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from market.audit.merkle import EMPTY_ROOT, HASH_SIZE, fold_right

WIDTH = 256
HEIGHT = 8
MAX_ENTRY_BYTES = 0xFFFF  # entry bundles prefix each entry with a big-endian uint16 length
TileKey = tuple[int, int]  # (level, index)

_sha256 = hashlib.sha256
_PATH = re.compile(
    r"^tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<width>[1-9][0-9]{0,2}))?$"
)


def encode_index(index: int) -> str:
    """1234067 → "x001/x234/067": three-digit groups, all but the last prefixed with x."""
    if index < 0:
        raise ValueError("a tile index is not negative")
    digits = f"{index:d}"
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def tile_path(level: int | None, index: int, width: int = WIDTH) -> str:
    """`tile/<L>/<N>[.p/<W>]`, or `tile/entries/<N>[.p/<W>]` for `level=None`."""
    if not 0 < width <= WIDTH:
        raise ValueError("a tile holds 1 to 256 hashes")
    name = "entries" if level is None else str(level)
    return f"tile/{name}/{encode_index(index)}" + ("" if width == WIDTH else f".p/{width}")


def parse_tile_path(path: str) -> tuple[int | None, int, int]:
    """(level or None for entries, index, width) of a tile path; ValueError if not one."""
    match = _PATH.match(path)
    if match is None:
        raise ValueError("not a tile path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
    groups = match["index"].split("/")
    if len(groups) > 1 and groups[0] == "x000":
        raise ValueError("a tile index has no leading zero groups")
    level = None if match["level"] == "entries" else int(match["level"])
    width = int(match["width"]) if match["width"] else WIDTH
    if (level is not None and level > 63) or (match["width"] and width >= WIDTH):
        raise ValueError("a tile level is 0 to 63 and a partial tile 1 to 255 wide")
    return level, int("".join(g.lstrip("x") for g in groups)), width


def bundle(leaves: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    parts = []
    for leaf in leaves:
        if len(leaf) > MAX_ENTRY_BYTES:
            raise ValueError("an entry in a bundle is at most 65535 bytes")
        parts.append(len(leaf).to_bytes(2, "big"))
        parts.append(leaf)
    return b"".join(parts)


def unbundle(data: bytes | memoryview) -> list[bytes]:
    """The entries of a bundle; ValueError if it is truncated."""
    view = memoryview(data)
    entries, offset, end = [], 0, len(view)
    while offset < end:
        if offset + 2 > end:
            raise ValueError("a bundle ends inside an entry's length")
        size = view[offset] << 8 | view[offset + 1]
        offset += 2
        if offset + size > end:
            raise ValueError("a bundle ends inside an entry")
        entries.append(bytes(view[offset : offset + size]))
        offset += size
    return entries


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """MTH of a power-of-two run of hashes (a perfect subtree of them)."""
    level = list(hashes)
    while len(level) > 1:
        level = [_sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


def split_hashes(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def edge_tiles(size: int) -> list[tuple[TileKey, int]]:
    """The partial tile at each level of a tree of `size` leaves and its width (0: none yet)."""
    edge, level = [], 0
    while size >> (HEIGHT * level) or level == 0:
        edge.append(((level, size >> (HEIGHT * (level + 1))), (size >> (HEIGHT * level)) % WIDTH))
        level += 1
        if not size >> (HEIGHT * level):
            break
    return edge


def tiles_between(old: int, new: int) -> list[tuple[int, int, int]]:
    """(level, index, width) of every tile a reader of size `new` may need that a reader of
    size `old` could not: the tiles that became full, then the partial edge tiles of `new`."""
    out = []
    level = 0
    while new >> (HEIGHT * level):
        first, last = old >> (HEIGHT * (level + 1)), new >> (HEIGHT * (level + 1))
        out += [(level, index, WIDTH) for index in range(first, last)]
        width = (new >> (HEIGHT * level)) % WIDTH
        if width:
            out.append((level, last, width))
        level += 1
    return out


@dataclass
class TileEdge:
    """The right edge of a tiled tree: appends leaf hashes and reports the tiles it changed."""

    size: int = 0
    edge: dict[int, bytearray] = field(default_factory=dict)  # level -> partial tile hashes

    @classmethod
    def resume(cls, size: int, tiles: Mapping[TileKey, bytes]) -> TileEdge:
        """Continue a tree of `size` leaves from its edge tiles (KeyError if one is missing or
        shorter than the size says)."""
        edge = cls(size)
        for (level, index), width in edge_tiles(size):
            if width:
                stored = tiles[(level, index)]
                if len(stored) < width * HASH_SIZE:
                    raise KeyError((level, index))
                edge.edge[level] = bytearray(stored[: width * HASH_SIZE])
        return edge

    def append(self, leaf_hashes: Iterable[bytes]) -> dict[TileKey, bytes]:
        """Append leaves; returns each tile that changed, `(level, index) -> its hashes`."""
        changed: dict[TileKey, bytes] = {}
        partial: dict[TileKey, int] = {}  # tiles still on the edge: read once, at the end
        edge, size, full = self.edge, self.size, WIDTH * HASH_SIZE
        for leaf in leaf_hashes:
            digest, level = leaf, 0
            while True:
                tile = edge.get(level)
                if tile is None:
                    tile = edge[level] = bytearray()
                tile += digest
                # The tile at `level` that holds leaf number `size` (the one being appended).
                key = (level, size >> (HEIGHT * (level + 1)))
                if len(tile) < full:
                    partial[key] = level
                    break
                partial.pop(key, None)
                changed[key] = data = bytes(tile)  # now full: it never changes again
                digest = perfect_root(split_hashes(data))
                edge[level] = bytearray()
                level += 1
            size += 1
        self.size = size
        changed.update((key, bytes(edge[level])) for key, level in partial.items())
        return changed

    def root(self) -> bytes:
        """MTH of the whole tree, from the edge tiles alone."""
        if self.size == 0:
            return EMPTY_ROOT
        parts: list[bytes] = []
        for level in sorted(self.edge, reverse=True):
            hashes = split_hashes(bytes(self.edge[level]))
            start = 0
            for bit in range(HEIGHT - 1, -1, -1):
                if len(hashes) >> bit & 1:
                    parts.append(perfect_root(hashes[start : start + (1 << bit)]))
                    start += 1 << bit
        return fold_right(parts)


def tile_of_node(level: int, index: int) -> tuple[TileKey, int, int]:
    """Where node (level, index) of the tree lives: its tile, the first of the tile's hashes it
    covers, and how many (a power of two)."""
    tile_level, height = divmod(level, HEIGHT)
    first = index << height
    return (tile_level, first // WIDTH), first % WIDTH, 1 << height


class TileNodes:
    """A merkle.NodeSource over tile rows: node (level, index) is hashed from its tile."""

    def __init__(self, tiles: Mapping[TileKey, bytes]) -> None:
        self.tiles = tiles
        self._cache: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        cached = self._cache.get((level, index))
        if cached is not None:
            return cached
        key, offset, count = tile_of_node(level, index)
        data = self.tiles.get(key)
        if data is None or len(data) < (offset + count) * HASH_SIZE:
            raise KeyError((level, index))
        digest = perfect_root(split_hashes(data[offset * HASH_SIZE : (offset + count) * HASH_SIZE]))
        self._cache[(level, index)] = digest
        return digest


def tiles_for_nodes(nodes: Iterable[tuple[int, int]]) -> set[TileKey]:
    return {tile_of_node(level, index)[0] for level, index in nodes}
