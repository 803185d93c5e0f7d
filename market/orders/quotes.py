"""The quote an order pays: exactly what was quoted, not expired, not altered."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from market.audit.canonical import canonical_json
from market.errors import MarketError, NotFound
from market.orders.models import Quote


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
    }


def seal(quote: Quote) -> None:
    quote.digest = quote_digest(digest_fields(quote))


async def load_payable_quote(
    session: AsyncSession, quote_id: uuid.UUID, buyer_id: uuid.UUID | None, at: datetime
) -> Quote:
    quote = await session.get(Quote, quote_id)
    if quote is None or quote.buyer_id != buyer_id:
        raise NotFound("quote not found", fields=[("body.quote_id", "no such quote of yours")])
    if not hmac.compare_digest(quote.digest, quote_digest(digest_fields(quote))):
        raise QuoteAltered(
            "the stored quote no longer matches its digest; ask for a new quote",
            fields=[("body.quote_id", "altered after issue")],
        )
    if at >= quote.expires_at:
        raise QuoteExpired(
            "the quote has expired; ask for a new quote",
            fields=[("body.quote_id", f"expired at {quote.expires_at.isoformat()}")],
        )
    return quote
