"""Stripe through its official SDK: PaymentIntents and refunds, keyed by our own ids."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import stripe

from market.payments.provider import (
    PaymentProviderRefused,
    ProviderPayment,
    ProviderRefund,
    provider_unavailable,
)

log = logging.getLogger("market.payments.stripe")


@asynccontextmanager
async def stripe_errors(what: str) -> AsyncIterator[None]:
    """Stripe's errors in our terms: passing trouble is a 503 to retry, a refusal a 502.

    The SDK has already retried network errors and 409/429/5xx answers itself (with the same
    idempotency key) before anything reaches here.
    """
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        log.warning("stripe unavailable", extra={"action": what, "error": str(exc)})
        raise provider_unavailable("Stripe", what, type(exc).__name__) from exc
    except stripe.StripeError as exc:
        log.error(
            "stripe error",
            extra={"action": what, "status": exc.http_status, "code": exc.code, "error": str(exc)},
        )
        if isinstance(exc, stripe.APIError) or (exc.http_status or 0) >= 500:
            raise provider_unavailable("Stripe", what, f"HTTP {exc.http_status}") from exc
        # Stripe's message can name our configuration: the log keeps it, the client gets the code.
        raise PaymentProviderRefused(
            f"Stripe refused to {what} (HTTP {exc.http_status}, {exc.code or type(exc).__name__}); "
            "nothing was kept. It has been logged for the exchange's operators.",
            extra={"provider_code": exc.code or type(exc).__name__},
        ) from exc


class StripeProvider:
    name = "stripe"
    asks_a_third_party = True

    def __init__(self, api_key: str, http_client: stripe.HTTPClient | None = None) -> None:
        # The http_client seam is how tests talk to a fake Stripe; production uses the default.
        self.client = stripe.StripeClient(api_key, http_client=http_client, max_network_retries=2)

    async def create_payment(
        self, *, order_id: str, quote_id: str, amount_minor: int, currency: str
    ) -> ProviderPayment:
        params: Any = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "metadata": {"order_id": order_id, "quote_id": quote_id},
            "automatic_payment_methods": {"enabled": True},
        }
        # Derived from our order id: a retried order never creates a second PaymentIntent.
        async with stripe_errors("create the payment"):
            intent = await self.client.v1.payment_intents.create_async(
                params, {"idempotency_key": f"market:order:{order_id}"}
            )
        status = "succeeded" if intent.status == "succeeded" else "requires_payment"
        return ProviderPayment(reference=intent.id, status=status, client_secret=intent.client_secret)

    async def refund(self, *, payment_reference: str, refund_id: str, amount_minor: int) -> ProviderRefund:
        params: Any = {
            "payment_intent": payment_reference,
            "amount": amount_minor,
            "metadata": {"refund_id": refund_id},
        }
        # Keyed by our refund's id: asked again after a lost answer, Stripe returns the refund
        # it made instead of making a second one.
        async with stripe_errors("refund"):
            refund = await self.client.v1.refunds.create_async(
                params, {"idempotency_key": f"market:refund:{refund_id}"}
            )
        return ProviderRefund(
            reference=refund.id, status="succeeded" if refund.status == "succeeded" else "pending"
        )

    async def cancel_payment(self, *, payment_reference: str) -> None:
        # Once cancelled, the PaymentIntent's client secret (shown with the order) pays nothing.
        params: Any = {"cancellation_reason": "abandoned"}
        async with stripe_errors("cancel the payment"):
            await self.client.v1.payment_intents.cancel_async(payment_reference, params)


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> None:
    """Verify the `Stripe-Signature` header over the raw body; raises on a forgery."""
    if not signature:
        raise ValueError("missing Stripe-Signature header")
    stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, tolerance=300)
