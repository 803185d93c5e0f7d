"""Stripe through its official SDK: PaymentIntents and refunds, keyed by our own ids."""

from __future__ import annotations

from typing import Any

import stripe

from market.payments.provider import ProviderPayment, ProviderRefund


class StripeProvider:
    name = "stripe"

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
        intent = await self.client.v1.payment_intents.create_async(
            params, {"idempotency_key": f"market:order:{order_id}"}
        )
        status = "succeeded" if intent.status == "succeeded" else "requires_payment"
        return ProviderPayment(
            reference=intent.id, status=status, client_secret=intent.client_secret
        )

    async def refund(
        self, *, payment_reference: str, refund_id: str, amount_minor: int
    ) -> ProviderRefund:
        params: Any = {
            "payment_intent": payment_reference,
            "amount": amount_minor,
            "metadata": {"refund_id": refund_id},
        }
        refund = await self.client.v1.refunds.create_async(
            params, {"idempotency_key": f"market:refund:{refund_id}"}
        )
        return ProviderRefund(
            reference=refund.id, status="succeeded" if refund.status == "succeeded" else "pending"
        )


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """Verify the `Stripe-Signature` header and return the event; raises on a forgery."""
    if not signature:
        raise ValueError("missing Stripe-Signature header")
    stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, secret, tolerance=300)
    import json

    event: dict[str, Any] = json.loads(payload)
    return event
