"""The tree's tiles in the database: read a set of tiles in one query, write changed tiles,
compute roots and proofs from them, and read the entries of a bundle."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.consistency import LogInconsistent
from market.audit.merkle import (
    EMPTY_ROOT,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    range_hash,
    root_nodes,
)
from market.audit.models import AuditEntry
from market.audit.tiles import WIDTH, TileKey, TileNodes, tiles_for_nodes
from market.audit.tree_models import TreeTile

T = TypeVar("T")


async def load_tiles(session: AsyncSession, keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    stmt = select(TreeTile.level, TreeTile.idx, TreeTile.hashes).where(
        tuple_(TreeTile.level, TreeTile.idx).in_(wanted)
    )
    return {(int(level), int(idx)): bytes(data) for level, idx, data in await session.execute(stmt)}


async def save_tiles(session: AsyncSession, tiles: Mapping[TileKey, bytes]) -> None:
    """Insert or grow each tile (one statement)."""
    if not tiles:
        return
    rows = [{"level": level, "idx": idx, "hashes": data} for (level, idx), data in tiles.items()]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(TreeTile).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["level", "idx"], set_={"hashes": stmt.excluded.hashes})
    )


async def nodes_from_tiles(session: AsyncSession, nodes: Iterable[tuple[int, int]]) -> TileNodes:
    return TileNodes(await load_tiles(session, tiles_for_nodes(nodes)))


async def _computed(
    session: AsyncSession, nodes: Iterable[tuple[int, int]], compute: Callable[[TileNodes], T]
) -> T:
    """`compute` over the tiles holding `nodes`, read in one query; a tile that is missing or
    shorter than the tree is a LogInconsistent, not a crash."""
    source = await nodes_from_tiles(session, nodes)
    try:
        return compute(source)
    except KeyError as error:
        raise LogInconsistent(
            "missing_tile", f"the tree node {error.args[0]} cannot be read from its tile"
        ) from error


async def root_at(session: AsyncSession, size: int) -> bytes:
    """MTH of the first `size` leaves."""
    if size == 0:
        return EMPTY_ROOT
    return await _computed(session, root_nodes(size), lambda nodes: range_hash(nodes, 0, size))


async def inclusion_path(session: AsyncSession, index: int, size: int) -> list[bytes]:
    return await _computed(session, inclusion_nodes(index, size), lambda n: inclusion_proof(index, size, n))


async def consistency_path(session: AsyncSession, first: int, second: int) -> list[bytes]:
    if first == 0 or first == second:
        return []
    return await _computed(
        session, consistency_nodes(first, second), lambda n: consistency_proof(first, second, n)
    )


async def bundle_leaves(session: AsyncSession, index: int, width: int) -> list[bytes]:
    """The leaves of entry bundle `index` (its first `width` entries), in order; LogInconsistent
    if the entries there are not exactly those sequence numbers."""
    first = index * WIDTH
    rows = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.leaf)
            .where(AuditEntry.seq >= first, AuditEntry.seq < first + width)
            .order_by(AuditEntry.seq)
        )
    ).all()
    seqs = [seq for seq, _ in rows]
    if seqs != list(range(first, first + width)):
        have = set(seqs)
        gap = next(s for s in range(first, first + width) if s not in have)
        raise LogInconsistent("deleted", f"the entry at sequence number {gap} is missing", gap)
    return [leaf.encode("utf-8") for _, leaf in rows]
