"""JWT access tokens: HS256 pinned, issuer, audience and expiry verified strictly."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from market.settings import Settings

ALGORITHM = "HS256"
KNOWN_ROLES = ("seller", "buyer", "operator", "auditor", "price_authority")
STAFF_ROLES = frozenset({"operator", "auditor", "price_authority"})


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    participant_id: uuid.UUID | None
    roles: frozenset[str]


def issue_token(settings: Settings, claims: TokenClaims, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    body = {
        "sub": str(claims.user_id),
        "pid": str(claims.participant_id) if claims.participant_id else None,
        "roles": sorted(claims.roles),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=settings.jwt_ttl_seconds)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(body, settings.jwt_secret, algorithm=ALGORITHM)


def decode_token(settings: Settings, token: str) -> TokenClaims:
    """Raises `jwt.InvalidTokenError` on anything short of a perfect token."""
    body = jwt.decode(
        token,
        settings.jwt_secret,
        algorithms=[ALGORITHM],  # pinned: "none" and key-confusion tokens are refused
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub"]},
    )
    roles = body.get("roles")
    if not isinstance(roles, list) or not set(roles) <= set(KNOWN_ROLES):
        raise jwt.InvalidTokenError("unknown roles")
    pid = body.get("pid")
    return TokenClaims(
        user_id=uuid.UUID(body["sub"]),
        participant_id=uuid.UUID(pid) if pid else None,
        roles=frozenset(roles),
    )
