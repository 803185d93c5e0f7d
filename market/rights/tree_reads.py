"""The rights trees a transaction read for a product's trade, kept for the rest of that
transaction (issue 21: the trade gate reads them, and the licence issued in the same request
derives from the same trees instead of reading them again).

An order's gate reads them with the resources' rows locked: while the rows are locked no other
order can claim the same resources, so the claims made next rely on that read too
(`locked=True`). A payment's gate reads them with the rows share-locked.

A grant revoked meanwhile (Art. 22: no sale without the operating right) is seen either way:
- a revocation locks its resource's row first (market.rights.service), so one that begins while
  a trade holds the row waits for it to commit, and its sweep of live licences finds the
  licence issued;
- one that held the row while the trade's read waited for it committed before that read was
  handed back, but the read's snapshot was taken before (PostgreSQL reads a statement's other
  rows as they were when it began): the licence's chain is checked again in the statement that
  writes it (`unrevoked_with_writes`), and the trade is refused (409), nothing kept."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

from contracts import ChainValidity
from market.db import together
from market.db.pending import Check, check_with_writes
from market.errors import Conflict
from market.rights.models import RightGrantRow

# A holder's operating right among a tree read's grants, as `operating_right_among` found it.
OperatingRight = tuple[RightGrantRow, ChainValidity] | None

_KEY = "market.rights.tree_reads"


@dataclass(frozen=True)
class TreeRead:
    transaction: Any
    resource_ids: list[uuid.UUID]  # in id order
    grants: list[RightGrantRow]  # what a trade stands on in their trees (compliance RulesRead)
    locked: bool  # read with the resources' rows locked
    # By holder: the operating right the gate found among these grants, at the gate's instant.
    operating: dict[uuid.UUID, OperatingRight] = field(default_factory=dict)


def remember(
    session: AsyncSession,
    product_id: uuid.UUID,
    resource_ids: Sequence[uuid.UUID],
    grants: Sequence[RightGrantRow],
    *,
    locked: bool,
) -> None:
    sync = session.sync_session
    reads: dict[uuid.UUID, TreeRead] = sync.info.setdefault(_KEY, {})
    reads[product_id] = TreeRead(sync.get_transaction(), list(resource_ids), list(grants), locked)


def note_operating(
    session: AsyncSession,
    product_id: uuid.UUID,
    holder_id: uuid.UUID,
    grants: Sequence[RightGrantRow],
    found: OperatingRight,
) -> None:
    """Keep the operating right the trade gate found among `grants`, when they are this
    transaction's read of the product's trees (the very rows `remember` kept), so the licence
    issued on them does not validate the chain again; otherwise nothing is kept."""
    if (read := _current(session, product_id)) is not None and read.grants == list(grants):
        read.operating[holder_id] = found


def noted_operating(
    session: AsyncSession, product_id: uuid.UUID, holder_id: uuid.UUID, grants: Sequence[RightGrantRow]
) -> tuple[OperatingRight] | None:
    """(the operating right noted for this transaction's read,) when `grants` are that read's
    (as `recall` gave them), or None when none was noted for them."""
    read = _current(session, product_id)
    if read is None or read.grants is not grants or holder_id not in read.operating:
        return None
    return (read.operating[holder_id],)


def _current(session: AsyncSession, product_id: uuid.UUID) -> TreeRead | None:
    sync = session.sync_session
    found: TreeRead | None = sync.info.get(_KEY, {}).get(product_id)
    transaction = sync.get_transaction()
    if found is None or transaction is None or found.transaction is not transaction:
        return None
    return found


def recall(
    session: AsyncSession, product_id: uuid.UUID, *, locked: bool = False
) -> tuple[list[uuid.UUID], list[RightGrantRow]] | None:
    """The product's resource ids (in id order) and their trees' grants, if this transaction
    read them (`locked`: under lock)."""
    found = _current(session, product_id)
    if found is None:
        return None
    if locked and not found.locked:
        return None
    return found.resource_ids, found.grants


class RightsRevokedMeanwhile(Conflict):
    code = "rights-revoked-meanwhile"


_GRANTS = cast(Table, RightGrantRow.__table__)


def unrevoked_with_writes(session: AsyncSession, validity: ChainValidity) -> None:
    """The grants of `validity`'s chain (a right and those above it, as the trees read showed
    them) are still unrevoked when this transaction's writes are sent: checked in that statement,
    on PostgreSQL (SQLite runs one writing transaction at a time, so nothing is revoked
    meanwhile there)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    chain = [uuid.UUID(grant_id) for grant_id in validity.chain]

    def part(batch: together.Batch) -> together.Part:
        ids = ", ".join(batch.params.bind(gid, _GRANTS.c.id) for gid in chain)
        # Only placeholders are formatted in; the ids are parameters.
        sql = f"SELECT 1 FROM right_grants WHERE id IN ({ids}) AND revoked_at IS NOT NULL LIMIT 1"  # noqa: S608
        return together.Part(sql, counted=True)

    def verdict(_sync: SyncSession, produced: together.Produced) -> None:
        if produced.count:
            raise RightsRevokedMeanwhile(
                "the seller's right over this data was revoked while this trade was being made "
                "(Art. 22); nothing was kept or charged"
            )

    check_with_writes(session, Check(part, verdict))
