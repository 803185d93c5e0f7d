"""JWT access tokens: HS256 pinned, issuer, audience and expiry verified strictly.

Signed with the access-token key derived from the root secret (`market.keyring`), named by its
key id in the `kid` header, so a rotated root still verifies the tokens made before it. Each
token carries its user's and participant's token versions (`ver`, `pver`), which every request
compares with the database's: raising a version (logout, a password change, blacklisting)
ends every token issued before, at once."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from market.keyring import ACCESS_TOKENS, accepted_keys, current_key
from market.settings import Settings

ALGORITHM = "HS256"
KNOWN_ROLES = ("seller", "buyer", "operator", "auditor", "price_authority")
STAFF_ROLES = frozenset({"operator", "auditor", "price_authority"})


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    participant_id: uuid.UUID | None
    roles: frozenset[str]
    version: int = 0
    participant_version: int = 0


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
        "ver": claims.version,
        "pver": claims.participant_version,
    }
    kid, key = current_key(settings, ACCESS_TOKENS)
    return jwt.encode(body, key, algorithm=ALGORITHM, headers={"kid": kid})


@dataclass(frozen=True)
class _Verified:
    """A token that verified, and what its reuse must still hold to."""

    kid: str
    key: bytes
    audience: str
    issuer: str
    not_before: float  # the later of nbf and iat
    expires: float
    claims: TokenClaims

    def still_good(self, settings: Settings, now: float) -> bool:
        return (
            self.not_before <= now < self.expires
            and self.audience == settings.jwt_audience
            and self.issuer == settings.jwt_issuer
            and accepted_keys(settings, ACCESS_TOKENS).get(self.kid) == self.key
        )


# Tokens verified before, by the token itself: a client sends the same one with every request
# until it expires, and verifying it again costs more than the rest of a cheap request (issue
# 21). A token's text is its signature, so a hit is that very token, verified under a key still
# accepted for the same audience and issuer; its times are checked again at every use.
_VERIFIED: dict[str, _Verified] = {}
_VERIFIED_MAX = 10_000


def decode_token(settings: Settings, token: str) -> TokenClaims:
    """Raises `jwt.InvalidTokenError` on anything short of a perfect token."""
    if (seen := _VERIFIED.get(token)) is not None and seen.still_good(settings, time.time()):
        return seen.claims
    claims, verified = _verify(settings, token)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        del _VERIFIED[next(iter(_VERIFIED))]  # the oldest
    _VERIFIED[token] = verified
    return claims


def _verify(settings: Settings, token: str) -> tuple[TokenClaims, _Verified]:
    kid = jwt.get_unverified_header(token).get("kid")
    if not isinstance(kid, str) or (key := accepted_keys(settings, ACCESS_TOKENS).get(kid)) is None:
        raise jwt.InvalidTokenError("unknown signing key")
    body = jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],  # pinned: "none" and key-confusion tokens are refused
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "ver", "pver"]},
    )
    roles = body.get("roles")
    if not isinstance(roles, list) or not set(roles) <= set(KNOWN_ROLES):
        raise jwt.InvalidTokenError("unknown roles")
    pid = body.get("pid")
    versions = body.get("ver"), body.get("pver")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in versions):
        raise jwt.InvalidTokenError("token versions are not integers")
    claims = TokenClaims(
        user_id=uuid.UUID(body["sub"]),
        participant_id=uuid.UUID(pid) if pid else None,
        roles=frozenset(roles),
        version=int(body["ver"]),
        participant_version=int(body["pver"]),
    )
    times = float(max(body["nbf"], body["iat"])), float(body["exp"])
    return claims, _Verified(kid, key, settings.jwt_audience, settings.jwt_issuer, *times, claims)
