"""HTTP: the Stripe webhook (signature-verified inbox)."""

from __future__ import annotations

from typing import Annotated

import stripe
from fastapi import APIRouter, Header, Request

from market.db.session import Session
from market.errors import InvalidInput, problem_responses
from market.payments.service import handle_stripe_event
from market.payments.stripe_provider import verify_webhook

router = APIRouter(prefix="/v1/payments", tags=["payments"])


class BadSignature(InvalidInput):
    code, title, status = "bad-webhook-signature", "Webhook signature invalid", 400


@router.post(
    "/stripe/webhook",
    summary="Stripe events (signature-verified, each applied once)",
    responses=problem_responses(BadSignature),
)
async def stripe_webhook(
    request: Request,
    session: Session,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> dict[str, str]:
    payload = await request.body()
    secret = request.app.state.settings.stripe_webhook_secret
    try:
        event = verify_webhook(payload, stripe_signature, secret)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise BadSignature(
            "the Stripe-Signature header does not verify; nothing was changed",
            fields=[("header.Stripe-Signature", "invalid or missing")],
        ) from exc
    return {"outcome": await handle_stripe_event(session, event)}
