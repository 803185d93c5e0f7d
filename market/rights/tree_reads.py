"""The rights trees a transaction read for a product's trade, kept for the rest of that
transaction (issue 21: the trade gate reads them, and the licence issued in the same request
derives from the same trees instead of reading them again).

An order's gate reads them with the resources' rows locked: while the rows are locked no other
order can claim the same resources, so the claims made next rely on that read too
(`locked=True`). A payment's gate reads them without a lock; the licence issued on it may still
reuse them. A grant revoked by another transaction between the gate's read and the licence (a
few milliseconds of one request) is not seen here; reading again would not close that race
either, as one committed between the licence and this transaction's commit is not seen by the
revocation's sweep of live licences (a known race, in the notes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import ChainValidity
from market.rights.models import RightGrantRow

# A holder's operating right among a tree read's grants, as `operating_right_among` found it.
OperatingRight = tuple[RightGrantRow, ChainValidity] | None

_KEY = "market.rights.tree_reads"


@dataclass(frozen=True)
class TreeRead:
    transaction: Any
    resource_ids: list[uuid.UUID]  # in id order
    grants: list[RightGrantRow]  # every grant in their trees
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
