"""Delivery: on payment a licence (contracts/) and an entitlement; metered use; revocation.

A licence is only as good as the rights under it: every read re-checks the operating right's
chain, so a revoked upstream grant stops delivery at once without rewriting licences.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts import ContractError, Licence, derive_licence
from market import keyring
from market.audit.log import record
from market.audit.queries import register_party_check
from market.auth.principal import Principal, hash_api_secret
from market.catalog import products
from market.common.clock import now
from market.db.detached import added
from market.delivery import repository
from market.delivery.models import Entitlement, LicenceRow, UsageRecord
from market.delivery.quota import bought_calls, period_index, quota_period
from market.delivery.states import LicenceStatus
from market.errors import MarketError, NotFound, Unauthenticated
from market.orders import service as orders
from market.orders.models import Order
from market.revisions import service as revisions
from market.rights import tree_reads
from market.rights.models import RightGrantRow
from market.rights.validity import (
    chain_validity,
    chain_validity_among,
    operating_right_among,
    to_contract_grant,
)
from market.settings import Settings

CREDENTIAL_PREFIX = "dk"
DOWNLOAD_TOKEN_TTL = timedelta(minutes=10)


class DeliveryRevoked(MarketError):
    code, title, status = "delivery-revoked", "Licence no longer valid", 410


class QuotaExceeded(MarketError):
    code, title, status = "quota-exceeded", "Call quota exceeded", 429


async def deliver(session: AsyncSession, order: Order, *, actor: str) -> LicenceRow | None:
    """Issue the licence and entitlement for a paid order (once)."""
    if order.licence_id is not None:
        return await repository.licence(session, order.licence_id)
    product, resource_ids, grants = await products.with_rights_trees(session, order.product_id)
    if (noted := tree_reads.noted_operating(session, order.product_id, order.seller_id, grants)) is not None:
        # The trade gate found it among these very trees in this transaction, moments ago.
        (found,) = noted
    else:
        found = operating_right_among(
            grants,
            holder_id=order.seller_id,
            product_id=order.product_id,
            resource_ids=resource_ids,
            at=now(),
        )
    try:
        if found is None:
            raise ContractError(
                "no_operating_right",
                "operating_grant",
                "the seller holds no operating right for this product (Art. 22)",
            )
        grant_row, validity = found
        # The trees may have been read before a revocation committed: checked again as written.
        tree_reads.unrevoked_with_writes(session, validity)
        template = products.stored_template(product.licence_template)
        bought = bought_calls(product.price_plan, order.quantity) if product.delivery_mode == "api" else None
        if bought is not None:  # the quota is what was bought (market.delivery.quota)
            template = template.model_copy(update={"quota": bought})
        licence = derive_licence(
            template,
            to_contract_grant(grant_row),
            validity,
            str(order.buyer_id),
            str(order.product_id),
            order.purpose,
            order.scenario,
            now(),
            licence_id=str(uuid.uuid4()),
        )
    except ContractError as exc:
        orders.note_delivery_blocked(order, str(exc))
        await record(
            session,
            actor=actor,
            action="delivery.blocked",
            subject_type="order",
            subject_id=order.id,
            payload={"reason": str(exc)},
        )
        return None
    row = LicenceRow(
        id=uuid.UUID(licence.licence_id),
        order_id=order.id,
        product_id=order.product_id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        operating_grant_id=grant_row.id,
        terms=licence.model_dump(mode="json"),
        status=LicenceStatus.ACTIVE,
        valid_from=licence.valid_from,
        valid_to=licence.valid_to,
        created_at=now(),
    )
    added(session, row)
    session.info.setdefault(_ISSUED, {})[row.id] = row  # see first_delivery
    await orders.mark_delivered(
        session,
        order,
        row.id,
        term_ends=licence.valid_to,
        actor=actor,
        payload={
            "licence_id": str(row.id),
            "operating_grant_id": str(grant_row.id),
            "purposes": sorted(p.value for p in licence.purposes),
            "scenario": licence.scenario,
            "valid_to": licence.valid_to,
            "quota": licence.quota,
            "territory": licence.territory.value,
            "chain": list(licence.chain),
        },
    )
    # Written with the transaction's next flush, after the licence (`Entitlement.licence`).
    added(
        session,
        Entitlement(
            licence_id=row.id,
            delivery_mode=product.delivery_mode,
            call_quota=licence.quota if product.delivery_mode == "api" else None,
            quota_period=quota_period(product.price_plan) if product.delivery_mode == "api" else None,
            calls_used=0,  # set now: a first delivery in this transaction reads it unwritten
            credential_revealed=False,
        ),
    )
    if product.delivery_mode == "file":  # a one-off purchase gets the revisions current now
        await revisions.record_purchase(session, row.id, resource_ids)
    return row


async def current_licences(session: AsyncSession, product_ids: list[uuid.UUID]) -> list[LicenceRow]:
    """The licences of these products that can still be used: their holders are the current
    licensees (expired and revoked licences are not)."""
    return await repository.active_licences(session, product_ids, now())


async def find_licence(session: AsyncSession, licence_id: uuid.UUID) -> LicenceRow | None:
    return await repository.licence(session, licence_id)


def _visible(principal: Principal, licence: LicenceRow | None) -> LicenceRow:
    if licence is None or (
        not principal.can_see_all() and principal.participant_id not in (licence.buyer_id, licence.seller_id)
    ):
        raise NotFound("licence not found")
    return licence


async def visible_licence(session: AsyncSession, principal: Principal, licence_id: uuid.UUID) -> LicenceRow:
    return _visible(principal, await repository.licence(session, licence_id))


async def visible_licence_with_tree(
    session: AsyncSession, principal: Principal, licence_id: uuid.UUID
) -> tuple[LicenceRow, list[RightGrantRow]]:
    """`visible_licence` and, read in the same query, every grant in the tree of its operating
    right (what `licence_status` needs)."""
    licence, tree = await repository.licence_with_tree(session, licence_id)
    return _visible(principal, licence), tree


async def licence_status(
    session: AsyncSession, licence: LicenceRow, tree: list[RightGrantRow] | None = None
) -> tuple[bool, str]:
    """Whether the licence can be used now, and why not (`tree`: the grants of its operating
    right's tree, when already read)."""
    if licence.status == LicenceStatus.REVOKED:
        return False, f"revoked: {licence.revocation_reason}"
    at = now()
    if at >= licence.valid_to:
        return False, "expired"
    validity = (
        chain_validity_among(tree, licence.operating_grant_id, at)
        if tree is not None
        else await chain_validity(session, licence.operating_grant_id, at)
    )
    if not validity.valid:
        return False, f"upstream right no longer valid: {validity.message or validity.reason}"
    return True, "active"


def download_token(settings: Settings, licence_id: uuid.UUID, expires: int) -> str:
    """`<licence>.<expiry>.<key id>.<HMAC>` under the signed-URL key (its own, derived from the
    root secret; the key id lets a token made before a rotation still verify)."""
    body = f"{licence_id}.{expires}"
    kid, mac = keyring.sign(settings, keyring.SIGNED_URLS, f"download:{body}".encode())
    return f"{body}.{kid}.{mac}"


def check_download_token(settings: Settings, token: str) -> uuid.UUID:
    try:
        licence_id, expires, kid, mac = token.rsplit(".", 3)
        body = f"{uuid.UUID(licence_id)}.{int(expires)}"
        valid = keyring.verify(settings, keyring.SIGNED_URLS, kid, f"download:{body}".encode(), mac)
    except ValueError as exc:
        raise Unauthenticated("malformed download token") from exc
    if not valid:
        raise Unauthenticated("invalid download token")
    if int(expires) < int(now().timestamp()):
        raise Unauthenticated("download token expired")
    return uuid.UUID(licence_id)


async def delivery_for_buyer(
    session: AsyncSession, settings: Settings, principal: Principal, licence_id: uuid.UUID
) -> dict[str, Any]:
    licence = await visible_licence(session, principal, licence_id)
    if principal.participant_id != licence.buyer_id:
        raise NotFound("licence not found")
    usable, why = await licence_status(session, licence)
    if not usable:
        raise DeliveryRevoked(f"this licence cannot be used: {why}")
    entitlement = await repository.entitlement(session, licence.id, lock=True)
    assert entitlement is not None, "every licence has its entitlement"
    return await _delivery(session, settings, principal, licence, entitlement)


async def first_delivery(
    session: AsyncSession, settings: Settings, principal: Principal, licence_id: uuid.UUID
) -> dict[str, Any]:
    """The delivery of a licence issued in this transaction to its buyer (an order paid from a
    balance): the licence and its entitlement are the ones just made, so nothing is read back
    and the credential is written with the entitlement."""
    licence = session.info.get(_ISSUED, {}).get(licence_id)
    made = [e for e in session.new if isinstance(e, Entitlement) and e.licence_id == licence_id]
    if licence is None or not made or principal.participant_id != licence.buyer_id:
        return await delivery_for_buyer(session, settings, principal, licence_id)
    return await _delivery(session, settings, principal, licence, made[0])


_ISSUED = "market.delivery.issued"  # the licences issued in a session's transaction, by id


async def _delivery(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    licence: LicenceRow,
    entitlement: Entitlement,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "licence_id": str(licence.id),
        "delivery_mode": entitlement.delivery_mode,
        "valid_to": licence.valid_to,
    }
    if entitlement.delivery_mode == "file":
        expires = int((now() + DOWNLOAD_TOKEN_TTL).timestamp())
        out["download_token"] = download_token(settings, licence.id, expires)
        out["download_token_expires_at"] = expires
        action = "delivery.token_issued"
    else:
        if not entitlement.credential_revealed:
            prefix, secret = secrets.token_hex(8), secrets.token_urlsafe(32).replace("_", "-")
            entitlement.credential_prefix = prefix
            entitlement.credential_hash = hash_api_secret(secret)
            entitlement.credential_revealed = True
            out["access_credential"] = f"{CREDENTIAL_PREFIX}_{prefix}_{secret}"
        out["credential_prefix"] = entitlement.credential_prefix
        out["call_quota"] = entitlement.call_quota
        out["calls_used"] = entitlement.calls_used
        out["calls_remaining"] = (
            # A quota narrowed by a partial refund can fall below what was already used.
            None
            if entitlement.call_quota is None
            else max(0, entitlement.call_quota - entitlement.calls_used)
        )
        out["quota_period"] = entitlement.quota_period
        action = "delivery.credential_issued" if "access_credential" in out else "delivery.read"
    await record(
        session,
        actor=principal.actor,
        action=action,
        subject_type="licence",
        subject_id=licence.id,
        payload={"mode": entitlement.delivery_mode},
    )
    return out


@dataclass(frozen=True)
class UsageReporter:
    """Who reports usage of which licence, checked, with the licence's entitlement row-locked."""

    entitlement: Entitlement
    licence: LicenceRow
    actor: str


async def usage_reporter(
    session: AsyncSession,
    licence_id: uuid.UUID,
    *,
    credential: str | None,
    principal: Principal | None,
) -> UsageReporter:
    """The licence's own delivery credential, or its seller; anyone else learns nothing (404)."""
    entitlement = await repository.entitlement(session, licence_id, lock=True)
    licence = await repository.licence(session, licence_id)
    if entitlement is None or licence is None:
        raise NotFound("licence not found")
    if credential:
        parts = credential.split("_")
        if (
            len(parts) != 3
            or parts[0] != CREDENTIAL_PREFIX
            or parts[1] != entitlement.credential_prefix
            or not hmac.compare_digest(entitlement.credential_hash or "", hash_api_secret(parts[2]))
        ):
            raise NotFound("licence not found")  # a credential for another licence learns nothing
        reporter = f"credential:{entitlement.credential_prefix}"
    elif principal is not None and principal.participant_id == licence.seller_id:
        reporter = principal.actor
    else:
        raise NotFound("licence not found")
    return UsageReporter(entitlement, licence, reporter)


async def record_usage(session: AsyncSession, reporter: UsageReporter, calls: int) -> Entitlement:
    """Meter calls reported by the delivery gateway; refuses over quota and a revoked licence."""
    entitlement, licence = reporter.entitlement, reporter.licence
    usable, why = await licence_status(session, licence)
    if not usable:
        raise DeliveryRevoked(f"usage refused: {why}")
    # Calls the gateway holds in reserve are spoken for (market.gateway.meter).
    held = entitlement.calls_used + entitlement.calls_reserved
    if entitlement.call_quota is not None and held + calls > entitlement.call_quota:
        raise QuotaExceeded(
            f"{calls} calls would exceed the quota ({entitlement.calls_used} of "
            f"{entitlement.call_quota} used, {entitlement.calls_reserved} reserved by the gateway)",
            fields=[("body.calls", "over quota")],
        )
    entitlement.calls_used += calls
    session.add(
        UsageRecord(entitlement_id=entitlement.id, calls=calls, reported_by=reporter.actor, recorded_at=now())
    )
    await record(
        session,
        actor=reporter.actor,
        action="usage.recorded",
        subject_type="licence",
        subject_id=licence.id,
        payload={
            "calls": calls,
            "calls_used": entitlement.calls_used,
            "quota": entitlement.call_quota,
        },
    )
    return entitlement


@dataclass(frozen=True)
class ApiAccess:
    """What a delivery credential opens: its licence, whether that can be used now, and its
    entitlement's quota terms (for the gateway, market.gateway)."""

    licence: LicenceRow
    entitlement_id: uuid.UUID
    call_quota: int | None
    quota_period: str | None
    usable: bool
    why: str

    def period(self, at: datetime) -> int:
        return period_index(self.quota_period, self.licence.valid_from, at)


async def api_access(session: AsyncSession, credential: str) -> ApiAccess | None:
    """The licence this `dk_…` credential was issued for (None: no such credential)."""
    parts = credential.split("_")
    if len(parts) != 3 or parts[0] != CREDENTIAL_PREFIX:
        return None
    entitlement = await repository.entitlement_by_credential_prefix(session, parts[1])
    if entitlement is None or not hmac.compare_digest(
        entitlement.credential_hash or "", hash_api_secret(parts[2])
    ):
        return None
    licence, tree = await repository.licence_with_tree(session, entitlement.licence_id)
    assert licence is not None, "every entitlement has its licence"
    usable, why = await licence_status(session, licence, tree)
    return ApiAccess(licence, entitlement.id, entitlement.call_quota, entitlement.quota_period, usable, why)


@dataclass(frozen=True)
class Quota:
    call_quota: int | None  # per period for a subscription
    calls_used: int  # in the current period (as last counted)
    quota_period: str | None


async def quota_of(session: AsyncSession, licence_id: uuid.UUID) -> Quota:
    entitlement = await repository.entitlement(session, licence_id)
    if entitlement is None:
        return Quota(None, 0, None)
    return Quota(entitlement.call_quota, entitlement.calls_used, entitlement.quota_period)


async def reserve_calls(
    session: AsyncSession, entitlement_id: uuid.UUID, period: int, *, at_most: int, share: int = 8
) -> int:
    """Reserve calls of `period` for one gateway process: at most `at_most` and at most a
    `share`-th of what is left (at least 1), so near the end blocks shrink and processes share
    the rest; 0 when none is left. The caller counts them with `settle_calls`."""
    if period > 0:
        await repository.start_period(session, entitlement_id, period)
    while True:
        free = await repository.free_calls(session, entitlement_id, period)
        if free is None:
            return at_most  # no quota: nothing to reserve against
        if free == 0:
            return 0
        block = min(at_most, max(1, free // share))
        if await repository.reserve(session, entitlement_id, period, block):
            return block
        # Another process reserved in between: read what is left and try a smaller block.


async def settle_calls(
    session: AsyncSession, entitlement_id: uuid.UUID, period: int, *, used: int, released: int, reserved: bool
) -> None:
    """Count `used` calls and give back `released` unused reserved ones (`reserved`: the calls
    came from a reservation; without a quota there is none)."""
    await repository.settle(session, entitlement_id, period, used=used, released=released, reserved=reserved)


def licence_terms(licence: LicenceRow) -> Licence:
    return Licence.model_validate(licence.terms)


async def _party_to_licence(session: AsyncSession, participant_id: uuid.UUID, licence_id: uuid.UUID) -> bool:
    licence = await repository.licence(session, licence_id)
    return licence is not None and participant_id in (licence.buyer_id, licence.seller_id)


register_party_check("licence", _party_to_licence)
