"""HTTP: orders, refunds, reviews, ledgers. Parse, authorise, call, return."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import or_, select

from market.auth.principal import Authenticated, Buyer, Operator
from market.common.clock import now
from market.common.pagination import Cursor, Limit, Page, keyset_page, page_of
from market.compliance.service import refusal_response
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, IdempotencyKeyRequired, idempotent
from market.orders import service
from market.orders.models import Order
from market.orders.quotes import QuoteAltered, QuoteExpired, load_payable_quote
from market.orders.schemas import (
    LedgerLineOut,
    LedgerOut,
    OrderCreate,
    OrderOut,
    Reason,
    RefundCreate,
    RefundOut,
    ReviewDecision,
)
from market.payments import ledger
from market.payments import service as payments
from market.payments.models import Payment
from market.payments.provider import PaymentProviderRefused, PaymentProviderUnavailable

router = APIRouter(prefix="/v1", tags=["orders"])


async def order_out(session: Any, order: Order) -> OrderOut:
    secret = None
    if order.payment_provider == "stripe" and order.status == "pending_payment":
        payment = (
            await session.execute(select(Payment).where(Payment.order_id == order.id))
        ).scalar_one_or_none()
        secret = payment.client_secret if payment else None
    return OrderOut(
        **{
            k: getattr(order, k)
            for k in OrderOut.model_fields
            if hasattr(order, k) and k not in ("seller_proceeds_minor", "payment_client_secret")
        },
        seller_proceeds_minor=order.total_minor - order.commission_minor,
        payment_client_secret=secret,
    )


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    summary="Order from a stored, unexpired quote; compliance is re-checked now",
    responses=problem_responses(
        NotFound,
        Conflict,
        Forbidden,
        QuoteExpired,
        QuoteAltered,
        IdempotencyKeyRequired,
        PaymentProviderUnavailable,
        PaymentProviderRefused,
    ),
)
async def create_order(
    data: OrderCreate,
    request: Request,
    session: Session,
    principal: Buyer,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    if idempotency_key is None:
        raise IdempotencyKeyRequired("orders")
    call = idempotent(session, principal.actor, idempotency_key, "orders.create", data)
    if replayed := await call.replay():
        return replayed
    quote = await load_payable_quote(session, data.quote_id, principal.participant_id, now())
    result = await service.create_order(
        session, request.app.state.settings, request.app.state.payment_provider, principal, quote
    )
    if isinstance(result, service.OrderRefused):
        # The refusal (decision + audit entry) is kept; no order exists.
        return refusal_response(result.decision)
    return await call.remember(await order_out(session, result))


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="Read an order (its buyer, its seller, operators)",
    responses=problem_responses(NotFound),
)
async def read_order(order_id: uuid.UUID, session: Session, principal: Authenticated) -> OrderOut:
    return await order_out(session, await service.get_order(session, principal, order_id))


@router.get("/orders", response_model=Page[OrderOut], summary="Own purchases and sales (operators: all)")
async def list_orders(
    session: Session,
    principal: Authenticated,
    limit: Limit = 50,
    cursor: Cursor = None,
    role: Annotated[str | None, Query(pattern="^(buyer|seller)$")] = None,
    status_filter: Annotated[str | None, Query(alias="status", max_length=20)] = None,
) -> Page[OrderOut]:
    stmt = select(Order)
    if not principal.can_see_all():
        me = principal.participant_id
        if role == "buyer":
            stmt = stmt.where(Order.buyer_id == me)
        elif role == "seller":
            stmt = stmt.where(Order.seller_id == me)
        else:
            stmt = stmt.where(or_(Order.buyer_id == me, Order.seller_id == me))
    if status_filter:
        stmt = stmt.where(Order.status == status_filter)
    rows = list((await session.execute(keyset_page(stmt, Order, cursor, limit))).scalars())
    page = page_of(rows, limit, lambda o: o)
    return Page(items=[await order_out(session, o) for o in page.items], next_cursor=page.next_cursor)


@router.post(
    "/orders/{order_id}/cancellation",
    response_model=OrderOut,
    summary="Cancel an order that is not paid yet",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def cancel(order_id: uuid.UUID, data: Reason, session: Session, principal: Authenticated) -> OrderOut:
    return await order_out(session, await service.cancel_order(session, principal, order_id, data.reason))


@router.post(
    "/orders/{order_id}/completion",
    response_model=OrderOut,
    summary="The buyer confirms receipt; the order is completed",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def complete(order_id: uuid.UUID, session: Session, principal: Authenticated) -> OrderOut:
    return await order_out(session, await service.complete_order(session, principal, order_id))


@router.post(
    "/orders/{order_id}/review",
    response_model=OrderOut,
    summary="Operator decision on an order parked for compliance review",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def review(
    order_id: uuid.UUID,
    data: ReviewDecision,
    request: Request,
    session: Session,
    principal: Operator,
) -> OrderOut:
    order = await service.review_order(
        session, request.app.state.payment_provider, principal, order_id, data.approve, data.reason
    )
    return await order_out(session, order)


@router.post(
    "/orders/{order_id}/refund",
    status_code=status.HTTP_201_CREATED,
    response_model=RefundOut,
    summary="Refund all or part of a paid order (operators); needs an Idempotency-Key",
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
    request: Request,
    session: Session,
    principal: Authenticated,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "orders.refund", data, order_id=order_id)
    if replayed := await call.replay():
        return replayed
    done = await payments.refund_order(
        session,
        request.app.state.payment_provider,
        principal,
        order_id,
        amount_minor=data.amount_minor,
        reason=data.reason,
        idempotency_key=idempotency_key,
    )
    return await call.remember(RefundOut.model_validate(done, from_attributes=True))


@router.post(
    "/payments/{order_id}/confirmation",
    response_model=OrderOut,
    summary="Operator confirms an offline (bank transfer) payment arrived",
    responses=problem_responses(NotFound, Conflict, Forbidden),
    tags=["payments"],
)
async def confirm_offline(order_id: uuid.UUID, session: Session, principal: Operator) -> OrderOut:
    return await order_out(session, await payments.confirm_offline(session, principal, order_id))


@router.get(
    "/orders/{order_id}/ledger",
    response_model=LedgerOut,
    summary="Every money movement of an order (double entry: each movement sums to zero)",
    responses=problem_responses(NotFound),
)
async def order_ledger(order_id: uuid.UUID, session: Session, principal: Authenticated) -> LedgerOut:
    order = await service.get_order(session, principal, order_id)
    lines = await ledger.entries(session, order.id)
    return LedgerOut(
        order_id=order.id,
        balanced=sum(x.amount_minor for x in lines) == 0,
        lines=[LedgerLineOut.model_validate(x, from_attributes=True) for x in lines],
    )
