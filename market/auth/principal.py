"""Who is calling: resolved from a bearer token or an API key; tenant scoping in one place."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, cast

import jwt
import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from market.auth.models import ApiKey, User
from market.auth.tokens import STAFF_ROLES, TokenClaims, decode_token
from market.db.base import utcnow
from market.db.direct import Direct, add_rider, settle_rider
from market.db.session import get_session
from market.errors import Forbidden, NotFound, Unauthenticated
from market.runtime import get_runtime

API_KEY_PREFIX = "mk"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


@dataclass(frozen=True)
class Standing:
    """The caller's participant as read with its credential, in the same query: what a use
    case would otherwise read again (issue 21: one round trip for who is calling)."""

    verification_status: str | None


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID | None
    participant_id: uuid.UUID | None
    roles: frozenset[str]
    api_key_id: uuid.UUID | None = None
    # None: not read with the credential (a use case that needs it reads it itself).
    standing: Standing | None = None
    # A bearer token whose currency is checked with the request's first read
    # (`checked_in_first_read`), not yet or already: its standing is known once it has been.
    check: CredentialCheck | None = None

    @property
    def actor(self) -> str:
        """How this caller is named in the audit log."""
        if self.api_key_id:
            return f"apikey:{self.api_key_id}"
        return f"user:{self.user_id}"

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    def can_see_all(self) -> bool:
        """Operators and auditors oversee every tenant; everyone else sees only their own."""
        return self.has("operator", "auditor")


def ensure_visible(
    principal: Principal,
    owner_ids: uuid.UUID | set[uuid.UUID | None] | None,
    what: str = "resource",
) -> None:
    """Tenant scoping: another tenant's object answers 404, exactly as a missing one would."""
    if principal.can_see_all():
        return
    owners = owner_ids if isinstance(owner_ids, set) else {owner_ids}
    if principal.participant_id is None or principal.participant_id not in owners:
        raise NotFound(f"{what} not found")


def split_api_key(raw: str) -> tuple[str, str] | None:
    parts = raw.split("_")
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    return parts[1], parts[2]


def hash_api_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def _principal_from_api_key(session: AsyncSession, raw: str, *, record_use: bool) -> Principal:
    parsed = split_api_key(raw)
    if parsed is None:
        raise Unauthenticated("malformed API key")
    prefix, secret = parsed
    key = (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar_one_or_none()
    if key is None or not hmac.compare_digest(key.secret_hash, hash_api_secret(secret)):
        raise Unauthenticated("invalid API key")
    if key.revoked_at is not None:
        raise Unauthenticated("API key revoked")
    status, _, standing = await _participant_status(session, key.participant_id)
    if status == "blacklisted":
        raise Unauthenticated("the participant of this API key is blacklisted")
    if record_use:
        # Reads never write (they may be served from a read replica): a key's last use is that
        # of its last change-making request.
        key.last_used_at = utcnow()
    return Principal(None, key.participant_id, frozenset(key.roles), api_key_id=key.id, standing=standing)


# The participants table as this layer may know it (participants sit above auth): only the
# columns that decide whether a credential still counts.
_participants = sa.table(
    "participants",
    sa.column("id", sa.Uuid()),
    sa.column("token_version", sa.Integer()),
    sa.column("credit_status", sa.String()),
    sa.column("verification_status", sa.String()),
)
# Labelled: read in one row with the user's own token version.
_PARTICIPANT_COLUMNS = (
    _participants.c.id.label("participant_id"),
    _participants.c.credit_status.label("credit_status"),
    _participants.c.token_version.label("participant_version"),
    _participants.c.verification_status.label("verification_status"),
)


# Every request's credential check, built once with its values bound as parameters and read
# directly (market.db.direct; issue 21).
_users = cast(sa.Table, User.__table__)


def _credential_reads(user_id: str, participant_id: str) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The user's token version and whether it is active; and the same with its participant's
    columns (`_PARTICIPANT_COLUMNS`). The ids are bound as the parameters named."""
    user = sa.select(_users.c.token_version, _users.c.is_active).where(_users.c.id == sa.bindparam(user_id))
    participant = _participants.c.id == sa.bindparam(participant_id)
    return user, user.add_columns(*_PARTICIPANT_COLUMNS).outerjoin(_participants, participant)


_CURRENT_USER, _CURRENT_USER_AND_PARTICIPANT = map(Direct, _credential_reads("user_id", "participant_id"))


def _standing_of(row: Sequence[Any] | None) -> tuple[str, int | None, Standing | None]:
    """(credit status, token version, standing) of a participant row (`_PARTICIPANT_COLUMNS`)
    read with the credential's own; a blacklisted participant's credentials count for nothing
    (no version)."""
    if row is None or row[0] is None:
        return "missing", None, None
    _, credit_status, version, verification_status = row
    if credit_status == "blacklisted":
        return "blacklisted", None, None
    return str(credit_status), int(version), Standing(verification_status)


async def _participant_status(
    session: AsyncSession, participant_id: uuid.UUID
) -> tuple[str, int | None, Standing | None]:
    stmt = sa.select(*_PARTICIPANT_COLUMNS).where(_participants.c.id == participant_id)
    return _standing_of((await session.execute(stmt)).tuples().one_or_none())


def _on_postgresql(session: AsyncSession) -> bool:
    engine = session.bind
    return isinstance(engine, AsyncEngine) and engine.dialect.name == "postgresql"


async def ensure_current(session: AsyncSession, claims: TokenClaims) -> Standing | None:
    """The token was issued under the user's and participant's current token versions: one
    read per request (the user and its participant together), and a raised version (logout,
    password change, blacklisting) ends every token issued before it. Returns the
    participant's standing as read."""
    stmt, params = _CURRENT_USER, {"user_id": claims.user_id}
    if claims.participant_id is not None:
        stmt, params = _CURRENT_USER_AND_PARTICIPANT, params | {"participant_id": claims.participant_id}
    # PostgreSQL, before the request's transaction: one read in no transaction (no BEGIN and
    # COMMIT round trips around it), on the connection the request's work goes on to use (one
    # checkout of the pool, not two: issue 21); the work's first statement begins the request's
    # transaction. READ COMMITTED gives a lone statement the same snapshot either way.
    found = await stmt.first(session, params, begin=session.in_transaction() or not _on_postgresql(session))
    return _judged(claims, found)


def _judged(claims: TokenClaims, found: Sequence[Any] | None) -> Standing | None:
    """The standing of a token's participant from its user's row and its participant's
    (`_CURRENT_USER_AND_PARTICIPANT`'s columns, or `_CURRENT_USER`'s with no participant), or
    Unauthenticated when the token is no longer current."""
    if found is None or not found[1] or found[0] != claims.version:
        raise Unauthenticated("this session has ended; sign in again")
    if claims.participant_id is None:
        return None
    _, version, standing = _standing_of(found[2:])
    if version is None or version != claims.participant_version:
        raise Unauthenticated("this session has ended; sign in again")
    return standing


def _as_one_column(stmt: sa.Select[Any], name: str) -> tuple[sa.ColumnElement[Any], ...]:
    """`stmt`'s one row as one JSON array column (null when it finds none), to be added to the
    first read of a request (market.db.direct.Rider)."""
    inner = stmt.subquery()
    return (sa.select(sa.func.json_build_array(*inner.c)).select_from(inner).scalar_subquery().label(name),)


# The same reads, their parameters named apart from those of the statement they ride with.
_RIDING_USER, _RIDING_USER_AND_PARTICIPANT = (
    _as_one_column(read, name)
    for read, name in zip(
        _credential_reads("credential_user_id", "credential_participant_id"),
        ("credential_user", "credential_user_and_participant"),
        strict=True,
    )
)


class CredentialCheck:
    """A bearer token's `ensure_current`, carried by the request's first read that can carry
    it (market.db.direct.Rider; issue 21: a round trip fewer for each purchase request)."""

    def __init__(self, claims: TokenClaims) -> None:
        self.claims = claims
        self.standing: Standing | None = None
        self.columns = _RIDING_USER if claims.participant_id is None else _RIDING_USER_AND_PARTICIPANT

    def params(self) -> dict[str, Any]:
        return {
            "credential_user_id": self.claims.user_id,
            "credential_participant_id": self.claims.participant_id,
        }

    def take(self, values: Sequence[Any]) -> None:
        (found,) = values  # the JSON array, or None when the user's row is gone
        # JSON gives the participant's id as a string: only whether there is one is judged.
        self.standing = _judged(self.claims, None if found is None else tuple(found))

    async def settle(self, session: AsyncSession) -> None:
        self.standing = await ensure_current(session, self.claims)


async def optional_principal(
    request: Request,
    session: Annotated[AsyncSession, Depends(get_session)],
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal | None:
    if api_key:
        return await _principal_from_api_key(
            session, api_key, record_use=request.method not in ("GET", "HEAD", "OPTIONS")
        )
    if not token:
        return None
    claims = _claims(request, token)
    standing = await ensure_current(session, claims)
    if session.in_transaction() and not _on_postgresql(session):
        # The check only read: end its transaction, so that a route which works in sessions of
        # its own (a refund asked of the provider with no transaction open) finds no lock held
        # here (SQLite takes its write lock when a transaction begins). On PostgreSQL the check
        # began no transaction and holds no lock: the session keeps its connection.
        await session.commit()
    return Principal(claims.user_id, claims.participant_id, claims.roles, standing=standing)


def _claims(request: Request, token: str) -> TokenClaims:
    try:
        return decode_token(get_runtime(request).settings, token)
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("access token expired") from exc
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise Unauthenticated(f"invalid access token: {exc}") from exc


async def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthenticated("send a bearer token or an X-API-Key header")
    return principal


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    # On `optional_principal` itself, not through `current_principal`: each level of
    # dependencies costs a resolution per request (issue 21); the caller is still read once.
    async def _dependency(
        found: Annotated[Principal | None, Depends(optional_principal)],
    ) -> Principal:
        return _require(await current_principal(found), roles)

    return _dependency


def _require(principal: Principal, roles: tuple[str, ...]) -> Principal:
    if not principal.has(*roles):
        raise Forbidden(f"requires one of the roles: {', '.join(roles)}")
    return principal


async def checked_in_first_read(request: Request, session: AsyncSession, *roles: str) -> Principal:
    """The caller, with one of `roles`, for a route whose first read carries the bearer token's
    currency check (market.db.direct.Rider: `Direct(..., carries_riders=True)`) on PostgreSQL:
    one round trip fewer (issue 21: the purchase's quote and order). Nothing is written, and no
    error is answered, before the token has been checked; an API key, and SQLite, are checked at
    once. The credentials are read here, not as dependencies of their own (each costs a
    resolution per request): such a route declares them with `openapi_extra=SIGNED_IN_OPENAPI`."""
    token, api_key = await oauth2_scheme(request), await api_key_scheme(request)
    if api_key or not token or not _on_postgresql(session):
        return _require(
            await current_principal(await optional_principal(request, session, token, api_key)), roles
        )
    claims = _claims(request, token)
    check = CredentialCheck(claims)
    add_rider(session, check)
    principal = Principal(claims.user_id, claims.participant_id, claims.roles, check=check)
    if not principal.has(*roles):
        await settle_rider(session)  # an ended session is told so (401) before a missing role
    return _require(principal, roles)


# What the OpenAPI document says of a route that reads its caller's credentials itself: either
# scheme, as FastAPI writes it for a route that takes them as dependencies.
SIGNED_IN_OPENAPI: dict[str, Any] = {
    "security": [{oauth2_scheme.scheme_name: []}, {api_key_scheme.scheme_name: []}]
}


async def standing_of(session: AsyncSession, principal: Principal) -> Standing | None:
    """The caller's participant's standing as read with its credential (checked now, if its
    first read has not carried the check yet); None when it was not read with it."""
    if principal.check is None:
        return principal.standing
    await settle_rider(session)  # nothing to do once a read has carried it
    return principal.check.standing


Authenticated = Annotated[Principal, Depends(current_principal)]
MaybeAuthenticated = Annotated[Principal | None, Depends(optional_principal)]
Operator = Annotated[Principal, Depends(require_roles("operator"))]
Auditor = Annotated[Principal, Depends(require_roles("operator", "auditor"))]
PriceAuthority = Annotated[Principal, Depends(require_roles("price_authority"))]
Seller = Annotated[Principal, Depends(require_roles("seller"))]
Buyer = Annotated[Principal, Depends(require_roles("buyer"))]


async def principal_before_body(
    request: Request,
    sessionmaker: async_sessionmaker[AsyncSession],
    token: str | None,
    api_key: str | None,
    role: str,
) -> Principal:
    """Who calls a route that reads its body itself (an upload), with `role`: found in a
    transaction of its own that ends before the first byte is read, so no connection waits on
    the client's pace (issue 18, finding 2)."""
    async with sessionmaker() as session, session.begin():
        principal = await optional_principal(request, session, token, api_key)
    if principal is None:
        raise Unauthenticated("send a bearer token or an X-API-Key header")
    if not principal.has(role):
        raise Forbidden(f"requires one of the roles: {role}")
    return principal
