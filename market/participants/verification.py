"""Know your customer (issue 18, finding 9).

Organisations and public bodies start `pending_verification`: they may sign in, register data and
prepare products, but not list or buy until an operator verifies them against a checklist
(documents, legal representative, contact, intended use), with a reason. A natural person is
verified by the ID number it signs up with. A sign-up that resembles a blacklisted participant
(the same name, legal representative or e-mail domain) is `held` for review, and operators are
alerted.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.findings import Finding
from market.alerts.service import raise_alert
from market.audit.log import record
from market.auth.models import User
from market.auth.principal import Principal, standing_of
from market.common.clock import now
from market.errors import Conflict, Forbidden, InvalidInput, NotFound
from market.participants.models import Participant
from market.participants.schemas import VerificationDecision
from market.settings import Settings

PENDING, HELD, VERIFIED, DECLINED = "pending_verification", "held", "verified", "declined"
# Free mail domains say nothing about who is behind an address.
_PUBLIC_MAIL = frozenset(
    {"qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "hotmail.com", "sina.com"}
)


class NotVerified(Forbidden):
    code = "participant-not-verified"


# The end of the nth working day after a moment, in the exchange's calendar (PRC holidays and
# makeup days): the registry owns that calendar and registers its counter at import, as a
# higher layer answers a lower one here. None when the calendar does not know the year yet.
WorkingDaysAfter = Callable[[AsyncSession, datetime, int], Awaitable[datetime | None]]
_working_days_after: list[WorkingDaysAfter] = []


def register_working_days(counter: WorkingDaysAfter) -> None:
    _working_days_after[:] = [counter]


async def due_at(session: AsyncSession, settings: Settings, status: str) -> datetime | None:
    """When a sign-up starting in `status` must have been decided; None when nothing waits."""
    if status not in (PENDING, HELD):
        return None
    if not _working_days_after:
        raise RuntimeError("no working-day calendar registered (market.registry.lifecycle registers it)")
    return await _working_days_after[0](session, now(), settings.participant_verification_working_days)


def _normalised(name: str) -> str:
    return re.sub(r"[\s\W_]+", "", name).casefold()


def _domain(email: str) -> str | None:
    domain = email.rsplit("@", 1)[-1].lower()
    return None if domain in _PUBLIC_MAIL else domain


async def resemblances(session: AsyncSession, participant: Participant, email: str) -> list[str]:
    """What the new participant shares with a blacklisted one."""
    blacklisted = list(
        (
            await session.execute(select(Participant).where(Participant.credit_status == "blacklisted"))
        ).scalars()
    )
    found: list[str] = []
    name = _normalised(participant.name)
    domain = _domain(email)
    for other in blacklisted:
        if name and _normalised(other.name) == name:
            found.append(f"the name of blacklisted participant {other.id}")
        if (
            participant.legal_representative
            and other.legal_representative
            and _normalised(participant.legal_representative) == _normalised(other.legal_representative)
        ):
            found.append(f"the legal representative of blacklisted participant {other.id}")
        if domain:
            emails = (
                await session.execute(select(User.email).where(User.participant_id == other.id))
            ).scalars()
            if any(_domain(e) == domain for e in emails):
                found.append(f"the e-mail domain {domain} of blacklisted participant {other.id}")
    return found


async def initial_status(
    session: AsyncSession, participant: Participant, email: str
) -> tuple[str, list[str]]:
    """The status a sign-up starts in, and what it shares with blacklisted participants. Also
    what a duplicate sign-up's answer shows (`signup`), so the work and the answer match."""
    similar = await resemblances(session, participant, email)
    if similar:
        return HELD, similar
    return (VERIFIED if participant.kind == "natural_person" else PENDING), []


async def on_sign_up(session: AsyncSession, settings: Settings, participant: Participant, email: str) -> None:
    """Set the new participant's verification status and the deadline of its decision (before
    its audit entry is written)."""
    status, similar = await initial_status(session, participant, email)
    participant.verification_status = status
    participant.verification_due_at = await due_at(session, settings, status)
    if similar:
        participant.verification_note = "held for review: it shares " + "; ".join(similar)
        await raise_alert(
            session,
            Finding(
                rule="signup-resembles-blacklisted",
                severity="high",
                summary=f"Sign-up {participant.id} resembles a blacklisted participant",
                evidence={"participant_id": str(participant.id), "shares": similar},
            ),
            "participant",
            str(participant.id),
        )


async def ensure_verified(session: AsyncSession, participant_id: uuid.UUID | None, action: str) -> None:
    """Refuse `action` (list, buy) to a participant an operator has not verified."""
    if participant_id is None:
        return
    status = await session.scalar(
        select(Participant.verification_status).where(Participant.id == participant_id)
    )
    _refuse_unverified(status, action)


async def ensure_caller_verified(session: AsyncSession, principal: Principal, action: str) -> None:
    """`ensure_verified` for the caller: its status as read with its credential when it was
    (no second read of the same row in the request), else read now."""
    standing = await standing_of(session, principal)
    if standing is None or principal.participant_id is None:
        await ensure_verified(session, principal.participant_id, action)
    else:
        _refuse_unverified(standing.verification_status, action)


def _refuse_unverified(status: str | None, action: str) -> None:
    if status is not None and status != VERIFIED:
        raise NotVerified(
            f"this participant may not {action} until the exchange has verified it (status {status}); "
            "an operator reviews its documents, legal representative, contact and intended use",
            extra={"verification_status": status},
        )


async def decide(
    session: AsyncSession, principal: Principal, participant_id: uuid.UUID, data: VerificationDecision
) -> Participant:
    participant = await session.get(Participant, participant_id, with_for_update=True)
    if participant is None:
        raise NotFound("participant not found")
    if data.decision == "verify":
        missing = [name for name, done in data.checklist.model_dump().items() if not done]
        if missing:
            raise InvalidInput(
                "every checklist item must be done before verifying",
                fields=[(f"body.checklist.{name}", "not done") for name in missing],
            )
        if participant.credit_status == "blacklisted":
            raise Conflict("a blacklisted participant cannot be verified")
    before = participant.verification_status
    participant.verification_status = VERIFIED if data.decision == "verify" else DECLINED
    participant.verification_note = data.reason
    participant.verified_by = principal.actor
    participant.verified_at = now()
    payload: dict[str, Any] = {
        "from": before,
        "to": participant.verification_status,
        "checklist": data.checklist.model_dump(),
        "reason": data.reason,
        "documents": list(data.documents),
    }
    await record(
        session,
        actor=principal.actor,
        action=f"participant.{'verified' if data.decision == 'verify' else 'declined'}",
        subject_type="participant",
        subject_id=participant.id,
        payload=payload,
    )
    return participant


async def mark_verified(session: AsyncSession, participant: Participant, actor: str, reason: str) -> None:
    """Verified without the operator endpoint: the embedded demo's known participants."""
    participant.verification_status = VERIFIED
    participant.verification_note = reason
    participant.verified_by = actor
    participant.verified_at = now()
    await record(
        session,
        actor=actor,
        action="participant.verified",
        subject_type="participant",
        subject_id=participant.id,
        payload={"from": PENDING, "to": VERIFIED, "reason": reason},
    )


async def queue(session: AsyncSession, status: str, limit: int) -> list[tuple[Participant, list[str]]]:
    """Participants awaiting an operator, oldest first, with their users' e-mail addresses."""
    rows = list(
        (
            await session.execute(
                select(Participant)
                .where(Participant.verification_status == status)
                .order_by(Participant.created_at, Participant.id)
                .limit(limit)
            )
        ).scalars()
    )
    out = []
    for p in rows:
        emails = (await session.execute(select(User.email).where(User.participant_id == p.id))).scalars()
        out.append((p, sorted(emails)))
    return out


async def alert_overdue(session: AsyncSession) -> int:
    """Mark every verification still undecided past its deadline and raise one alert for each
    (the participant waits, unable to list or buy, longer than the exchange promised): once per
    participant, however often the job runs or on how many workers (rows locked, skipped when
    another worker holds them)."""
    at = now()
    overdue = list(
        (
            await session.execute(
                select(Participant)
                .where(
                    Participant.verification_status.in_((PENDING, HELD)),
                    Participant.verification_due_at < at,
                    Participant.verification_overdue_at.is_(None),
                )
                .order_by(Participant.verification_due_at, Participant.id)
                .limit(500)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    for participant in overdue:
        participant.verification_overdue_at = at
        await raise_alert(session, _overdue(participant), "participant", str(participant.id))
    return len(overdue)


def _overdue(participant: Participant) -> Finding:
    due = participant.verification_due_at.isoformat() if participant.verification_due_at else None
    status = participant.verification_status
    return Finding(
        rule="participant-verification-overdue",
        severity="medium",
        summary=f"Participant {participant.id}'s verification was due {due}; still {status}",
        evidence={"participant_id": str(participant.id), "status": status, "due_at": due},
    )
