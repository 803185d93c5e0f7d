"""Sign-up with one answer for new and already-registered details (issue 18, finding 10).

Whether an e-mail address, a credit code or an ID number is already registered is someone
else's personal information (PIPL Art. 6: no more than the purpose needs; OWASP API3, excessive
data exposure). So an anonymous or participant sign-up that repeats registered details gets the
same status and the same shape of answer as a new one: the same fields, freshly generated ids,
the status a new sign-up would start in. Nothing is created; the same work is done (the
password is hashed, the blacklist resemblance is read, one audit entry is written), so neither
the body nor the time tells. The owner of the details hears of the attempt in its event feed
and webhooks (`participant.sign_up_attempted`); an e-mail that belongs to exchange staff is
told to the operators.

Operators registering a participant (a code failing its check digit, with a reason) still get
the 409 that says what clashed: they can see every participant anyway.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.models import User
from market.auth.passwords import hash_password
from market.auth.principal import Principal
from market.db.base import utcnow
from market.notifications.outbox import OPERATORS, notify
from market.participants import service, verification
from market.participants.models import Participant
from market.participants.schemas import ParticipantCreate
from market.settings import Settings

ATTEMPTED = "participant.sign_up_attempted"


async def sign_up(
    session: AsyncSession, settings: Settings, data: ParticipantCreate, principal: Principal | None
) -> tuple[Participant, User]:
    """A new participant and its first user, or, for details already registered, look-alikes
    that are never stored (their ids resolve to nothing)."""
    try:
        return await service.sign_up(session, settings, data, principal)
    except service.DuplicateParticipant as duplicate:
        if principal is not None and principal.is_staff:
            raise
        return await _as_if_new(session, settings, data, principal, duplicate)


async def _as_if_new(
    session: AsyncSession,
    settings: Settings,
    data: ParticipantCreate,
    principal: Principal | None,
    duplicate: service.DuplicateParticipant,
) -> tuple[Participant, User]:
    email = data.user.email.lower()
    created = utcnow()
    participant = Participant(
        id=uuid.uuid4(),
        kind=data.kind,
        name=data.name,
        credit_code=data.credit_code.upper() if data.credit_code else None,
        credit_code_override_reason=data.credit_code_override_reason,
        jurisdiction=data.jurisdiction,
        country=data.country,
        credit_status="good",
        credit_reason=None,
        created_at=created,
        updated_at=created,
    )
    participant.verification_status, _ = await verification.initial_status(session, participant, email)
    participant.verification_due_at = await verification.due_at(
        session, settings, participant.verification_status
    )
    user = User(
        id=uuid.uuid4(),
        email=email,
        display_name=data.user.display_name,
        # Hashed and thrown away: a new sign-up spends this time, so a repeated one does too.
        password_hash=hash_password(data.user.password),
        roles=sorted(set(data.roles)),
    )
    owner = duplicate.owner or OPERATORS
    await notify(
        session,
        ATTEMPTED,
        to=[owner],
        subject=("participant", owner) if owner != OPERATORS else ("staff", "e-mail"),
        data={
            "matched": duplicate.matched,
            "at": created,
            "detail": f"Someone tried to sign up with this participant's {_WHAT[duplicate.matched]}. "
            "Nothing was created and they were not told it is registered. If it was you, sign in "
            "instead; if not, tell the exchange.",
        },
    )
    await record(
        session,
        actor=principal.actor if principal else "anonymous",
        action=ATTEMPTED,
        subject_type="participant" if owner != OPERATORS else "staff",
        subject_id=str(owner),
        payload={"matched": duplicate.matched, "created": False},
    )
    return participant, user


_WHAT = {
    "credit_code": "unified social credit code",
    "identity_number": "ID number",
    "email": "e-mail address",
}
