"""HTTP: placing an order (and starting its payment), operators' reviews, confirmations and
refunds, accepting delivery, an order's ledger, and the Stripe webhook (a signature-verified
inbox)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Annotated, Any

import stripe
from fastapi import APIRouter, Header, Request, status

from market.auth.principal import SIGNED_IN_OPENAPI, Authenticated, Operator
from market.compliance.service import ComplianceDenied
from market.db.session import Session
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, problem_responses
from market.idempotency.service import (
    REQUIRED_KEY_OPENAPI,
    IdempotencyKeyRequired,
    RequiredIdempotencyKey,
    idempotent,
)
from market.orders import buyer_call
from market.orders import service as orders
from market.orders.endpoints import order_out, order_out_as
from market.orders.quotes import QuoteAltered, QuoteExpired
from market.orders.schemas import OrderCreate, OrderOut, ReviewDecision
from market.payments import arrival, checkout, escrow, ledger, operator_refunds, refunds
from market.payments.accounts.service import InsufficientBalance, PrepaidNotEnabled
from market.payments.provider import (
    PAYMENT_PROVIDER,
    PaymentProvider,
    PaymentProviderRefused,
    PaymentProviderUnavailable,
)
from market.payments.schemas import (
    LedgerLineOut,
    LedgerOut,
    OrderPlace,
    PlacedOrderOut,
    RefundCreate,
    RefundOut,
)
from market.payments.stripe_provider import verify_webhook
from market.payments.webhooks import MalformedWebhook, handle_stripe_event, parse_event
from market.runtime import AppSettings, SessionMaker, port

router = APIRouter(prefix="/v1", tags=["orders"])
Provider = Annotated[PaymentProvider, port(PAYMENT_PROVIDER)]


class BadSignature(InvalidInput):
    code, title, status = "bad-webhook-signature", "Webhook signature invalid", 400


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    response_model=PlacedOrderOut,
    summary="Order from a stored, unexpired quote; compliance is re-checked now",
    openapi_extra=SIGNED_IN_OPENAPI | REQUIRED_KEY_OPENAPI,
    responses=problem_responses(
        InsufficientBalance,
        PrepaidNotEnabled,
        NotFound,
        Conflict,
        Forbidden,
        ComplianceDenied,
        QuoteExpired,
        QuoteAltered,
        IdempotencyKeyRequired,
        PaymentProviderUnavailable,
        PaymentProviderRefused,
    ),
)
async def create_order(data: OrderPlace, buyer: buyer_call.Buyer) -> Any:
    if (idempotency_key := buyer.idempotency_key) is None:
        raise IdempotencyKeyRequired("orders")
    session, principal, settings = buyer.session, buyer.principal, buyer.runtime.settings
    provider = buyer.runtime.port(PAYMENT_PROVIDER)
    # The fingerprint of an order paid through the provider is what it always was.
    body = data if data.payment_method == "account" else OrderCreate(quote_id=data.quote_id)
    call = idempotent(session, principal.actor, idempotency_key, "orders.create", body, optimistic=True)
    from_balance = data.payment_method == "account"
    async with call.answering():
        order = await checkout.place_order(
            session, settings, provider, principal, data.quote_id, from_balance=from_balance
        )
    out = await order_out_as(session, order, PlacedOrderOut)
    if (
        not from_balance
        or (shown := await checkout.delivery_now(session, settings, principal, order)) is None
    ):
        return await call.remember(out)
    out.delivery = shown
    # The credential is shown once: a replay shows its prefix, never the secret.
    kept = {k: v for k, v in shown.items() if k != "access_credential"}
    await call.remember(out.model_copy(update={"delivery": kept}))
    return out


@router.post(
    "/orders/{order_id}/review",
    response_model=OrderOut,
    summary="Operator decision on an order parked for compliance review",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def review(
    order_id: uuid.UUID,
    data: ReviewDecision,
    settings: AppSettings,
    provider: Provider,
    session: Session,
    principal: Operator,
) -> OrderOut:
    order = await checkout.review_order(
        session, settings, provider, principal, order_id, approve=data.approve, reason=data.reason
    )
    return await order_out(session, order)


@router.post(
    "/orders/{order_id}/refund",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    summary="Refund all or part of a paid order (operators); needs an Idempotency-Key",
    openapi_extra=REQUIRED_KEY_OPENAPI,
    responses=problem_responses(
        NotFound,
        Conflict,
        Forbidden,
        IdempotencyKeyRequired,
        PaymentProviderUnavailable,
        PaymentProviderRefused,
    ),
)
async def refund(
    order_id: uuid.UUID,
    data: RefundCreate,
    sessionmaker: SessionMaker,
    provider: Provider,
    principal: Authenticated,
    idempotency_key: RequiredIdempotencyKey = None,
) -> Any:
    # Decided in one transaction, asked of the provider with no transaction open, booked in a
    # third: a provider that is slow or down never holds a lock (see market.payments.refunds).
    async with sessionmaker() as session, session.begin():
        call = idempotent(session, principal.actor, idempotency_key, "orders.refund", data, order_id=order_id)
        if replayed := await call.replay():
            return replayed
        refund_id = await operator_refunds.decide_refund(
            session,
            principal,
            order_id,
            amount_minor=data.amount_minor,
            reason=data.reason,
            idempotency_key=idempotency_key,
        )
    done = await refunds.execute_refund(sessionmaker, provider, refund_id)
    async with sessionmaker() as session, session.begin():
        answer = RefundOut.model_validate(done, from_attributes=True)
        return await dataclasses.replace(call, session=session).remember(answer)


@router.post(
    "/payments/{order_id}/confirmation",
    response_model=OrderOut,
    summary="Operator confirms an offline (bank transfer) payment arrived",
    responses=problem_responses(NotFound, Conflict, Forbidden),
    tags=["payments"],
)
async def confirm_offline(
    order_id: uuid.UUID, settings: AppSettings, session: Session, principal: Operator
) -> OrderOut:
    """The trade rules run again now: if they refuse (the buyer was blacklisted, the seller's
    chain broke since the order), the order comes back `refused` with the reasons and the
    payment is refunded; otherwise `delivered` with its licence."""
    return await order_out(session, await arrival.confirm_offline(session, settings, principal, order_id))


@router.post(
    "/orders/{order_id}/completion",
    response_model=OrderOut,
    summary="The buyer confirms receipt; the order is completed and the seller's payout is due",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def complete(order_id: uuid.UUID, session: Session, principal: Authenticated) -> OrderOut:
    return await order_out(session, await escrow.accept_delivery(session, principal, order_id))


@router.get(
    "/orders/{order_id}/ledger",
    response_model=LedgerOut,
    summary="Every money movement of an order (double entry: each movement sums to zero)",
    responses=problem_responses(NotFound),
)
async def order_ledger(order_id: uuid.UUID, session: Session, principal: Authenticated) -> LedgerOut:
    order = await orders.get_order(session, principal, order_id)
    lines = await ledger.entries(session, order.id)
    return LedgerOut(
        order_id=order.id,
        balanced=sum(x.amount_minor for x in lines) == 0,
        lines=[LedgerLineOut.model_validate(x, from_attributes=True) for x in lines],
    )


@router.post(
    "/payments/stripe/webhook",
    summary="Stripe events (signature-verified, checked against the payment, each applied once)",
    responses=problem_responses(BadSignature, MalformedWebhook),
    tags=["payments"],
)
async def stripe_webhook(
    request: Request,
    settings: AppSettings,
    session: Session,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> dict[str, str]:
    """Answers `{"outcome": ...}`: what the event did, `duplicate`, or `refused: <why>` for an
    event that does not match what we hold (stored, not applied, operators alerted)."""
    payload = await request.body()
    try:
        verify_webhook(payload, stripe_signature, settings.stripe_webhook_secret)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise BadSignature(
            "the Stripe-Signature header does not verify; nothing was changed",
            fields=[("header.Stripe-Signature", "invalid or missing")],
        ) from exc
    try:
        raw = json.loads(payload)
    except ValueError as exc:
        raise MalformedWebhook(
            "the body is not JSON; nothing was changed", fields=[("body", "not JSON")]
        ) from exc
    return {"outcome": await handle_stripe_event(session, settings, parse_event(raw))}
