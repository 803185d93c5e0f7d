"""HTTP: disputes (the buyer opens, the seller answers, an operator resolves), payouts (the
statement per period, each order's payout) and the transfers that pay sellers."""

from __future__ import annotations

import csv
import dataclasses
import io
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from market.auth.principal import Authenticated, Buyer, Operator
from market.common.pagination import Cursor, Limit, Page, page_of
from market.common.periods import PERIOD_PATTERN
from market.common.schemas import Instant
from market.db.session import Session
from market.errors import Conflict, Forbidden, InvalidInput, NotFound, problem_responses
from market.idempotency.service import (
    REQUIRED_KEY_OPENAPI,
    IdempotencyKey,
    IdempotencyKeyRequired,
    RequiredIdempotencyKey,
    idempotent,
)
from market.payments import disputes, escrow, resolutions, statement, transfers
from market.payments.models import Dispute, Payout
from market.payments.payout_provider import PAYOUT_PROVIDER, PayoutProvider
from market.payments.provider import PaymentProviderRefused, PaymentProviderUnavailable
from market.payments.schemas import (
    DisputeAnswer,
    DisputeCreate,
    DisputeOut,
    DisputeResolution,
    PayoutOut,
    StatementOut,
    StatementRowOut,
    TransferCreate,
    TransferOut,
)
from market.runtime import AppSettings, SessionMaker, port

router = APIRouter(prefix="/v1", tags=["settlement"])
PayoutProviderPort = Annotated[PayoutProvider, port(PAYOUT_PROVIDER)]


def dispute_out(d: Dispute) -> DisputeOut:
    return DisputeOut.model_validate(d, from_attributes=True)


@router.post(
    "/disputes",
    status_code=status.HTTP_201_CREATED,
    response_model=DisputeOut,
    summary="The buyer disputes a paid order within the acceptance window; the payout is frozen",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def open_dispute(
    data: DisputeCreate,
    settings: AppSettings,
    session: Session,
    principal: Buyer,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    call = idempotent(session, principal.actor, idempotency_key, "disputes.create", data)
    if replayed := await call.replay():
        return replayed
    dispute = await disputes.file_dispute(
        session, settings, principal, data.order_id, reason=data.reason, description=data.description
    )
    return await call.remember(dispute_out(dispute))


@router.get(
    "/disputes", response_model=Page[DisputeOut], summary="Own disputes as buyer or seller (operators: all)"
)
async def list_disputes(
    session: Session,
    principal: Authenticated,
    limit: Limit = 50,
    cursor: Cursor = None,
    status_filter: Annotated[
        str | None, Query(alias="status", pattern="^(open|refunded|partially_refunded|rejected)$")
    ] = None,
) -> Page[DisputeOut]:
    rows = await disputes.page(session, principal, status=status_filter, cursor=cursor, limit=limit)
    return page_of(rows, limit, dispute_out)


@router.get(
    "/disputes/{dispute_id}",
    response_model=DisputeOut,
    summary="A dispute (its buyer, its seller, operators)",
    responses=problem_responses(NotFound),
)
async def read_dispute(dispute_id: uuid.UUID, session: Session, principal: Authenticated) -> DisputeOut:
    return dispute_out(await disputes.visible_dispute(session, principal, dispute_id))


@router.post(
    "/disputes/{dispute_id}/response",
    response_model=DisputeOut,
    summary="The seller answers a dispute (once, by its working-day deadline)",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def answer_dispute(
    dispute_id: uuid.UUID, data: DisputeAnswer, session: Session, principal: Authenticated
) -> DisputeOut:
    return dispute_out(await disputes.respond(session, principal, dispute_id, data.response))


@router.post(
    "/disputes/{dispute_id}/resolution",
    response_model=DisputeOut,
    summary="An operator resolves a dispute: full refund, partial refund, or rejection, with a reason",
    responses=problem_responses(NotFound, Conflict, Forbidden),
)
async def resolve_dispute(
    dispute_id: uuid.UUID, data: DisputeResolution, session: Session, principal: Operator
) -> DisputeOut:
    if data.amount_minor is not None and data.outcome != "refund_partial":
        raise InvalidInput(
            "amount_minor is given only with refund_partial",
            fields=[("body.amount_minor", "only for refund_partial")],
        )
    dispute = await resolutions.resolve(
        session,
        principal,
        dispute_id,
        outcome=data.outcome,
        amount_minor=data.amount_minor,
        reason=data.reason,
    )
    return dispute_out(dispute)


STATEMENT_COLUMNS = list(StatementRowOut.model_fields)


@router.get(
    "/payouts",
    response_model=StatementOut,
    summary="Payout statement per period: paid by buyers, commission, refunded, paid out; held and "
    "due at each period's end (a seller's own; operators any seller or all). ?format=csv",
    responses={
        **problem_responses(Forbidden),
        200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}},
    },
)
async def payout_statement(
    session: Session,
    principal: Authenticated,
    period: Annotated[str, Query(pattern=PERIOD_PATTERN)] = "month",
    since: Instant | None = None,
    until: Instant | None = None,
    seller_id: uuid.UUID | None = None,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    if principal.participant_id is None and not principal.can_see_all():
        raise Forbidden("payout statements are for sellers and the exchange's staff")
    rows = await statement.statement(
        session, principal, seller_id=seller_id, period=period, since=since, until=until
    )
    out = [StatementRowOut.model_validate(r, from_attributes=True) for r in rows]
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(STATEMENT_COLUMNS)
        writer.writerows([getattr(r, c) for c in STATEMENT_COLUMNS] for r in out)
        return Response(
            buffer.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="payouts.csv"'},
        )
    return StatementOut(period=period, since=since, until=until, rows=out)


@router.get(
    "/payouts/orders",
    response_model=Page[PayoutOut],
    summary="Each paid order's payout: held, frozen, due, paid out or cancelled "
    "(a seller's own; operators all)",
)
async def list_payouts(
    session: Session,
    principal: Authenticated,
    limit: Limit = 50,
    cursor: Cursor = None,
    status_filter: Annotated[
        str | None, Query(alias="status", pattern="^(held|frozen|due|paid_out|cancelled)$")
    ] = None,
) -> Page[PayoutOut]:
    rows = await escrow.page(session, principal, status=status_filter, cursor=cursor, limit=limit)
    page = page_of(rows, limit, lambda p: p)
    amounts = await escrow.amounts(session, page.items)

    def _out(p: Payout) -> PayoutOut:
        held, due = amounts.get(p.order_id, (0, 0))
        fields = {name: getattr(p, name) for name in PayoutOut.model_fields if hasattr(p, name)}
        return PayoutOut.model_validate({**fields, "held_minor": held, "due_minor": due})

    return Page(items=[_out(p) for p in page.items], next_cursor=page.next_cursor)


@router.post(
    "/payouts/transfers",
    status_code=status.HTTP_201_CREATED,
    response_model=TransferOut,
    summary="An operator records the transfer of everything due to a seller (net of refunds to "
    "recover), through the payout provider; needs an Idempotency-Key",
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
async def record_transfer(
    data: TransferCreate,
    sessionmaker: SessionMaker,
    provider: PayoutProviderPort,
    principal: Operator,
    idempotency_key: RequiredIdempotencyKey = None,
) -> Any:
    if idempotency_key is None:
        raise IdempotencyKeyRequired("payout transfers")
    async with sessionmaker() as session, session.begin():
        call = idempotent(session, principal.actor, idempotency_key, "payouts.transfer", data)
        if replayed := await call.replay():
            return replayed
        transfer_id = await transfers.claim_due(
            session,
            principal,
            seller_id=data.seller_id,
            currency=data.currency,
            bank_reference=data.bank_reference,
            note=data.note,
            idempotency_key=idempotency_key,
            provider=provider.name,
        )
    done = await transfers.execute_transfer(sessionmaker, provider, transfer_id)
    async with sessionmaker() as session, session.begin():
        answer = TransferOut.model_validate(done, from_attributes=True)
        return await dataclasses.replace(call, session=session).remember(answer)


@router.get(
    "/payouts/transfers",
    response_model=Page[TransferOut],
    summary="Transfers to sellers (a seller's own; operators all)",
)
async def list_transfers(
    session: Session, principal: Authenticated, limit: Limit = 50, cursor: Cursor = None
) -> Page[TransferOut]:
    rows = await transfers.page(session, principal, cursor=cursor, limit=limit)
    return page_of(rows, limit, lambda t: TransferOut.model_validate(t, from_attributes=True))
