"""The sequencer: gives committed audit entries their place in the log and grows the tree.

Writers only INSERT (no lock, no counter), so the order path never queues behind the log.
The sequencer alone holds a lock (a PostgreSQL advisory lock; SQLite has one writer anyway),
takes every committed, unsequenced entry in insert order, numbers it after the last one and
stores each perfect subtree it completes. The log's order is the order the sequencer saw the
entries committed; a sequence number, once given, never changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.merkle import TreeBuilder
from market.audit.models import AuditEntry
from market.audit.tree_models import TreeNode

SEQUENCER_LOCK = 7_262_016  # arbitrary, fixed: one sequencer at a time
T = TypeVar("T")


class StoredNodes:
    """NodeSource over the audit_tree_nodes table, with a per-call cache."""

    def __init__(self, rows: dict[tuple[int, int], bytes]) -> None:
        self.rows = rows

    def node(self, level: int, index: int) -> bytes:
        return self.rows[(level, index)]


async def load_nodes(session: AsyncSession, wanted: set[tuple[int, int]]) -> StoredNodes:
    rows: dict[tuple[int, int], bytes] = {}
    by_level: dict[int, list[int]] = {}
    for level, index in wanted:
        by_level.setdefault(level, []).append(index)
    for level, indexes in by_level.items():
        stmt = select(TreeNode.idx, TreeNode.hash).where(TreeNode.level == level, TreeNode.idx.in_(indexes))
        for idx, digest in await session.execute(stmt):
            rows[(level, int(idx))] = bytes(digest)
    return StoredNodes(rows)


class LazyNodes:
    """NodeSource that fetches missing nodes one query at a time (proofs need O(log n))."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.cache: dict[tuple[int, int], bytes] = {}
        self.missing: set[tuple[int, int]] = set()

    def node(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self.cache:
            self.missing.add(key)
            raise LookupError(key)
        return self.cache[key]

    async def run(self, compute: Callable[[LazyNodes], T]) -> T:
        """Run `compute(self)`, fetching whatever nodes it asks for, until it completes."""
        for _ in range(64):
            try:
                return compute(self)
            except LookupError:
                fetched = await load_nodes(self.session, self.missing)
                self.cache.update(fetched.rows)
                if not fetched.rows:
                    raise
                self.missing.clear()
        raise RuntimeError("proof needed too many rounds")


async def tree_size(session: AsyncSession) -> int:
    top = await session.scalar(select(func.max(AuditEntry.seq)))
    return 0 if top is None else int(top) + 1


async def sequence_pending(session: AsyncSession, batch: int = 5000) -> int:
    """Sequence up to `batch` committed entries; returns how many were sequenced."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK})
    size = await tree_size(session)
    stmt = (
        select(AuditEntry.id, AuditEntry.leaf_hash)
        .where(AuditEntry.seq.is_(None))
        .order_by(AuditEntry.id)
        .limit(batch)
    )
    pending = (await session.execute(stmt)).all()
    if not pending:
        return 0
    builder = await LazyNodes(session).run(lambda nodes: TreeBuilder.resume(size, nodes))
    nodes: list[dict[str, object]] = []
    for _entry_id, leaf in pending:
        nodes.extend({"level": lv, "idx": ix, "hash": h} for lv, ix, h in builder.append(bytes(leaf)))
    # One executemany per batch (the ORM's bulk UPDATE by primary key), not a round trip per entry.
    numbering = [{"id": entry_id, "seq": size + offset} for offset, (entry_id, _leaf) in enumerate(pending)]
    await session.execute(update(AuditEntry), numbering)
    await session.execute(insert(TreeNode), nodes)
    return len(pending)


async def sequence_all(session: AsyncSession) -> int:
    total = 0
    while done := await sequence_pending(session):
        total += done
    return total
