"""Paying sellers: an operator records a transfer of everything due to a seller (net of refunds
made after earlier payouts, which are recovered this way). Like a refund, in steps: the due
payouts are claimed in one transaction, the payout provider is asked outside any transaction,
then the money is booked as paid out and the payouts marked so."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from market.alerts.findings import Finding
from market.alerts.service import raise_alert
from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.errors import Conflict, NotFound
from market.participants import service as participants
from market.payments import escrow, ledger, payout_repository
from market.payments.models import PayoutTransfer
from market.payments.payout_provider import PayoutProvider
from market.payments.provider import PaymentProviderRefused, provider_call
from market.payments.states import TRANSFERS, PayoutStatus, TransferStatus

TRANSFER_IDS = uuid.UUID("3a9e1f0c-52d7-4c1b-8e6a-7b2d9f4c1e05")  # uuid5 namespace of transfer ids


def transfer_id_for(actor: str, idempotency_key: str) -> uuid.UUID:
    return uuid.uuid5(TRANSFER_IDS, f"{actor}\n{idempotency_key}")


async def _audit(
    session: AsyncSession, transfer: PayoutTransfer, actor: str, action: str, **extra: object
) -> None:
    await record(
        session,
        actor=actor,
        action=action,
        subject_type="participant",
        subject_id=transfer.seller_id,
        payload={"transfer_id": str(transfer.id), "amount_minor": transfer.amount_minor, **extra},
    )


async def claim_due(
    session: AsyncSession,
    principal: Principal,
    *,
    seller_id: uuid.UUID,
    currency: str,
    bank_reference: str,
    note: str | None,
    idempotency_key: str,
    provider: str,
) -> uuid.UUID:
    """Step 1: claim the seller's due payouts (and refunds to recover) for one new transfer."""
    transfer_id = transfer_id_for(principal.actor, idempotency_key)
    if (decided := await payout_repository.transfer(session, transfer_id)) is not None:
        if decided.status == TransferStatus.FAILED:
            raise Conflict(
                f"the payout provider refused this transfer ({decided.failure_reason})",
                code="transfer-failed",
            )
        return decided.id
    if await participants.find(session, seller_id) is None:
        raise NotFound("seller not found", fields=[("body.seller_id", "no such participant")])
    if await payout_repository.transfer_recorded(session, bank_reference):
        raise Conflict(
            "a transfer with this bank reference is recorded already",
            code="transfer-already-recorded",
            fields=[("body.bank_reference", "already recorded")],
        )
    payouts = await payout_repository.due_payouts(session, seller_id, currency)
    due = await payout_repository.due_balances(session, [p.order_id for p in payouts])
    breakdown = {str(p.order_id): due.get(p.order_id, 0) for p in payouts}
    recovered = await payout_repository.refunds_to_recover(session, seller_id, currency)
    breakdown.update({str(order_id): amount for order_id, amount in recovered.items()})
    amount = sum(breakdown.values())
    if amount <= 0:
        raise Conflict(
            f"nothing is due to this seller in {currency} ({amount} fen net of refunds to recover)",
            code="nothing-due",
            fields=[("body.seller_id", "nothing due")],
        )
    transfer = PayoutTransfer(
        id=transfer_id,
        seller_id=seller_id,
        amount_minor=amount,
        currency=currency,
        status=TransferStatus.REQUESTED,
        provider=provider,
        bank_reference=bank_reference,
        note=note,
        breakdown=breakdown,
        recorded_by=principal.actor,
        created_at=now(),
    )
    session.add(transfer)
    await session.flush()
    for payout in payouts:
        payout.transfer_id = transfer.id
    await _audit(session, transfer, principal.actor, "payout.transfer_requested", orders=breakdown)
    return transfer.id


async def execute_transfer(
    sessionmaker: async_sessionmaker[AsyncSession], provider: PayoutProvider, transfer_id: uuid.UUID
) -> PayoutTransfer:
    """Steps 2 and 3: ask the payout provider (no lock held), then book the payout."""
    async with sessionmaker() as session:
        transfer = await payout_repository.transfer(session, transfer_id)
        assert transfer is not None
        if transfer.status != TransferStatus.REQUESTED:
            return transfer
        seller, amount, currency, reference = (
            str(transfer.seller_id),
            transfer.amount_minor,
            transfer.currency,
            transfer.bank_reference,
        )
    try:
        async with provider_call(provider.name, "transfer"):
            done = await provider.transfer(
                transfer_id=str(transfer_id),
                seller_id=seller,
                amount_minor=amount,
                currency=currency,
                bank_reference=reference,
            )
    except PaymentProviderRefused as refused:
        async with sessionmaker() as session, session.begin():
            await _fail(session, transfer_id, refused.message)
        raise
    async with sessionmaker() as session, session.begin():
        return await _book(session, transfer_id, done.reference)


async def _book(session: AsyncSession, transfer_id: uuid.UUID, reference: str) -> PayoutTransfer:
    transfer = await payout_repository.transfer(session, transfer_id, lock=True)
    assert transfer is not None
    if transfer.status != TransferStatus.REQUESTED:
        return transfer
    TRANSFERS.check(transfer.status, TransferStatus.SUCCEEDED)
    transfer.status, transfer.provider_ref, transfer.completed_at = TransferStatus.SUCCEEDED, reference, now()
    for order_id, amount in transfer.breakdown.items():
        await ledger.post(session, uuid.UUID(order_id), transfer.currency, ledger.payout_lines(int(amount)))
    for payout in await payout_repository.payouts_of_transfer(session, transfer.id):
        # A card dispute may have frozen one since it was claimed: its money went all the same,
        # and the dispute's outcome settles it against the seller's account.
        if payout.status == PayoutStatus.DUE:
            await escrow.move_payout(
                session,
                payout,
                PayoutStatus.PAID_OUT,
                actor=transfer.recorded_by,
                payload={"transfer_id": str(transfer.id)},
            )
    await _audit(session, transfer, transfer.recorded_by, "payout.transferred", reference=reference)
    return transfer


async def _fail(session: AsyncSession, transfer_id: uuid.UUID, why: str) -> None:
    transfer = await payout_repository.transfer(session, transfer_id, lock=True)
    assert transfer is not None
    if transfer.status != TransferStatus.REQUESTED:
        return
    TRANSFERS.check(transfer.status, TransferStatus.FAILED)
    transfer.status, transfer.failure_reason, transfer.completed_at = TransferStatus.FAILED, why, now()
    for payout in await payout_repository.payouts_of_transfer(session, transfer.id):
        payout.transfer_id = None  # due again, for the next transfer
    await _audit(session, transfer, "system", "payout.transfer_failed", why=why)
    await raise_alert(
        session,
        Finding(
            rule="transfer-failed",
            severity="high",
            summary=f"a payout transfer was refused: {why}",
            evidence={"transfer_id": str(transfer.id), "amount_minor": transfer.amount_minor},
        ),
        "participant",
        str(transfer.seller_id),
    )


async def page(
    session: AsyncSession, principal: Principal, *, cursor: str | None, limit: int
) -> list[PayoutTransfer]:
    return await payout_repository.transfer_page(session, principal, cursor=cursor, limit=limit)
