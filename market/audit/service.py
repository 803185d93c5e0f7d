"""Tree heads and proofs served from the stored tree."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.merkle import EMPTY_ROOT, consistency_proof, inclusion_proof, range_hash
from market.audit.models import AuditEntry
from market.audit.sequencer import LazyNodes, sequence_all, tree_size
from market.audit.tree_head import SignedTreeHead, sign_tree_head
from market.audit.tree_models import TreeHead, TreeNode
from market.common.clock import now
from market.errors import InvalidInput, NotFound
from market.settings import Settings

HEAD_MIN_INTERVAL = timedelta(seconds=1)
T = TypeVar("T")


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
    root = EMPTY_ROOT if size == 0 else await LazyNodes(session).run(lambda n: range_hash(n, 0, size))
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


def empty_head(settings: Settings) -> TreeHead:
    """The head of the empty log, signed now and not stored: what a reader is told before the
    publisher's first checkpoint."""
    sth = sign_tree_head(0, EMPTY_ROOT, now(), settings.exchange_signing_key())
    return TreeHead(
        tree_size=0,
        root_hash=sth.root_hash,
        timestamp=sth.timestamp,
        signature=sth.signature,
        key_id=sth.key_id,
    )


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
