"""Verifying a person who has no account: a one-time code to their e-mail address or mobile
number proves they control it (GB/T 35273-2020 §8.7 a: verify the person before answering);
the confirmed verification gives them a requester token to file and follow requests.

Codes and tokens are stored only as keyed hashes; a code dies after five wrong tries or
`contact_code_ttl_seconds`, and a contact gets at most `contact_codes_per_hour` codes an hour.
The code is sent by the `CONTACT_SENDER` port after the verification is committed, so nothing
waits on a mail or SMS gateway inside a transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import ClassVar, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.common.clock import now
from market.common.masking import mask_contact, pseudonym
from market.errors import Conflict, MarketError, NotFound, Unauthenticated
from market.privacy.models import ContactVerification
from market.privacy.schemas import ContactVerificationCreate
from market.privacy.states import VERIFICATIONS, VerificationStatus
from market.runtime import Port
from market.settings import Settings

MAX_ATTEMPTS = 5
log = logging.getLogger("market.privacy.contact")


class ContactChannelUnavailable(MarketError):
    code, title, status = "contact-channel-unavailable", "No way to reach the contact", 503
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "60"}


class TooManyCodes(MarketError):
    code, title, status = "too-many-codes", "Too many codes requested", 429
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "3600"}


class WrongCode(MarketError):
    """A wrong code counts as an attempt: the count must survive the refusal."""

    code, title, status = "wrong-code", "Wrong code", 422
    keeps_changes = True


class ContactSender(Protocol):
    """Delivers one-time codes (a mail or SMS gateway in a real deployment)."""

    available: bool

    async def send_code(self, *, channel: str, contact: str, code: str, expires_at: datetime) -> None: ...


CONTACT_SENDER: Port[ContactSender] = Port("contact sender")


class LogContactSender:
    """Writes the code to the server log: for trying the exchange out (refused in production)."""

    available = True

    async def send_code(self, *, channel: str, contact: str, code: str, expires_at: datetime) -> None:
        log.warning(
            "one-time code %s for %s (%s), valid until %s", code, mask_contact(contact), channel, expires_at
        )


class DisabledContactSender:
    """No gateway configured: people without an account sign up as a natural person instead."""

    available = False

    async def send_code(self, *, channel: str, contact: str, code: str, expires_at: datetime) -> None:
        raise ContactChannelUnavailable("no e-mail or SMS gateway is configured")


def build_contact_sender(settings: Settings) -> ContactSender:
    if settings.effective_contact_sender() == "log":
        return LogContactSender()
    return DisabledContactSender()


def normalised(channel: str, contact: str) -> str:
    """One spelling per contact, so the same person always gets the same pseudonym."""
    if channel == "email":
        return contact.strip().lower()
    digits = re.sub(r"[\s\-()]", "", contact)
    return digits.removeprefix("+86").removeprefix("0086")


def contact_pseudonym(settings: Settings, channel: str, contact: str) -> str:
    return pseudonym(settings.pseudonym_key(), "contact", f"{channel}:{normalised(channel, contact)}")


def _code_hash(settings: Settings, verification_id: uuid.UUID, code: str) -> str:
    return pseudonym(settings.pseudonym_key(), "contact-code", f"{verification_id}:{code}")


def subject_actor(person_pseudonym: str) -> str:
    """How a person appears as the actor of an audit entry: a pseudonym, never who they are."""
    return f"subject:{person_pseudonym[:32]}"


async def start(
    session: AsyncSession, settings: Settings, data: ContactVerificationCreate
) -> tuple[ContactVerification, str]:
    """A new verification and its code (to be sent once this transaction commits)."""
    contact = normalised(data.channel, data.contact)
    person = contact_pseudonym(settings, data.channel, contact)
    recent = await session.scalar(
        select(func.count())
        .select_from(ContactVerification)
        .where(
            ContactVerification.contact_pseudonym == person,
            ContactVerification.created_at > now() - timedelta(hours=1),
        )
    )
    if int(recent or 0) >= settings.contact_codes_per_hour:
        raise TooManyCodes(
            f"at most {settings.contact_codes_per_hour} codes an hour go to one contact; try again later"
        )
    code = f"{secrets.randbelow(10**6):06d}"
    row = ContactVerification(
        id=uuid.uuid4(),
        channel=data.channel,
        contact=contact,
        contact_pseudonym=person,
        status=VerificationStatus.PENDING,
        expires_at=now() + timedelta(seconds=settings.contact_code_ttl_seconds),
        created_at=now(),
    )
    row.code_hash = _code_hash(settings, row.id, code)
    session.add(row)
    await record(
        session,
        actor=subject_actor(person),
        action="subject_contact.code_issued",
        subject_type="contact_verification",
        subject_id=row.id,
        payload={"channel": row.channel, "expires_at": row.expires_at},
    )
    return row, code


async def confirm(
    session: AsyncSession, settings: Settings, verification_id: uuid.UUID, code: str
) -> tuple[ContactVerification, str]:
    """The confirmed verification and its requester token (shown once, stored hashed)."""
    row = await session.get(ContactVerification, verification_id, with_for_update=True)
    if row is None:
        raise NotFound("verification not found")
    if row.status != VerificationStatus.PENDING:
        raise Conflict(f"this verification is {row.status}; request a new code", code="verification-closed")
    if now() >= row.expires_at:
        raise Conflict("the code has expired; request a new one", code="code-expired")
    if not hmac.compare_digest(row.code_hash, _code_hash(settings, row.id, code)):
        row.attempts += 1
        if row.attempts >= MAX_ATTEMPTS:
            VERIFICATIONS.check(row.status, VerificationStatus.FAILED)
            row.status = VerificationStatus.FAILED
        await record(
            session,
            actor=subject_actor(row.contact_pseudonym),
            action="subject_contact.wrong_code",
            subject_type="contact_verification",
            subject_id=row.id,
            payload={"attempts": row.attempts, "status": row.status},
        )
        left = MAX_ATTEMPTS - row.attempts
        raise WrongCode(
            f"the code is wrong; {left} attempts left" if left else "the code is wrong; request a new code",
            fields=[("body.code", "wrong code")],
        )
    VERIFICATIONS.check(row.status, VerificationStatus.CONFIRMED)
    token = secrets.token_urlsafe(32)
    row.status, row.confirmed_at = VerificationStatus.CONFIRMED, now()
    row.token_hash = hashlib.sha256(token.encode()).hexdigest()
    row.token_expires_at = now() + timedelta(seconds=settings.requester_token_ttl_seconds)
    await record(
        session,
        actor=subject_actor(row.contact_pseudonym),
        action="subject_contact.verified",
        subject_type="contact_verification",
        subject_id=row.id,
        payload={"channel": row.channel, "token_expires_at": row.token_expires_at},
    )
    return row, token


async def by_token(session: AsyncSession, token: str) -> ContactVerification:
    """The confirmed verification a requester token stands for; 401 when unknown or expired."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = (
        await session.execute(select(ContactVerification).where(ContactVerification.token_hash == digest))
    ).scalar_one_or_none()
    if row is None or row.token_expires_at is None or now() >= row.token_expires_at:
        raise Unauthenticated("the requester token is unknown or expired; verify your contact again")
    return row
