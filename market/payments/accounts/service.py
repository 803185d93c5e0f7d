"""Prepaid accounts: opened by an operator for an approved buyer, topped up by bank transfer
(an operator confirms it arrived) or by card (Stripe reports it), debited by the orders they pay
and credited by those orders' refunds. Every movement is posted to the ledger (double entry) and
audited in the caller's transaction; the balance on the account row moves with it.

Who may buy from a balance: a buyer for whom an operator opened an account in the quote's
currency (the exchange's know-your-customer step: prepaid buying lets a machine buy without a
person confirming each payment, so the exchange decides who may). A participant whose credit
status is not `good` (blacklisted, restricted) is refused an account.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

from market.audit.log import record
from market.auth.principal import Principal
from market.common.clock import now
from market.db import together
from market.errors import Conflict, Forbidden, InvalidInput, MarketError, NotFound
from market.idempotency.service import IdempotencyKeyRequired
from market.participants import service as participants
from market.payments import ledger
from market.payments.accounts import repository
from market.payments.accounts.models import Account, TopUp
from market.payments.accounts.states import TOP_UPS, TopUpStatus
from market.payments.provider import PaymentProvider, ProviderRefund, provider_call

ACCOUNT = "account"  # the payment provider name of orders paid from a balance


class InsufficientBalance(MarketError):
    """The balance does not cover the order: nothing was kept (top up, then order again)."""

    code, title, status = "insufficient-balance", "Insufficient prepaid balance", 402


class PrepaidNotEnabled(Forbidden):
    code, title = "prepaid-not-enabled", "Prepaid buying not enabled"


async def open_account(
    session: AsyncSession, principal: Principal, participant_id: uuid.UUID, currency: str
) -> Account:
    """An operator enables prepaid buying for a buyer in one currency."""
    participant = await participants.find(session, participant_id)
    if participant is None:
        raise InvalidInput("no such participant", fields=[("body.participant_id", "not found")])
    if participant.credit_status != "good":
        raise Conflict(
            f"the participant's credit status is {participant.credit_status}: no prepaid account",
            code="participant-not-approved",
        )
    account = Account(
        id=uuid.uuid4(),
        participant_id=participant_id,
        currency=currency,
        balance_minor=0,
        opened_by=principal.actor,
        created_at=now(),
        updated_at=now(),
    )
    try:
        async with session.begin_nested():
            session.add(account)
    except IntegrityError as exc:
        raise Conflict(f"the participant already has a {currency} account", code="account-exists") from exc
    await record(
        session,
        actor=principal.actor,
        action="account.opened",
        subject_type="account",
        subject_id=account.id,
        payload={"participant_id": str(participant_id), "currency": currency},
    )
    return account


async def visible_account(session: AsyncSession, principal: Principal, account_id: uuid.UUID) -> Account:
    account = await repository.account(session, account_id)
    if account is None or not (principal.can_see_all() or principal.participant_id == account.participant_id):
        raise NotFound("account not found")
    return account


async def accounts_page(
    session: AsyncSession,
    principal: Principal,
    *,
    participant_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> list[Account]:
    return await repository.page(
        session, principal, participant_id=participant_id, cursor=cursor, limit=limit
    )


async def statement(
    session: AsyncSession, principal: Principal, account_id: uuid.UUID, *, cursor: str | None, limit: int
) -> list[Any]:
    account = await visible_account(session, principal, account_id)
    return await repository.statement(session, account.id, cursor=cursor, limit=limit)


TOP_UP_IDS = uuid.UUID("6f1c2b7e-4d3a-4c8e-9b5f-2a7d1e0c3f94")  # uuid5 namespace of top-up ids


async def request_top_up(
    session: AsyncSession,
    provider: PaymentProvider,
    principal: Principal,
    account_id: uuid.UUID,
    *,
    amount_minor: int,
    method: str,
    idempotency_key: str | None,
) -> TopUp:
    """The buyer asks to top up its own account: by bank transfer (quoting the reference shown;
    an operator confirms it arrived), or by card through Stripe (the webhook credits it). A
    top-up moves money, so it needs an Idempotency-Key, asked once the caller is known to own
    the account.

    By card, Stripe is asked with no transaction open (what the request read is let go first),
    under a key that follows from the caller's Idempotency-Key: a retry after Stripe's answer
    was lost is given the same PaymentIntent, not a second one."""
    account = await visible_account(session, principal, account_id)
    if principal.participant_id != account.participant_id:
        raise Forbidden("only the account's buyer tops it up")
    if idempotency_key is None:
        raise IdempotencyKeyRequired("top-ups")
    top_up = TopUp(
        id=uuid.uuid5(TOP_UP_IDS, f"{principal.actor}\n{idempotency_key}"),
        account_id=account.id,
        method=method,
        amount_minor=amount_minor,
        currency=account.currency,
        status=TopUpStatus.REQUESTED,
        requested_by=principal.actor,
        requested_at=now(),
        created_at=now(),
        updated_at=now(),
    )
    created_status = "requires_payment"
    if method == "card":
        if provider.name != "stripe":
            raise InvalidInput(
                "card top-ups need the Stripe provider, which this exchange does not use",
                fields=[("body.method", "card is not available; use bank_transfer")],
            )
        await session.commit()  # nothing of the top-up yet; a read's lock, an API key's last use
        async with provider_call(provider.name, "create the payment"):
            created = await provider.create_payment(
                order_id=f"top-up-{top_up.id}",
                quote_id="",
                amount_minor=amount_minor,
                currency=account.currency,
            )
        top_up.provider_ref, top_up.client_secret = created.reference, created.client_secret
        created_status = created.status
    else:
        top_up.provider_ref = f"topup_{top_up.id.hex[:20]}"
    session.add(top_up)
    await record(
        session,
        actor=principal.actor,
        action="top_up.requested",
        subject_type="account",
        subject_id=account.id,
        payload={
            "top_up_id": str(top_up.id),
            "method": method,
            "amount_minor": amount_minor,
            "reference": top_up.provider_ref,
        },
    )
    if created_status == "succeeded":
        await credit_top_up(session, top_up, actor="system")
    return top_up


async def confirm_transfer(session: AsyncSession, principal: Principal, top_up_id: uuid.UUID) -> TopUp:
    """An operator confirms a top-up's bank transfer arrived."""
    top_up = await repository.top_up(session, top_up_id, lock=True)
    if top_up is None:
        raise NotFound("top-up not found")
    if top_up.method != "bank_transfer":
        raise Conflict("only bank transfers are confirmed by hand", code="not-a-bank-transfer")
    await credit_top_up(session, top_up, actor=principal.actor)
    return top_up


async def credit_top_up(session: AsyncSession, top_up: TopUp, *, actor: str) -> int:
    """The top-up's money arrived: book it (cash held, owed to the buyer) and credit the
    balance, once. Returns the balance after."""
    TOP_UPS.check(top_up.status, TopUpStatus.SUCCEEDED)
    before = top_up.status
    top_up.status, top_up.confirmed_by, top_up.completed_at = TopUpStatus.SUCCEEDED, actor, now()
    top_up.movement_id = await ledger.post(
        session, None, top_up.currency, ledger.top_up_lines(top_up.amount_minor), account_id=top_up.account_id
    )
    balance = await repository.credit(session, top_up.account_id, top_up.amount_minor)
    await record(
        session,
        actor=actor,
        action="top_up.succeeded",
        subject_type="account",
        subject_id=top_up.account_id,
        payload={
            "from": before,
            "top_up_id": str(top_up.id),
            "amount_minor": top_up.amount_minor,
            "balance_minor": balance,
        },
    )
    return balance


async def fail_top_up(session: AsyncSession, top_up: TopUp, reason: str) -> bool:
    if not TOP_UPS.can(top_up.status, TopUpStatus.FAILED):
        return False
    before = top_up.status
    top_up.status, top_up.failure_reason = TopUpStatus.FAILED, reason[:500]
    await record(
        session,
        actor="stripe",
        action="top_up.failed",
        subject_type="account",
        subject_id=top_up.account_id,
        payload={"from": before, "top_up_id": str(top_up.id), "reason": reason[:500]},
    )
    return True


async def top_up_by_reference(session: AsyncSession, reference: str) -> TopUp | None:
    return await repository.top_up_by_reference(session, reference)


async def debit(
    session: AsyncSession, buyer_id: uuid.UUID, currency: str, amount_minor: int, *, with_writes: bool = False
) -> uuid.UUID:
    """Take an order's price from the buyer's balance (the caller books the ledger lines);
    raises 402 when the balance is short and 403 without an open account in the currency.
    Either way the request's transaction rolls back: nothing is kept.

    `with_writes` (the caller flushes before it answers, as an order's idempotency record
    does): when the account's id is known, the money is taken in the statement that writes the
    order (PostgreSQL), and a refusal is raised there."""
    if with_writes and (account_id := repository.known_account(session, buyer_id, currency)) is not None:

        def taken(sync: SyncSession, produced: together.Produced) -> None:
            if produced.count:
                return
            account = sync.execute(repository.account_query(buyer_id, currency)).scalar_one_or_none()
            if account is not None and account.id != account_id:  # never, while accounts are kept
                repository.forget_account(buyer_id, currency)
                raise Conflict(
                    "the prepaid account changed while ordering; order again", code="account-changed"
                )
            raise _refused(account, currency, amount_minor)

        repository.debit_with_writes(session, account_id, amount_minor, taken)
        return account_id
    found = await repository.debit(session, buyer_id, currency, amount_minor)
    if found is not None:
        return found[0]
    raise _refused(await repository.account_of(session, buyer_id, currency), currency, amount_minor)


def _refused(account: Account | None, currency: str, amount_minor: int) -> MarketError:
    if account is None or account.status != "open":
        return PrepaidNotEnabled(
            f"no open prepaid {currency} account: an operator enables prepaid buying",
            fields=[("body.payment_method", f"no open {currency} account")],
        )
    return InsufficientBalance(
        f"the balance is {account.balance_minor} fen, the order {amount_minor}; nothing was kept",
        fields=[("body.payment_method", "insufficient balance")],
        extra={"balance_minor": account.balance_minor, "required_minor": amount_minor},
    )


async def refund_to_balance(
    session: AsyncSession, buyer_id: uuid.UUID, currency: str, amount_minor: int
) -> uuid.UUID:
    """Credit a refund of an order paid from the balance back to it; returns the account."""
    account = await repository.account_of(session, buyer_id, currency)
    assert account is not None, "an order paid from a balance has its account"
    await repository.credit(session, account.id, amount_minor)
    return account.id


class BalanceRefunds:
    """The 'provider' of orders paid from a balance: a refund needs no one outside, it is
    confirmed at once and booked back to the balance (`refunds.complete_refund`)."""

    name = ACCOUNT
    asks_a_third_party = False

    async def create_payment(self, **_: Any) -> Any:  # pragma: no cover - never asked
        raise AssertionError("orders paid from a balance are charged by `debit`")

    async def refund(self, *, payment_reference: str, refund_id: str, amount_minor: int) -> ProviderRefund:
        return ProviderRefund(reference=f"account_refund_{refund_id}", status="succeeded")

    async def cancel_payment(self, *, payment_reference: str) -> None:  # pragma: no cover - never asked
        raise AssertionError("an order paid from a balance is paid as it is placed")
