"""HTTP: quotes, reading orders, cancelling them, a trade's audit history. Parse, authorise,
call, return. (Placing an order, paying it and accepting delivery are `market.payments`'s.)"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy.ext.asyncio import AsyncSession

from market.audit import queries as audit
from market.audit.endpoints import entry_out
from market.audit.schemas import EntryOut
from market.auth.principal import SIGNED_IN_OPENAPI, Auditor, Authenticated, Principal, require_roles
from market.common.pagination import Cursor, Limit, Page, page_of
from market.compliance.service import ComplianceDenied
from market.db.direct import without_transaction
from market.db.session import Session
from market.errors import Conflict, Forbidden, NotFound, problem_responses
from market.idempotency.service import OPTIONAL_KEY_OPENAPI, idempotent
from market.orders import buyer_call, quotes, service
from market.orders.fairness import product_fairness
from market.orders.models import Order, Quote
from market.orders.schemas import OrderOut, QuoteCreate, QuoteOut, Reason
from pricing import FairnessFinding

router = APIRouter(prefix="/v1", tags=["orders"])
Overseer = Annotated[Principal, Depends(require_roles("operator", "price_authority"))]


Shown = TypeVar("Shown", bound=OrderOut)


def _order_out(order: Order, client_secret: str | None, shown: type[Shown]) -> Shown:
    return shown(
        **{
            k: getattr(order, k)
            for k in OrderOut.model_fields
            if hasattr(order, k) and k not in ("seller_proceeds_minor", "payment_client_secret")
        },
        seller_proceeds_minor=order.total_minor - order.commission_minor,
        payment_client_secret=client_secret,
    )


async def orders_out(session: AsyncSession, orders: Sequence[Order]) -> list[OrderOut]:
    """Orders as the API shows them, their payments' client secrets read in one query."""
    secrets = await service.client_secrets(session, orders)
    return [_order_out(o, secrets.get(o.id), OrderOut) for o in orders]


async def order_out(session: AsyncSession, order: Order) -> OrderOut:
    return await order_out_as(session, order, OrderOut)


async def order_out_as(session: AsyncSession, order: Order, shown: type[Shown]) -> Shown:
    """The order as the API shows it, as `shown` (a model that adds to OrderOut), in one pass."""
    secrets = await service.client_secrets(session, [order])
    return _order_out(order, secrets.get(order.id), shown)


def quote_out(q: Quote) -> QuoteOut:
    return QuoteOut.model_validate(
        {
            **{c: getattr(q, c) for c in QuoteOut.model_fields if hasattr(q, c)},
            "lines": q.body.get("lines", []),
            "unit": q.body.get("unit"),
            "window": q.body.get("window"),
        }
    )


@router.post(
    "/quotes",
    status_code=status.HTTP_201_CREATED,
    response_model=QuoteOut,
    summary="Itemised, explained, expiring quote (trade rules run first)",
    responses=problem_responses(NotFound, Conflict, Forbidden, ComplianceDenied),
    openapi_extra=SIGNED_IN_OPENAPI | OPTIONAL_KEY_OPENAPI,
)
async def create_quote(data: QuoteCreate, buyer: buyer_call.Buyer) -> Any:
    session, principal = buyer.session, buyer.principal
    if buyer.idempotency_key is None:
        # No key to claim, so nothing rolls back the quote's one statement once it is sent: its
        # reads and that statement need no transaction of their own (issue 21).
        without_transaction(session)
    call = idempotent(session, principal.actor, buyer.idempotency_key, "quotes.create", data, optimistic=True)
    # A refusal raises (not remembered): the buyer may fix the cause and retry with the key.
    async with call.answering():
        quote = await quotes.issue_quote(session, buyer.runtime.settings, principal, data)
    return await call.remember(quote_out(quote))


@router.get(
    "/quotes/{quote_id}",
    response_model=QuoteOut,
    summary="A quote (its buyer, the seller, operators)",
    responses=problem_responses(NotFound),
)
async def read_quote(quote_id: uuid.UUID, session: Session, principal: Authenticated) -> QuoteOut:
    return quote_out(await quotes.visible_quote(session, principal, quote_id))


@router.get(
    "/products/{product_id}/fairness",
    response_model=list[FairnessFinding],
    summary="Art. 70 check over the product's quotes (operators, price authority)",
    responses=problem_responses(NotFound, Forbidden),
    tags=["catalogue"],
)
async def fairness(product_id: uuid.UUID, session: Session, principal: Overseer) -> list[FairnessFinding]:
    return await product_fairness(session, product_id)


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
    rows = await service.page(session, principal, role=role, status=status_filter, cursor=cursor, limit=limit)
    page = page_of(rows, limit, lambda o: o)
    return Page(items=await orders_out(session, page.items), next_cursor=page.next_cursor)


@router.post(
    "/orders/{order_id}/cancellation",
    response_model=OrderOut,
    summary="Cancel an order that is not paid yet",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def cancel(order_id: uuid.UUID, data: Reason, session: Session, principal: Authenticated) -> OrderOut:
    return await order_out(session, await service.cancel_order(session, principal, order_id, data.reason))


@router.get(
    "/audit/trades/{order_id}",
    response_model=list[EntryOut],
    summary="The whole history of one trade, in order (operators, auditors)",
    responses=problem_responses(NotFound),
    tags=["audit"],
)
async def trade_history(order_id: uuid.UUID, session: Session, principal: Auditor) -> list[EntryOut]:
    order = await service.get_order(session, principal, order_id)
    subjects = {str(order.id), str(order.quote_id)}
    if order.licence_id:
        subjects.add(str(order.licence_id))
    return [entry_out(e) for e in await audit.history_of(session, subjects, str(order.id))]
