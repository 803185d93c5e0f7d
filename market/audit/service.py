"""Tree heads and proofs served from the stored tree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    frontier_positions,
    inclusion_proof,
    root_of,
)
from market.audit.models import AuditEntry
from market.audit.sequencer import StoredNodes, load_nodes, sequence_all, tree_size
from market.audit.tree_head import SignedTreeHead, sign_tree_head
from market.audit.tree_models import TreeHead, TreeNode
from market.common.clock import now
from market.errors import InvalidInput, NotFound
from market.settings import Settings

HEAD_MIN_INTERVAL = timedelta(seconds=1)
T = TypeVar("T")


async def all_nodes_for_range(session: AsyncSession, size: int) -> StoredNodes:
    """Every perfect subtree any proof inside a tree of `size` may need: O(log^2 n) rows."""
    wanted: set[tuple[int, int]] = set()
    for level in range(size.bit_length() + 1):
        count = size >> level
        # Proofs touch, per level, the frontier and the nodes beside the path: load the level's
        # few candidates lazily instead of all of them.
        if count:
            wanted.add((level, count - 1))
    wanted |= set(frontier_positions(size))
    return await load_nodes(session, wanted)


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


async def latest_head(session: AsyncSession) -> TreeHead | None:
    return (
        await session.execute(select(TreeHead).order_by(TreeHead.id.desc()).limit(1))
    ).scalar_one_or_none()


async def current_head(session: AsyncSession, settings: Settings) -> TreeHead:
    """Sequence what is pending, and sign a new head if the tree grew (or none exists)."""
    await sequence_all(session)
    size = await tree_size(session)
    head = await latest_head(session)
    if head is not None and head.tree_size == size:
        return head
    if head is not None and now() - head.timestamp < HEAD_MIN_INTERVAL and head.tree_size > 0:
        pass  # a burst of requests still gets a fresh head: heads are cheap
    root = EMPTY_ROOT if size == 0 else await LazyNodes(session).run(lambda n: root_of(size, n))
    sth = sign_tree_head(size, root, now(), settings.exchange_signing_key())
    row = TreeHead(
        tree_size=size,
        root_hash=sth.root_hash,
        timestamp=sth.timestamp,
        signature=sth.signature,
        key_id=sth.key_id,
    )
    session.add(row)
    await session.flush()
    return row


def head_model(row: TreeHead) -> SignedTreeHead:
    return SignedTreeHead(
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        timestamp=row.timestamp,
        signature=row.signature,
        key_id=row.key_id,
    )


async def prove_inclusion(session: AsyncSession, seq: int, size: int) -> tuple[AuditEntry, list[bytes]]:
    current = await tree_size(session)
    if not 0 < size <= current:
        raise InvalidInput(
            f"tree_size must be between 1 and {current}",
            fields=[("query.tree_size", "out of range")],
        )
    if not 0 <= seq < size:
        raise InvalidInput("the entry must lie inside the tree", fields=[("query.seq", f"must be < {size}")])
    entry = (await session.execute(select(AuditEntry).where(AuditEntry.seq == seq))).scalar_one_or_none()
    if entry is None:
        raise NotFound("entry not found")
    proof = await LazyNodes(session).run(lambda n: inclusion_proof(seq, size, n))
    return entry, proof


async def prove_consistency(session: AsyncSession, first: int, second: int) -> list[bytes]:
    current = await tree_size(session)
    if not 0 < first <= second:
        raise InvalidInput(
            "need 0 < first <= second", fields=[("query.first", "must be between 1 and second")]
        )
    if second > current:
        raise InvalidInput(
            f"the tree has only {current} entries", fields=[("query.second", "beyond the tree")]
        )
    return await LazyNodes(session).run(lambda n: consistency_proof(first, second, n))


async def stored_leaf_count(session: AsyncSession) -> int:
    return len((await session.execute(select(TreeNode.idx).where(TreeNode.level == 0))).all())
