"""The Stripe webhook inbox: each event is stored once (unique event id) and applied once.

An event is believed only as far as it matches what we hold: the payment it names must be ours
and a Stripe payment (never an offline one), and its amount and currency must be the payment's;
a refund may not exceed what was paid. An event that does not match is stored, changes nothing,
is answered `refused` (so Stripe does not retry it for days) and raises an alert for operators.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from market.alerts.findings import Finding
from market.alerts.service import raise_alert
from market.common.clock import now
from market.common.schemas import refuse_nul
from market.errors import InvalidInput, invalid_from_validation
from market.orders import service as orders
from market.orders.states import OrderStatus
from market.payments import arrival, disputes, refunds, repository, resolutions
from market.payments.accounts import service as accounts
from market.payments.models import Payment, WebhookEvent
from market.payments.service import payment_failed
from market.payments.states import DisputeReason
from market.settings import Settings

# Stripe's dispute reasons that are ours to name; every other one is a payment dispute.
CARD_DISPUTE_REASONS = {
    "product_not_received": DisputeReason.NOT_DELIVERED,
    "product_unacceptable": DisputeReason.NOT_AS_DESCRIBED,
}


class MalformedWebhook(InvalidInput):
    code, title, status = "malformed-webhook", "Malformed webhook event", 400


class EventData(BaseModel):
    model_config = ConfigDict(extra="allow")
    object: dict[str, Any]


class StripeEvent(BaseModel):
    """The envelope every Stripe event has; what `data.object` holds depends on `type`."""

    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=120)
    type: str = Field(min_length=1, max_length=80)
    data: EventData

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        refuse_nul(value, "the event")  # no text column or JSON document in PostgreSQL holds one
        return value


def parse_event(raw: object) -> StripeEvent:
    """The verified body as a Stripe event, or a 400 naming what is missing (a JSON array, a
    string, an event without id, type or data.object)."""
    try:
        return StripeEvent.model_validate(raw)
    except ValidationError as exc:
        problem = invalid_from_validation(exc, "body", "the body is not a Stripe event")
        raise MalformedWebhook(problem.message + "; nothing was changed", fields=problem.fields) from exc


class Refused(Exception):
    """An event that does not match what we hold: stored, not applied, operators alerted."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule, self.reason = rule, reason


async def handle_stripe_event(session: AsyncSession, settings: Settings, event: StripeEvent) -> str:
    """Store the event in the inbox (once) and apply it; returns what happened."""
    try:
        async with session.begin_nested():
            inbox = WebhookEvent(
                provider_event_id=event.id,
                type=event.type,
                payload=json.dumps(event.model_dump(), sort_keys=True),
            )
            session.add(inbox)
    except IntegrityError:
        return "duplicate"
    try:
        async with session.begin_nested():  # a refusal found half-way undoes what it began
            outcome = await _apply_event(session, settings, event)
    except Refused as refused:
        outcome = f"refused: {refused.reason}"
        await raise_alert(
            session,
            Finding(
                rule=refused.rule,
                severity="high",
                summary=f"Stripe event {event.id} ({event.type}) refused: {refused.reason}",
                evidence={"event_id": event.id, "type": event.type, "object": event.data.object},
            ),
            "webhook_event",
            event.id,
        )
    inbox.handled_at = now()
    inbox.outcome = outcome
    return outcome


async def _payment(session: AsyncSession, obj: dict[str, Any], key: str) -> Payment | None:
    """The payment the object names, locked, checked against the object's claims."""
    reference = obj.get(key)
    if not isinstance(reference, str) or not reference:
        return None
    payment = await repository.payment_by_reference(session, reference, lock=True)
    if payment is None:
        return None
    if payment.provider != "stripe":
        raise Refused(
            "webhook-offline-payment", f"{reference} is an offline payment: Stripe cannot report on it"
        )
    currency = obj.get("currency")
    if currency is not None and str(currency).upper() != payment.currency:
        raise Refused("webhook-mismatch", f"currency {currency} is not the payment's {payment.currency}")
    order_id = (obj.get("metadata") or {}).get("order_id") if isinstance(obj.get("metadata"), dict) else None
    if order_id is not None and order_id != str(payment.order_id):
        raise Refused("webhook-mismatch", f"metadata names order {order_id}, not the payment's order")
    return payment


def _amount(obj: dict[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = obj.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise Refused("webhook-mismatch", f"{key} is not an amount in minor units")
            return value
    return None


async def _apply_event(session: AsyncSession, settings: Settings, event: StripeEvent) -> str:
    kind, obj = event.type, event.data.object
    if kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        payment = await _payment(session, obj, "id")
        if payment is None:
            return await _top_up_event(session, kind, obj)
        if kind == "payment_intent.payment_failed":
            error = obj.get("last_payment_error")
            reason = (error.get("message") if isinstance(error, dict) else None) or "payment failed"
            return "failed" if await payment_failed(session, payment, str(reason)) else "ignored"
        received = _amount(obj, "amount_received", "amount")
        if received != payment.amount_minor:
            raise Refused(
                "webhook-mismatch", f"{received} fen received, the payment is {payment.amount_minor}"
            )
        done = await arrival.payment_succeeded(session, settings, payment, actor="stripe")
        return (
            ("paid" if done.status != "refused" else "refused by the trade rules")
            if done
            else "already applied"
        )
    if kind == "charge.refunded":
        return await _charge_refunded(session, settings, obj)
    if kind == "charge.dispute.created":
        return await _dispute_created(session, settings, obj)
    if kind == "charge.dispute.closed":
        return await _dispute_closed(session, obj)
    return "ignored type"


async def _top_up_event(session: AsyncSession, kind: str, obj: dict[str, Any]) -> str:
    """A card top-up of a prepaid account: credited once when Stripe reports it paid in full."""
    reference = obj.get("id")
    top_up = await accounts.top_up_by_reference(session, reference) if isinstance(reference, str) else None
    if top_up is None or top_up.method != "card":
        return "unknown payment"
    currency = obj.get("currency")
    if currency is not None and str(currency).upper() != top_up.currency:
        raise Refused("webhook-mismatch", f"currency {currency} is not the top-up's {top_up.currency}")
    metadata = obj.get("metadata")
    named = metadata.get("order_id") if isinstance(metadata, dict) else None
    if named is not None and named != f"top-up-{top_up.id}":
        raise Refused("webhook-mismatch", f"metadata names {named}, not the top-up")
    if kind == "payment_intent.payment_failed":
        reason = ((obj.get("last_payment_error") or {}).get("message")) or "payment failed"
        return "failed" if await accounts.fail_top_up(session, top_up, str(reason)) else "ignored"
    received = _amount(obj, "amount_received", "amount")
    if received != top_up.amount_minor:
        raise Refused("webhook-mismatch", f"{received} fen received, the top-up is {top_up.amount_minor}")
    if top_up.status == "succeeded":
        return "already applied"
    await accounts.credit_top_up(session, top_up, actor="stripe")
    return "credited"


async def _charge_refunded(session: AsyncSession, settings: Settings, obj: dict[str, Any]) -> str:
    payment = await _payment(session, obj, "payment_intent")
    if payment is None:
        return "unknown payment"
    charged = _amount(obj, "amount")
    if charged is not None and charged != payment.amount_minor:
        raise Refused("webhook-mismatch", f"the charge is {charged} fen, the payment {payment.amount_minor}")
    refunded = _amount(obj, "amount_refunded") or 0
    if refunded > payment.amount_minor:
        raise Refused(
            "webhook-refund-exceeds", f"{refunded} fen refunded of a {payment.amount_minor} fen payment"
        )
    order = await orders.lock(session, payment.order_id)
    # A refund proves the charge happened, even if its success event has not arrived yet.
    await arrival.payment_succeeded(session, settings, payment, actor="stripe", order=order)
    unbooked = refunded - payment.refunded_minor
    if unbooked <= 0:
        return "already applied"
    # Our own refunds that Stripe confirms (oldest first), then any made at Stripe directly.
    for refund in await repository.requested_refunds(session, payment.id):
        if refund.amount_minor <= unbooked:
            await refunds.complete_refund(session, refund, order, payment, actor="stripe")
            unbooked -= refund.amount_minor
    if unbooked > 0:
        left = await refunds.refundable(session, payment)
        if unbooked > left:
            raise Refused("webhook-refund-exceeds", f"{unbooked} fen more refunded than the {left} fen left")
        made = await refunds.request_refund(
            session, order, payment, unbooked, reason="refunded at Stripe", actor="stripe", source="provider"
        )
        await refunds.complete_refund(session, made, order, payment, actor="stripe")
    return "refunded"


async def _dispute_created(session: AsyncSession, settings: Settings, obj: dict[str, Any]) -> str:
    payment = await _payment(session, obj, "payment_intent")
    if payment is None:
        return "unknown payment"
    amount = _amount(obj, "amount") or 0
    if amount > payment.amount_minor:
        raise Refused(
            "webhook-mismatch", f"a dispute over {amount} fen of a {payment.amount_minor} fen payment"
        )
    reference = str(obj.get("id") or "")
    if reference and await repository.dispute_by_reference(session, reference) is not None:
        return "already applied"
    order = await orders.lock(session, payment.order_id)
    if order.status not in (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        return f"ignored: the order is {order.status}"
    stripe_reason = str(obj.get("reason") or "general")
    await disputes.open_dispute(
        session,
        settings,
        order,
        source="stripe",
        reason=CARD_DISPUTE_REASONS.get(stripe_reason, DisputeReason.PAYMENT_DISPUTED),
        description=f"card dispute at Stripe ({stripe_reason}) over {amount} fen",
        actor="stripe",
        provider_ref=reference or None,
    )
    return "disputed"


async def _dispute_closed(session: AsyncSession, obj: dict[str, Any]) -> str:
    payment = await _payment(session, obj, "payment_intent")
    if payment is None:
        return "unknown payment"
    dispute = await repository.dispute_by_reference(session, str(obj.get("id") or ""))
    if dispute is None:
        return "unknown dispute"
    status = str(obj.get("status") or "")
    if status not in ("won", "lost"):
        return f"ignored: dispute {status}"
    amount = _amount(obj, "amount") or 0
    if amount > payment.amount_minor:
        raise Refused(
            "webhook-mismatch", f"a dispute over {amount} fen of a {payment.amount_minor} fen payment"
        )
    return await resolutions.card_dispute_closed(
        session, dispute, won=status == "won", amount_minor=amount, reason=f"card network: dispute {status}"
    )
