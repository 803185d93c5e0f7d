"""Sessions (issue 18, finding 5): short access tokens, refresh tokens that rotate, logout, and
server-side revocation.

An access token lives `MARKET_JWT_TTL_SECONDS` (15 minutes by default) and carries the user's and
the participant's token versions, checked on every request (`market.auth.principal`). A refresh
token (`MARKET_REFRESH_TTL_SECONDS`) is stored only as a hash; each use replaces it with a new one
of the same family, and a used one presented again (a stolen copy) revokes the whole family.
Logout and a password change raise the user's version; blacklisting raises the participant's and
revokes its API keys: every credential issued before stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.log import record
from market.auth.models import ApiKey, RefreshToken, User
from market.auth.passwords import hash_password, verify_password
from market.auth.principal import Principal
from market.auth.tokens import TokenClaims, issue_token
from market.common.clock import now
from market.errors import Forbidden, InvalidInput, Unauthenticated
from market.participants.models import Participant
from market.settings import Settings

REFRESH_PREFIX = "rt_"


class ParticipantBlacklisted(Forbidden):
    code = "participant-blacklisted"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def _participant(session: AsyncSession, user: User) -> Participant | None:
    if user.participant_id is None:
        return None
    participant = await session.get(Participant, user.participant_id)
    if participant is not None and participant.credit_status == "blacklisted":
        raise ParticipantBlacklisted(
            "this participant is blacklisted: its users cannot sign in; contact the exchange"
        )
    return participant


async def open_session(
    session: AsyncSession, settings: Settings, user: User, family_id: uuid.UUID | None = None
) -> TokenPair:
    """A new access token and refresh token for `user` (a new family unless one is given)."""
    participant = await _participant(session, user)
    claims = TokenClaims(
        user.id,
        user.participant_id,
        frozenset(user.roles),
        version=user.token_version,
        participant_version=participant.token_version if participant else 0,
    )
    raw = REFRESH_PREFIX + secrets.token_urlsafe(32)
    issued = now()
    session.add(
        RefreshToken(
            id=uuid.uuid4(),
            user_id=user.id,
            family_id=family_id or uuid.uuid4(),
            token_hash=_hash(raw),
            user_version=user.token_version,
            created_at=issued,
            expires_at=issued + timedelta(seconds=settings.refresh_ttl_seconds),
        )
    )
    return TokenPair(
        access_token=issue_token(settings, claims),
        expires_in=settings.jwt_ttl_seconds,
        refresh_token=raw,
        refresh_expires_in=settings.refresh_ttl_seconds,
    )


async def refresh(session: AsyncSession, settings: Settings, raw: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one is spent."""
    ended = Unauthenticated("this refresh token is not valid; sign in again")
    token = (
        await session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == _hash(raw)).with_for_update()
        )
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None or now() >= token.expires_at:
        raise ended
    if token.used_at is not None:
        # Presented twice: one of the two holders stole it. End the whole family (RFC 9700 §4.14.2).
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == token.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        raise _KeepRevocation("this refresh token was already used; every session of its family ended")
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active or user.token_version != token.user_version:
        raise ended
    token.used_at = now()
    return await open_session(session, settings, user, family_id=token.family_id)


class _KeepRevocation(Unauthenticated):
    keeps_changes = True  # the family's revocation must survive the refusal


async def end_sessions(session: AsyncSession, user: User) -> None:
    """Every access and refresh token of `user` stops working."""
    user.token_version += 1
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now())
    )


async def logout(session: AsyncSession, principal: Principal) -> None:
    if principal.user_id is None:
        raise InvalidInput("an API key has no session; revoke the key instead")
    user = await session.get(User, principal.user_id, with_for_update=True)
    if user is None:
        raise Unauthenticated("unknown user")
    await end_sessions(session, user)
    await record(
        session,
        actor=principal.actor,
        action="user.logged_out",
        subject_type="user",
        subject_id=user.id,
        payload={},
    )


async def change_password(session: AsyncSession, principal: Principal, current: str, new: str) -> None:
    """A new password ends every session of the user and revokes the API keys it created."""
    if principal.user_id is None:
        raise InvalidInput("an API key has no password")
    user = await session.get(User, principal.user_id, with_for_update=True)
    if user is None or not verify_password(user.password_hash, current):
        raise Unauthenticated(
            "the current password is not correct", fields=[("body.current_password", "incorrect")]
        )
    if current == new:
        raise InvalidInput(
            "choose a different password", fields=[("body.new_password", "same as the current one")]
        )
    user.password_hash = hash_password(new)
    await end_sessions(session, user)
    revoked = await _revoke_api_keys(session, ApiKey.created_by == user.id)
    await record(
        session,
        actor=principal.actor,
        action="user.password_changed",
        subject_type="user",
        subject_id=user.id,
        payload={"api_keys_revoked": revoked},
    )


async def _revoke_api_keys(session: AsyncSession, where: object) -> int:
    keys = list((await session.execute(select(ApiKey).where(where, ApiKey.revoked_at.is_(None)))).scalars())  # type: ignore[arg-type]
    for key in keys:
        key.revoked_at = now()
    return len(keys)


async def revoke_participant(session: AsyncSession, participant: Participant) -> int:
    """Blacklisting: every token of the participant's users and every API key stops working."""
    participant.token_version += 1
    users = select(User.id).where(User.participant_id == participant.id)
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id.in_(users), RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return await _revoke_api_keys(session, ApiKey.participant_id == participant.id)
