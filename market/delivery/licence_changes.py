"""What happens to a licence after it was issued: ended for good (refunded, rights revoked) or
narrowed by a partial refund, each change through the licence's state table and audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import Licence, reduced_licence
from market.audit.log import record
from market.common.clock import now
from market.delivery import repository
from market.delivery.models import LicenceRow
from market.delivery.states import LICENCES, LicenceStatus
from market.notifications.outbox import notify
from market.orders import claims
from market.orders.models import Order


async def revoke(session: AsyncSession, licence: LicenceRow, *, reason: str, actor: str) -> bool:
    """Revoke the licence for good (False when it already was); audited on its order, and its
    buyer and seller are told."""
    if not LICENCES.can(licence.status, LicenceStatus.REVOKED):
        return False
    licence.status = LicenceStatus.REVOKED
    licence.revoked_at = now()
    licence.revocation_reason = reason
    await record(
        session,
        actor=actor,
        action="licence.revoked",
        subject_type="order",
        subject_id=licence.order_id,
        payload={"licence_id": str(licence.id), "reason": reason},
    )
    await notify(
        session,
        "licence.revoked",
        to=[licence.buyer_id, licence.seller_id],
        subject=("licence", licence.id),
        data={"order_id": licence.order_id, "reason": reason},
    )
    return True


async def revoke_for_order(session: AsyncSession, order: Order, *, reason: str, actor: str) -> bool:
    """End the order's licence for good, if it has an active one; whether it did."""
    if order.licence_id is None:
        return False
    licence = await repository.licence(session, order.licence_id, lock=True)
    return licence is not None and await revoke(session, licence, reason=reason, actor=actor)


@dataclass(frozen=True)
class PaidLicence:
    """An active licence resting on a right, with what its buyer has used of it."""

    licence: LicenceRow
    call_quota: int | None  # metered (API) licences: the calls bought, as in force now
    calls_used: int


async def active_licences_under(session: AsyncSession, grant_ids: Sequence[uuid.UUID]) -> list[PaidLicence]:
    """Active, unexpired licences whose operating right is one of `grant_ids`."""
    rows = await repository.active_under(session, grant_ids, now())
    return [PaidLicence(licence, quota, used) for licence, quota, used in rows]


async def apply_partial_refund(
    session: AsyncSession, order: Order, kept: Fraction, *, actor: str, reason: str
) -> str | None:
    """What a partial refund does to the order's active licence, as its terms say: "reduced"
    (its quota, else its term, to the share `kept` of the price still paid) or "ended".
    None when there is no active licence to change."""
    if order.licence_id is None:
        return None
    licence = await repository.licence(session, order.licence_id, lock=True)
    if licence is None or licence.status != LicenceStatus.ACTIVE:
        return None
    issued = Licence.model_validate(licence.issued_terms or licence.terms)
    if issued.on_partial_refund == "end":
        await revoke(
            session, licence, reason=f"ended by a partial refund, as its terms say: {reason}", actor=actor
        )
        return "ended"
    narrowed = reduced_licence(issued, kept)
    licence.issued_terms = issued.model_dump(mode="json")
    licence.terms = narrowed.model_dump(mode="json")
    licence.valid_to = narrowed.valid_to
    entitlement = await repository.entitlement(session, licence.id, lock=True)
    if entitlement is not None and entitlement.call_quota is not None:
        entitlement.call_quota = narrowed.quota
    await claims.licence_term_changed(session, order, narrowed.valid_to)
    await record(
        session,
        actor=actor,
        action="licence.reduced",
        subject_type="order",
        subject_id=order.id,
        payload={
            "licence_id": str(licence.id),
            "kept_share": str(kept),
            "quota": narrowed.quota,
            "valid_to": narrowed.valid_to,
            "reason": reason,
        },
    )
    return "reduced"
