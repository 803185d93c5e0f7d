"""Participant use cases: sign-up, credit status, users, API keys. Services never commit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from market import keyring
from market.alerts.findings import Finding
from market.alerts.service import raise_alert
from market.audit.log import record
from market.auth.models import ApiKey, User
from market.auth.passwords import hash_password, verify_password
from market.auth.principal import API_KEY_PREFIX, Principal, ensure_visible, hash_api_secret
from market.auth.tokens import STAFF_ROLES
from market.common.masking import mask_name
from market.db.base import utcnow
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from market.notifications.outbox import OPERATORS
from market.participants import repository, sessions, verification
from market.participants.credit_code import credit_code_problems
from market.participants.models import Participant
from market.participants.schemas import ApiKeyCreate, CreditChange, ParticipantCreate, StaffCreate
from market.ratelimits import AccountLocked, Limits, TooManyRequests
from market.settings import Settings


class DuplicateParticipant(Conflict):
    code = "duplicate-participant"

    def __init__(
        self,
        message: str,
        *,
        field: str,
        matched: str,
        owner: uuid.UUID | str | None,
        reason: str = "already registered",
    ) -> None:
        super().__init__(message, fields=[(field, reason)])
        # What matched and whose it is: the uniform sign-up answer (`signup`) tells that owner.
        self.matched = matched
        self.owner = owner


class DuplicateEmail(DuplicateParticipant):
    code = "duplicate-email"


class InvalidCreditCode(InvalidInput):
    code = "invalid-credit-code"


def _check_credit_code(data: ParticipantCreate, principal: Principal | None) -> str | None:
    needs_code = data.kind in ("organisation", "public_body") and data.jurisdiction == "domestic"
    if data.credit_code is None:
        if needs_code:
            raise InvalidInput(
                "domestic organisations and public bodies need a unified social credit code",
                fields=[("body.credit_code", "required for a domestic organisation or public body")],
            )
        return None
    if data.kind == "natural_person":
        raise InvalidInput(
            "natural persons have no credit code",
            fields=[("body.credit_code", "not allowed for natural persons")],
        )
    code = data.credit_code.upper()
    problems = credit_code_problems(code)
    only_check_digits = problems and all(p.position in (17, 18) for p in problems)
    if data.credit_code_override_reason is not None:
        if principal is None or not principal.has("operator"):
            raise Forbidden("only an operator may register a credit code that fails its check")
        if problems and not only_check_digits:
            raise InvalidCreditCode(
                f"credit code is malformed: {problems[0].reason}",
                fields=[("body.credit_code", problems[0].reason)],
            )
        return code
    if problems:
        raise InvalidCreditCode(
            "the unified social credit code is not valid: "
            + "; ".join(p.reason for p in problems)
            + ". If the code was issued this way, ask an operator to register it explicitly.",
            fields=[("body.credit_code", p.reason) for p in problems],
        )
    return code


def identity_hash(settings: Settings, number: str) -> str:
    """The ID number's hash under the current identity key (HKDF from the root secret): keyed so
    a leaked table cannot be reversed by hashing every possible ID number."""
    return keyring.mac(keyring.current_key(settings, keyring.IDENTITY_HASHES)[1], number.upper().encode())


def identity_hashes(settings: Settings, number: str) -> list[str]:
    """Every hash the number may be stored under: the current key's, the retired roots' (a
    rotation must not let a registered person register again), and the one made before keys
    were derived (keyed with the JWT secret)."""
    text = number.upper().encode()
    hashes = [
        keyring.mac(key, text) for key in keyring.accepted_keys(settings, keyring.IDENTITY_HASHES).values()
    ]
    legacy = hmac.new(settings.jwt_secret.encode(), text, hashlib.sha256).hexdigest()
    return [*hashes, legacy]


async def sign_up(
    session: AsyncSession, settings: Settings, data: ParticipantCreate, principal: Principal | None
) -> tuple[Participant, User]:
    code = _check_credit_code(data, principal)
    if data.kind != "natural_person" and data.identity_number:
        raise InvalidInput(
            "only natural persons give an identity number",
            fields=[("body.identity_number", "only for natural persons")],
        )
    if data.kind == "natural_person" and not data.identity_number:
        raise InvalidInput(
            "natural persons give an identity document number",
            fields=[("body.identity_number", "required for natural persons")],
        )
    identity = identity_hash(settings, data.identity_number) if data.identity_number else None
    if code and (same := await session.scalar(select(Participant.id).where(Participant.credit_code == code))):
        raise DuplicateParticipant(
            "a participant with this credit code is already registered",
            field="body.credit_code",
            matched="credit_code",
            owner=same,
        )
    if identity and (
        same := await session.scalar(
            select(Participant.id).where(
                Participant.identity_hash.in_(identity_hashes(settings, data.identity_number or ""))
            )
        )
    ):
        raise DuplicateParticipant(
            "this person is already registered",
            field="body.identity_number",
            matched="identity_number",
            owner=same,
        )
    email = data.user.email.lower()
    if user_row := (
        await session.execute(select(User.id, User.participant_id).where(User.email == email))
    ).first():
        raise DuplicateEmail(
            "this e-mail address is already in use",
            field="body.user.email",
            matched="email",
            owner=user_row.participant_id or OPERATORS,
            reason="already in use",
        )
    participant = Participant(
        kind=data.kind,
        name=data.name,
        credit_code=code,
        credit_code_override_reason=data.credit_code_override_reason,
        identity_hash=identity,
        jurisdiction=data.jurisdiction,
        country=data.country,
        credit_status="good",
        legal_representative=data.legal_representative,
    )
    session.add(participant)
    await session.flush()
    await verification.on_sign_up(session, settings, participant, email)
    user = User(
        participant_id=participant.id,
        email=email,
        display_name=data.user.display_name,
        password_hash=hash_password(data.user.password),
        roles=sorted(set(data.roles)),
    )
    session.add(user)
    await session.flush()
    await record(
        session,
        actor=principal.actor if principal else f"user:{user.id}",
        action="participant.registered",
        subject_type="participant",
        subject_id=participant.id,
        payload={
            "kind": participant.kind,
            # A natural person's name stays out of the log (PIPL Art. 6: minimal exposure).
            "name": mask_name(participant.name) if participant.kind == "natural_person" else participant.name,
            "credit_code": code,
            "override_reason": data.credit_code_override_reason,
            "jurisdiction": participant.jurisdiction,
            "roles": user.roles,
            "verification_status": participant.verification_status,
            "verification_due_at": (
                participant.verification_due_at.isoformat() if participant.verification_due_at else None
            ),
        },
    )
    return participant, user


async def create_staff(session: AsyncSession, data: StaffCreate, actor: str) -> User:
    email = data.email.lower()
    if await session.scalar(select(User.id).where(User.email == email)):
        raise DuplicateEmail(
            "this e-mail address is already in use",
            field="body.email",
            matched="email",
            owner=None,
            reason="already in use",
        )
    user = User(
        participant_id=None,
        email=email,
        display_name=data.display_name,
        password_hash=hash_password(data.password),
        roles=[data.role],
    )
    session.add(user)
    await session.flush()
    await record(
        session,
        actor=actor,
        action="staff.created",
        subject_type="user",
        subject_id=user.id,
        payload={"email": email, "role": data.role},
    )
    return user


async def sign_in(session: AsyncSession, limits: Limits, email: str, password: str) -> User:
    """`authenticate`, within the sign-in limits (issue 18): so many attempts per IP; after a
    few wrong passwords for one account each further try waits (backoff); after many, the
    account is locked, even for the right password, until they age out, and a staff account's
    lock raises an alert (someone is guessing an operator's password)."""
    settings = limits.settings
    account = email.lower()
    await limits.per_ip("login", settings.rate_limit_login_ip)
    if limits.enabled:
        if wait := await limits.limiter.exhausted(settings.rate_limit_login_lock, "login-lock", account):
            raise AccountLocked(wait)
        if wait := await limits.limiter.exhausted(settings.rate_limit_login_failures, "login-fail", account):
            raise TooManyRequests(
                "Too many failed sign-ins for this account; wait Retry-After seconds before the next.",
                wait,
                code="login-backoff",
            )
    try:
        return await authenticate(session, email, password)
    except Unauthenticated:
        if not limits.enabled:
            raise
        await limits.limiter.count(settings.rate_limit_login_failures, "login-fail", account)
        await limits.limiter.count(settings.rate_limit_login_lock, "login-lock", account)
        wait = await limits.limiter.exhausted(settings.rate_limit_login_lock, "login-lock", account)
        if wait is None:
            raise
        await _alert_if_staff(session, account)
        raise AccountLocked(wait) from None


async def _alert_if_staff(session: AsyncSession, email: str) -> None:
    user = (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
    if user is None or not set(user.roles) & STAFF_ROLES:
        return
    await raise_alert(
        session,
        Finding(
            rule="staff-sign-in-locked",
            severity="high",
            summary=f"Staff account {user.id} locked after repeated wrong passwords",
            evidence={"user_id": str(user.id), "roles": sorted(user.roles)},
        ),
        "user",
        str(user.id),
    )


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    user = (await session.execute(select(User).where(User.email == email.lower()))).scalar_one_or_none()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise Unauthenticated("incorrect e-mail or password")
    if not user.is_active:
        raise Unauthenticated("this user is deactivated")
    return user


async def get_participant(
    session: AsyncSession, principal: Principal, participant_id: uuid.UUID
) -> Participant:
    ensure_visible(principal, participant_id, "participant")
    participant = await session.get(Participant, participant_id)
    if participant is None:
        raise NotFound("participant not found")
    return participant


async def change_credit(
    session: AsyncSession, principal: Principal, participant_id: uuid.UUID, change: CreditChange
) -> Participant:
    participant = await session.get(Participant, participant_id, with_for_update=True)
    if participant is None:
        raise NotFound("participant not found")
    before = participant.credit_status
    participant.credit_status = change.status
    participant.credit_reason = change.reason
    revoked = None
    if change.status == "blacklisted" and before != "blacklisted":
        # Its tokens and API keys stop working now, not when they expire (issue 18, finding 5).
        revoked = await sessions.revoke_participant(session, participant)
    await record(
        session,
        actor=principal.actor,
        action="participant.credit_changed",
        subject_type="participant",
        subject_id=participant.id,
        payload={
            "from": before,
            "to": change.status,
            "reason": change.reason,
            "basis": "吉政办发〔2016〕35号",
            **({"api_keys_revoked": revoked} if revoked is not None else {}),
        },
    )
    return participant


async def create_api_key(
    session: AsyncSession, principal: Principal, data: ApiKeyCreate
) -> tuple[ApiKey, str]:
    if principal.participant_id is None or principal.user_id is None:
        raise Forbidden("API keys belong to a participant and are created by its users")
    if not set(data.roles) <= principal.roles:
        raise Forbidden(
            "an API key cannot carry a role its creator does not have",
            fields=[("body.roles", "exceeds the creating user's roles")],
        )
    prefix, secret = secrets.token_hex(8), secrets.token_urlsafe(32).replace("_", "-")
    key = ApiKey(
        participant_id=principal.participant_id,
        created_by=principal.user_id,
        name=data.name,
        prefix=prefix,
        secret_hash=hash_api_secret(secret),
        roles=sorted(set(data.roles)),
    )
    session.add(key)
    await session.flush()
    await record(
        session,
        actor=principal.actor,
        action="api_key.created",
        subject_type="api_key",
        subject_id=key.id,
        payload={"name": key.name, "prefix": prefix, "roles": key.roles},
    )
    return key, f"{API_KEY_PREFIX}_{prefix}_{secret}"


async def list_api_keys(session: AsyncSession, principal: Principal) -> list[ApiKey]:
    if principal.participant_id is None:
        return []
    stmt = (
        select(ApiKey)
        .where(ApiKey.participant_id == principal.participant_id)
        .order_by(ApiKey.created_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def revoke_api_key(session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> None:
    key = await session.get(ApiKey, key_id)
    if key is None or key.participant_id != principal.participant_id:
        raise NotFound("API key not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await record(
            session,
            actor=principal.actor,
            action="api_key.revoked",
            subject_type="api_key",
            subject_id=key.id,
            payload={"prefix": key.prefix},
        )


async def find(session: AsyncSession, participant_id: uuid.UUID) -> Participant | None:
    return await repository.get(session, participant_id)


async def get_many(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Participant]:
    """The participants among `ids` that exist, read in one query."""
    return await repository.get_many(session, ids)


@dataclass(frozen=True)
class IdentityFacts:
    """What tells two participants apart or ties them together (related-party checks)."""

    credit_code: str | None
    email_domains: frozenset[str]


async def identity_facts(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, IdentityFacts]:
    domains: dict[uuid.UUID, set[str]] = {pid: set() for pid in ids}
    for pid, email in await repository.user_emails(session, ids):
        domains[pid].add(email.rsplit("@", 1)[-1])
    known = await repository.get_many(session, ids)
    return {
        pid: IdentityFacts(known[pid].credit_code if pid in known else None, frozenset(domains[pid]))
        for pid in ids
    }


async def caller_participant(session: AsyncSession, principal: Principal) -> Participant:
    if principal.participant_id is None:
        raise Forbidden("only participant users can do this")
    participant = await repository.get(session, principal.participant_id)
    if participant is None:
        raise Unauthenticated("participant no longer exists")
    return participant
