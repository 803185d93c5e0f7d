"""The rights trees a transaction read with their resources' rows locked, kept for the rest of
that transaction (issue 21: an order's trade gate reads them, and the licence issued in the same
request derives from the same trees instead of reading them again). While the rows are locked
no other order can claim the same resources. A grant revoked by another transaction between the
gate's read and the licence (a few milliseconds of one request) is not seen here; reading again
would not close that race either, as one committed between the licence and this transaction's
commit is not seen by the revocation's sweep of live licences (a known race, in the notes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.rights.models import RightGrantRow

_KEY = "market.rights.locked_reads"


def remember(
    session: AsyncSession,
    product_id: uuid.UUID,
    resource_ids: Sequence[uuid.UUID],
    grants: Sequence[RightGrantRow],
) -> None:
    sync = session.sync_session
    reads: dict[uuid.UUID, tuple[Any, list[uuid.UUID], list[RightGrantRow]]] = sync.info.setdefault(_KEY, {})
    reads[product_id] = (sync.get_transaction(), list(resource_ids), list(grants))


def recall(
    session: AsyncSession, product_id: uuid.UUID
) -> tuple[list[uuid.UUID], list[RightGrantRow]] | None:
    """The product's locked resource ids (in id order) and their trees' grants, if this
    transaction read them under lock."""
    sync = session.sync_session
    found = sync.info.get(_KEY, {}).get(product_id)
    if found is None or found[0] is not sync.get_transaction() or sync.get_transaction() is None:
        return None
    return found[1], found[2]
