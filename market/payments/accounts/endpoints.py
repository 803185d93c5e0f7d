"""HTTP: prepaid accounts (operators open them), their balances and statements, top-ups and an
operator's confirmation that a top-up's bank transfer arrived."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from market.auth.principal import Authenticated, Buyer, Operator
from market.common.pagination import Cursor, Limit, Page, encode_cursor
from market.db.session import Session
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, problem_responses
from market.idempotency.service import IdempotencyKey, IdempotencyKeyRequired, idempotent
from market.payments.accounts import service
from market.payments.accounts.models import Account, TopUp
from market.payments.accounts.schemas import (
    AccountCreate,
    AccountOut,
    StatementLineOut,
    TopUpCreate,
    TopUpOut,
)
from market.payments.provider import (
    PAYMENT_PROVIDER,
    PaymentProvider,
    PaymentProviderRefused,
    PaymentProviderUnavailable,
)
from market.runtime import port

router = APIRouter(prefix="/v1", tags=["accounts"])
Provider = Annotated[PaymentProvider, port(PAYMENT_PROVIDER)]


def account_out(account: Account) -> AccountOut:
    return AccountOut.model_validate(account, from_attributes=True)


def top_up_out(top_up: TopUp) -> TopUpOut:
    return TopUpOut(
        id=top_up.id,
        account_id=top_up.account_id,
        method=top_up.method,
        amount_minor=top_up.amount_minor,
        currency=top_up.currency,
        status=top_up.status,
        reference=top_up.provider_ref,
        client_secret=top_up.client_secret,
        requested_at=top_up.requested_at,
        completed_at=top_up.completed_at,
    )


@router.post(
    "/accounts",
    status_code=status.HTTP_201_CREATED,
    response_model=AccountOut,
    summary="Enable prepaid buying for a buyer in one currency (operators)",
    responses=problem_responses(InvalidInput, Conflict, Forbidden),
)
async def open_account(
    data: AccountCreate, session: Session, principal: Operator, idempotency_key: IdempotencyKey = None
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "accounts.open", data)
    if replayed := await call.replay():
        return replayed
    account = await service.open_account(session, principal, data.participant_id, data.currency)
    return await call.remember(account_out(account))


@router.get("/accounts", response_model=Page[AccountOut], summary="Own prepaid accounts (operators: all)")
async def list_accounts(
    session: Session,
    principal: Authenticated,
    limit: Limit = 50,
    cursor: Cursor = None,
    participant_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[AccountOut]:
    rows = await service.accounts_page(
        session, principal, participant_id=participant_id, cursor=cursor, limit=limit
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[account_out(a) for a in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None,
    )


@router.get(
    "/accounts/{account_id}",
    response_model=AccountOut,
    summary="A prepaid account and its balance (its buyer, operators)",
    responses=problem_responses(NotFound),
)
async def read_account(account_id: uuid.UUID, session: Session, principal: Authenticated) -> AccountOut:
    return account_out(await service.visible_account(session, principal, account_id))


@router.get(
    "/accounts/{account_id}/statement",
    response_model=Page[StatementLineOut],
    summary="Every movement of the balance, newest first, with the balance after each",
    responses=problem_responses(NotFound),
)
async def statement(
    account_id: uuid.UUID,
    session: Session,
    principal: Authenticated,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[StatementLineOut]:
    rows = await service.statement(session, principal, account_id, cursor=cursor, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[
            StatementLineOut(
                id=r.id,
                at=r.created_at,
                kind=r.kind,
                amount_minor=int(r.amount_minor),
                balance_after_minor=int(r.balance_after_minor),
                order_id=r.order_id,
                movement_id=r.movement_id,
            )
            for r in rows
        ],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None,
    )


@router.post(
    "/accounts/{account_id}/top-ups",
    status_code=status.HTTP_201_CREATED,
    response_model=TopUpOut,
    summary="Top up a prepaid account by bank transfer or card; needs an Idempotency-Key",
    responses=problem_responses(
        NotFound,
        Forbidden,
        InvalidInput,
        IdempotencyKeyRequired,
        PaymentProviderUnavailable,
        PaymentProviderRefused,
    ),
)
async def top_up(
    account_id: uuid.UUID,
    data: TopUpCreate,
    provider: Provider,
    session: Session,
    principal: Buyer,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = idempotent(
        session, principal.actor, idempotency_key, "accounts.top_up", data, account_id=account_id
    )
    if replayed := await call.replay():
        return replayed
    made = await service.request_top_up(
        session,
        provider,
        principal,
        account_id,
        amount_minor=data.amount_minor,
        method=data.method,
        idempotency_key=idempotency_key,
    )
    return await call.remember(top_up_out(made))


@router.post(
    "/top-ups/{top_up_id}/confirmation",
    response_model=TopUpOut,
    summary="Operator confirms a top-up's bank transfer arrived; the balance is credited",
    responses=problem_responses(NotFound, Conflict, Forbidden),
    tags=["accounts"],
)
async def confirm_top_up(top_up_id: uuid.UUID, session: Session, principal: Operator) -> TopUpOut:
    return top_up_out(await service.confirm_transfer(session, principal, top_up_id))
