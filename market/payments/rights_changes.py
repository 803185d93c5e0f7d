"""Rights changed after a sale: what revoking a right does to the paid licences resting on it.

No path leaves a buyer paid and cut off (Art. 63(2): no trade without the rights holder's
authorisation, so the licence cannot go on; the buyer must not lose what it paid for and did
not get). The documented rule, for each active licence under a revoked right:
- its buyer is refunded, pro rata, the part it has not had: of its call quota when it has one,
  else of its term (`contracts.unused_share`), times what is still paid for it, half-up to the
  fen; the licence is revoked and the order terminated;
- a voluntary revocation (the grantor's own) that would do this is refused with 409 naming the
  licences and their refunds, unless the grantor accepts to refund them (`refund_licences`);
- a forced one (an operator, a cancelled or transferred registration) refunds them the same
  way, except where the seller has been paid out already: then the exchange cannot take the
  money back from escrow, so it opens a `rights_problem` dispute carrying the proposed refund,
  for an operator to decide (the refund is then recovered from the seller's next transfer).
Operators are alerted either way. The seller's proceeds bear the refund, whoever revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import unused_share
from market.alerts.findings import Finding
from market.alerts.service import raise_alert
from market.common.clock import now
from market.delivery import licence_changes as licences
from market.errors import Conflict
from market.orders import service as orders
from market.orders.models import Order
from market.orders.states import SETTLED, OrderStatus
from market.payments import disputes, escrow, refunds, repository
from market.payments.models import Payment
from market.payments.states import DisputeReason, PayoutStatus
from market.rights.service import LicenceOutcome, RevokedRights, register_revocation_effects
from market.settings import Settings
from pricing.money import Money


class RevocationCutsPaidLicences(Conflict):
    code = "revocation-cuts-paid-licences"


def pro_rata_refund(paid_left: int, currency: str, licence: licences.PaidLicence) -> int:
    """The documented rule: the unused share of the licence times what is still paid for it."""
    row = licence.licence
    share = unused_share(
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        quota=licence.call_quota,
        used=licence.calls_used,
        at=now(),
    )
    amount = (
        Money.from_minor(paid_left, currency).times(Decimal(share.numerator) / share.denominator).minor_units
    )
    return min(paid_left, amount)


async def _cut_licences(
    session: AsyncSession, invalidated: Sequence[uuid.UUID]
) -> list[tuple[licences.PaidLicence, Order, Payment, int]]:
    """The paid licences under the revoked rights, each with its order and payment (locked,
    payment first) and the refund the rule gives."""
    cut = []
    for item in await licences.active_licences_under(session, invalidated):
        payment = await repository.payment_of_order(session, item.licence.order_id, lock=True)
        order = await orders.lock(session, item.licence.order_id)
        if payment is None or order.status not in SETTLED:
            continue
        cut.append(
            (
                item,
                order,
                payment,
                pro_rata_refund(await refunds.refundable(session, payment), order.currency, item),
            )
        )
    return cut


async def on_revocation(
    session: AsyncSession, settings: Settings, revoked: RevokedRights
) -> list[LicenceOutcome]:
    forced, reason, actor = revoked.forced, revoked.reason, revoked.actor
    cut = await _cut_licences(session, revoked.invalidated)
    if not cut:
        return []
    listed = [
        {"licence_id": str(item.licence.id), "order_id": str(order.id), "refund_minor": amount}
        for item, order, _, amount in cut
    ]
    if not forced and not revoked.refunds_accepted:
        raise RevocationCutsPaidLicences(
            f"{len(cut)} paid, active licence(s) rest on this right: "
            + ", ".join(f"{x['licence_id']} ({x['refund_minor']} fen to refund)" for x in listed)
            + ". Revoke with refund_licences=true to refund their buyers pro rata for what they "
            "have not had.",
            fields=[("body.refund_licences", "must be true to cut these paid licences")],
            extra={"licences": listed},
        )
    outcomes, queued = [], []
    why = f"the rights under it were revoked: {reason}"
    for item, order, payment, amount in cut:
        payout = await escrow.payout_of(session, order.id)
        await licences.revoke_for_order(session, order, reason=why, actor=actor)
        if forced and payout.status == PayoutStatus.PAID_OUT and amount > 0:
            if order.status == OrderStatus.DISPUTED:  # its open dispute's operator decides it too
                outcomes.append(LicenceOutcome(item.licence.id, order.id, "dispute", amount))
                continue
            await disputes.open_dispute(
                session,
                settings,
                order,
                source="exchange",
                reason=DisputeReason.RIGHTS_PROBLEM,
                description=f"{why}; the seller was paid out already: {amount} fen refund "
                "proposed (pro rata)",
                actor=actor,
                proposed_refund_minor=amount,
            )
            outcomes.append(LicenceOutcome(item.licence.id, order.id, "dispute", amount))
            continue
        payload = {"licence_id": str(item.licence.id), "refund_minor": amount, "forced": forced}
        if amount > 0:
            refund = await refunds.request_refund(
                session, order, payment, amount, reason=f"pro rata: {why}", actor=actor, source="rights"
            )
            queued.append(refund)
            payload["refund_id"] = str(refund.id)
        await orders.terminate(
            session, order, actor=actor, reason=f"{why}; {amount} fen refunded pro rata", payload=payload
        )
        outcomes.append(LicenceOutcome(item.licence.id, order.id, "refund", amount))
    refunds.queue(session, queued)
    await raise_alert(
        session,
        Finding(
            rule="licences-cut-by-revocation",
            severity="medium",
            summary=f"{len(cut)} paid licence(s) cut by a {'forced' if forced else 'voluntary'} "
            f"revocation: {reason}",
            evidence={
                "licences": [{**x, "outcome": o.outcome} for x, o in zip(listed, outcomes, strict=True)]
            },
        ),
        "grant",
        str(revoked.revoked[0]),
    )
    return outcomes


register_revocation_effects(on_revocation)
