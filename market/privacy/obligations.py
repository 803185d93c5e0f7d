"""Licensee obligations: a current licensee acknowledges that it deleted, or stopped using, a
person's data the seller may no longer sell (see `effects`); unacknowledged at the deadline the
obligation escalates to the operators, who close it, revoking the licence if need be."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.delivery import licence_changes
from market.delivery import service as delivery
from market.errors import Forbidden, NotFound
from market.notifications.outbox import OPERATORS, notify
from market.privacy import repository
from market.privacy.models import LicenseeObligation
from market.privacy.schemas import Acknowledgement, ObligationResolution
from market.privacy.states import OBLIGATIONS, ObligationStatus


async def _move(
    session: AsyncSession,
    obligation: LicenseeObligation,
    target: ObligationStatus,
    *,
    actor: str,
    payload: dict[str, object],
) -> None:
    OBLIGATIONS.check(obligation.status, target)
    previous, obligation.status = obligation.status, target
    await record(
        session,
        actor=actor,
        action=f"licensee_obligation.{target}",
        subject_type="licensee_obligation",
        subject_id=obligation.id,
        payload={"licence_id": str(obligation.licence_id), "from": previous, **payload},
    )


def _readable_by(principal: Principal, obligation: LicenseeObligation) -> bool:
    return principal.can_see_all() or principal.participant_id in (
        obligation.licensee_id,
        obligation.seller_id,
    )


async def visible(
    session: AsyncSession, principal: Principal, obligation_id: uuid.UUID
) -> LicenseeObligation:
    obligation = await repository.obligation(session, obligation_id)
    if obligation is None or not _readable_by(principal, obligation):
        raise NotFound("obligation not found")
    return obligation


async def page(
    session: AsyncSession, principal: Principal, status: str | None, cursor: str | None, limit: int
) -> list[LicenseeObligation]:
    stmt = repository.readable_obligations(
        sees_all=principal.can_see_all(), participant_id=principal.participant_id
    )
    return await repository.obligations_page(session, stmt, status, cursor, limit)


async def acknowledge(
    session: AsyncSession, principal: Principal, obligation_id: uuid.UUID, data: Acknowledgement
) -> LicenseeObligation:
    """The licensee's statement that it deleted, or stopped using, the data (late ones count too)."""
    obligation = await repository.obligation(session, obligation_id, lock=True)
    if obligation is None or not _readable_by(principal, obligation):
        raise NotFound("obligation not found")
    if obligation.licensee_id != principal.participant_id:
        raise Forbidden("only the licensee acknowledges its obligation")
    at = now()
    obligation.acknowledged_at, obligation.acknowledged_by = at, principal.actor
    obligation.outcome, obligation.statement = data.outcome, data.statement
    await _move(
        session,
        obligation,
        ObligationStatus.ACKNOWLEDGED,
        actor=principal.actor,
        payload={"outcome": data.outcome, "late": at > obligation.due_at, "statement": data.statement},
    )
    await notify(
        session,
        "licensee_obligation.acknowledged",
        to=[obligation.seller_id],
        subject=("licensee_obligation", obligation.id),
        data={"outcome": data.outcome},
    )
    return obligation


async def escalate_at_deadline(session: AsyncSession, obligation: LicenseeObligation) -> None:
    """Unacknowledged at its deadline: the operators follow up (run by `jobs`)."""
    obligation.escalated_at = now()
    await _move(
        session, obligation, ObligationStatus.ESCALATED, actor="system", payload={"due_at": obligation.due_at}
    )
    await notify(
        session,
        "licensee_obligation.escalated",
        to=[OPERATORS, obligation.licensee_id],
        subject=("licensee_obligation", obligation.id),
        data={"due_at": obligation.due_at},
    )


async def resolve(
    session: AsyncSession, principal: Principal, obligation_id: uuid.UUID, data: ObligationResolution
) -> LicenseeObligation:
    """An operator closes an escalated obligation, revoking the licence when the licensee will
    not confirm (the exchange's own remedy: it cannot reach into the licensee's systems)."""
    obligation = await repository.obligation(session, obligation_id, lock=True)
    if obligation is None:
        raise NotFound("obligation not found")
    OBLIGATIONS.check(obligation.status, ObligationStatus.CLOSED)
    revoked = False
    if data.action == "revoke_licence":
        licence = await delivery.find_licence(session, obligation.licence_id)
        if licence is not None:
            revoked = await licence_changes.revoke(
                session,
                licence,
                reason=f"personal-data obligation not acknowledged: {data.reason}",
                actor=principal.actor,
            )
    obligation.closed_at, obligation.closed_by = now(), principal.actor
    obligation.resolution = "licence_revoked" if data.action == "revoke_licence" else "closed"
    obligation.resolution_reason = data.reason
    await _move(
        session,
        obligation,
        ObligationStatus.CLOSED,
        actor=principal.actor,
        payload={"resolution": obligation.resolution, "licence_revoked_now": revoked, "reason": data.reason},
    )
    return obligation
