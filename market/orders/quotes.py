"""Quotes: listed product + quantity + purpose + scenario -> an itemised, sealed, expiring quote,
priced at the plan and guided entry in force now, after the trade rules run; and the quote an
order pays: exactly what was quoted, not expired, not altered."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market import keyring
from market.allocation import service as allocation
from market.audit.canonical import canonical_json
from market.audit.log import record
from market.auth.principal import Principal
from market.catalog import price_catalogue, products
from market.catalog.models import Product
from market.common.clock import now
from market.db.detached import added
from market.errors import Conflict, Forbidden, InvalidInput, MarketError, NotFound
from market.orders import repository, windows
from market.orders.gate import pass_trade_gate
from market.orders.models import Quote
from market.orders.schemas import QuoteCreate
from market.orders.states import QUOTES, QuoteStatus
from market.participants import verification
from market.settings import Settings
from pricing import BuyerFacts, PricingError, quote


class QuoteExpired(MarketError):
    code, title, status = "quote-expired", "Quote expired", 409


class QuoteAltered(MarketError):
    code, title, status = "quote-altered", "Quote altered", 409


def quote_digest(quote_fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical form of everything that prices the trade."""
    return hashlib.sha256(canonical_json(quote_fields)).hexdigest()


def digest_fields(quote: Quote) -> dict[str, Any]:
    return {
        "product_id": str(quote.product_id),
        "buyer_id": str(quote.buyer_id),
        "quantity": quote.quantity,
        "purpose": quote.purpose,
        "scenario": quote.scenario,
        "cross_border": quote.cross_border,
        "body": quote.body,
        "total_minor": quote.total_minor,
        "currency": quote.currency,
        "plan_version": quote.plan_version,
        "price_entry_key": quote.price_entry_key,
        "price_entry_version": quote.price_entry_version,
        "issued_at": quote.issued_at,
        "expires_at": quote.expires_at,
        "window": [quote.window_scope, quote.window_key, quote.window_prior_units, quote.window_units],
    }


def seal(settings: Settings, quote: Quote) -> None:
    """The digest (SHA-256, shown to the buyer and in the audit log) and the seal: an HMAC of the
    digest under the quote-seal key, which the database does not hold, so a quote rewritten and
    its digest recomputed there is still refused at order (issue 18, finding 6)."""
    quote.digest = quote_digest(digest_fields(quote))
    quote.seal_key_id, quote.seal = keyring.sign(settings, keyring.QUOTE_SEALS, quote.digest.encode())


def _sealed(settings: Settings, quote: Quote) -> bool:
    if not quote.seal or not quote.seal_key_id:
        return False
    if not hmac.compare_digest(quote.digest, quote_digest(digest_fields(quote))):
        return False
    return keyring.verify(settings, keyring.QUOTE_SEALS, quote.seal_key_id, quote.digest.encode(), quote.seal)


@dataclass(frozen=True)
class Payable:
    """A quote that may be ordered now, row-locked, with its product (read together: one round
    trip) and whether the quote was ordered already."""

    quote: Quote
    product: Product
    already_ordered: bool


async def load_payable_quote(
    session: AsyncSession, settings: Settings, quote_id: uuid.UUID, buyer_id: uuid.UUID | None, at: datetime
) -> Payable:
    found = await repository.quote_for_order(session, quote_id)
    if found is None or found[0].buyer_id != buyer_id:
        raise NotFound("quote not found", fields=[("body.quote_id", "no such quote of yours")])
    quote = found[0]
    if not _sealed(settings, quote):
        raise QuoteAltered(
            "the stored quote no longer matches its digest; ask for a new quote",
            fields=[("body.quote_id", "altered after issue")],
        )
    if at >= quote.expires_at:
        raise QuoteExpired(
            "the quote has expired; ask for a new quote",
            fields=[("body.quote_id", f"expired at {quote.expires_at.isoformat()}")],
        )
    return Payable(quote, found[1], found[2])


async def issue_quote(
    session: AsyncSession, settings: Settings, principal: Principal, data: QuoteCreate
) -> Quote:
    """The stored quote. A refusal of the trade rules raises `ComplianceDenied`, keeping the
    decision and its audit entry (no quote exists)."""
    if principal.participant_id is None:
        await verification.ensure_caller_verified(session, principal, "buy")
        raise Forbidden("quotes are for participants")
    # The first read (the caller's credential is checked with it), then the refusals in turn.
    found, returning, facts = await repository.product_for_quote(
        session, data.product_id, principal.participant_id, now()
    )
    await verification.ensure_caller_verified(session, principal, "buy")
    product = products.visible_product(principal, found)
    if product.listing_status != "listed":
        why = f": {product.listing_reason}" if product.listing_reason else ""
        raise Conflict(
            f"the product is {product.listing_status}, not listed{why}",
            code="product-not-listed",
            fields=[("body.product_id", "not listed")],
        )
    if product.seller_id == principal.participant_id:
        raise InvalidInput("you cannot buy your own product", fields=[("body.product_id", "own product")])
    if data.scenario not in product.scenarios:
        raise InvalidInput(
            "no declared scenario, no trade (无场景不交易)",
            fields=[("body.scenario", f"not one of {product.scenarios}")],
        )
    if data.lottery_won:
        # Art. 70: a random-allocation result comes from the exchange's published draw (the
        # pricing core takes only a verified pricing.AllocationWin), never from the buyer.
        raise InvalidInput(
            "a random-allocation result comes from the exchange's published draw, not from the buyer",
            fields=[("body.lottery_won", "set by the exchange's draw, not by the buyer (Art. 70)")],
        )
    issued = now()
    # Stored (with the decision and the audit entries) only if the trade rules allow it, so a
    # refused quote never exists; the id is ours, so nothing is written before then.
    quote_row = Quote(
        id=uuid.uuid4(),
        product_id=product.id,
        buyer_id=principal.participant_id,
        quantity=str(data.quantity),
        purpose=data.purpose,
        scenario=data.scenario,
        cross_border=data.cross_border,
        body={},
        total_minor=0,
        currency=product.currency,
        digest="",
        plan_version=product.plan_version,
        issued_at=issued,
        expires_at=issued + timedelta(seconds=settings.quote_ttl_seconds),
        status=QuoteStatus.OPEN,
        created_at=issued,
        updated_at=issued,
    )
    decision = await pass_trade_gate(
        session,
        actor=principal.actor,
        buyer_id=principal.participant_id,
        product=product,
        purpose=data.purpose,
        scenario=data.scenario,
        cross_border=data.cross_border,
        decided_for=("quote", str(quote_row.id)),
        refused=("quote.refused_by_compliance", "product", str(product.id)),
        found=facts,
    )
    entry = (
        await price_catalogue.guided_entry_at(session, product.price_catalogue_class, issued)
        if product.price_catalogue_class
        else None
    )
    try:
        plan = products.stored_plan(product.price_plan)
        # Units are priced after the buyer's units already counted in the window (issue 20).
        window = await windows.pricing_window(session, product, plan, entry, principal.participant_id, issued)
        priced = quote(
            plan,
            entry,
            BuyerFacts(
                purpose=data.purpose,
                quantity=data.quantity,
                is_new_customer=not returning,
                prior_units=window.prior_units if window else 0,
                # Art. 70: only the exchange's revealed draw, for the authenticated buyer.
                allocation_win=await allocation.win_for(session, product, principal.participant_id),
                at=issued,
            ),
            validity=timedelta(seconds=settings.quote_ttl_seconds),
        )
    except PricingError as exc:
        raise InvalidInput(str(exc), fields=[(f"body.{exc.field}", exc.reason)]) from exc
    if window is not None and priced.window is not None:
        quote_row.window_scope, quote_row.window_key = window.scope, priced.window.key
        quote_row.window_prior_units, quote_row.window_units = priced.window.prior_units, priced.window.units
    quote_row.body = priced.model_dump(mode="json")
    quote_row.total_minor = priced.total_minor
    quote_row.currency = priced.currency
    quote_row.price_entry_key = priced.entry_key
    quote_row.price_entry_version = priced.entry_version
    quote_row.compliance_outcome = decision.outcome
    seal(settings, quote_row)
    added(session, quote_row)
    await record(
        session,
        actor=principal.actor,
        action="quote.issued",
        subject_type="quote",
        subject_id=quote_row.id,
        payload={
            "product_id": str(product.id),
            "total_minor": priced.total_minor,
            "currency": priced.currency,
            "digest": quote_row.digest,
            "plan_version": priced.plan_version,
            "entry": priced.entry_key,
            "entry_version": priced.entry_version,
            "compliance": decision.outcome,
            "discounts": list(priced.discount_codes),
            "window": priced.window.model_dump(mode="json") if priced.window else None,
        },
    )
    return quote_row


EXPIRY_BATCH = 500


async def expire_due(session: AsyncSession) -> int:
    """Expire up to EXPIRY_BATCH open quotes whose time has passed, each with its audit entry;
    rows another transaction holds (an order being placed) are skipped and left for later."""
    due = await repository.quotes_to_expire(
        session, now(), QUOTES.sources_of(QuoteStatus.EXPIRED), EXPIRY_BATCH
    )
    for expiring in due:
        QUOTES.check(expiring.status, QuoteStatus.EXPIRED)
        expiring.status = QuoteStatus.EXPIRED
        await record(
            session,
            actor="system",
            action="quote.expired",
            subject_type="quote",
            subject_id=expiring.id,
            payload={"expires_at": expiring.expires_at},
        )
    return len(due)


async def visible_quote(session: AsyncSession, principal: Principal, quote_id: uuid.UUID) -> Quote:
    """A quote for its buyer, the product's seller and operators; anyone else learns nothing."""
    found = await repository.quote_with_seller(session, quote_id)
    if found is None or not (
        principal.can_see_all() or principal.participant_id in (found[0].buyer_id, found[1])
    ):
        raise NotFound("quote not found")
    return found[0]
