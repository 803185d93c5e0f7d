"""Queries on prepaid accounts and top-ups; tenant scoping in `readable(principal)`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.common.clock import now
from market.common.pagination import keyset_page
from market.db import pending, together
from market.payments.accounts.models import Account, TopUp
from market.payments.accounts.states import AccountStatus
from market.payments.ledger import PREPAID
from market.payments.models import LedgerEntry


def readable(principal: Principal) -> Select[Account]:
    stmt = select(Account)
    if not principal.can_see_all():
        stmt = stmt.where(Account.participant_id == principal.participant_id)
    return stmt


async def page(
    session: AsyncSession,
    principal: Principal,
    *,
    participant_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> list[Account]:
    stmt = readable(principal)
    if participant_id is not None:
        stmt = stmt.where(Account.participant_id == participant_id)
    return list((await session.execute(keyset_page(stmt, Account, cursor, limit))).scalars())


async def account(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


def account_query(participant_id: uuid.UUID, currency: str) -> Select[Account]:
    return select(Account).where(Account.participant_id == participant_id, Account.currency == currency)


async def account_of(session: AsyncSession, participant_id: uuid.UUID, currency: str) -> Account | None:
    return (await session.execute(account_query(participant_id, currency))).scalar_one_or_none()


# A participant's account in a currency keeps its id for good (accounts are closed, never
# deleted), so once a debit found it this process knows it: a later debit of the same buyer can
# then be written with the order's other writes (issue 21), as it needs no read first.
_KNOWN_ACCOUNTS: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
_KNOWN_ACCOUNTS_MAX = 100_000


def known_account(session: AsyncSession, participant_id: uuid.UUID, currency: str) -> uuid.UUID | None:
    """The account id a debit found earlier (PostgreSQL only; None when not known)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return _KNOWN_ACCOUNTS.get((participant_id, currency))


def forget_account(participant_id: uuid.UUID, currency: str) -> None:
    _KNOWN_ACCOUNTS.pop((participant_id, currency), None)


def _remember_account(participant_id: uuid.UUID, currency: str, account_id: uuid.UUID) -> None:
    if len(_KNOWN_ACCOUNTS) >= _KNOWN_ACCOUNTS_MAX:
        _KNOWN_ACCOUNTS.clear()
    _KNOWN_ACCOUNTS[(participant_id, currency)] = account_id


def debit_with_writes(
    session: AsyncSession, account_id: uuid.UUID, amount_minor: int, verdict: together.Verdict
) -> None:
    """Take `amount_minor` from the open account `account_id` in the statement that writes the
    transaction's changes (market.db.pending); `verdict` refuses when no row was taken."""
    at = now()
    pending.check_with_writes(
        session, pending.Check(lambda batch: _debit_part(batch, amount_minor, at, id=account_id), verdict)
    )


async def debit(
    session: AsyncSession, participant_id: uuid.UUID, currency: str, amount_minor: int
) -> tuple[uuid.UUID, int] | None:
    """Take `amount_minor` from the buyer's open account in one conditional UPDATE: (account id,
    balance after), or None when there is no open account or the balance is short. Concurrent
    debits queue on the row, and each re-checks the balance it finds (no overdraw).

    On PostgreSQL the checks the transaction left for its next statement (an order's claims on
    its data, market.db.pending) go with this UPDATE: one round trip for both."""
    if session.get_bind().dialect.name == "postgresql":
        at = now()
        produced = await session.run_sync(
            lambda sync: pending.run_now(
                sync,
                lambda batch: _debit_part(
                    batch, amount_minor, at, participant_id=participant_id, currency=currency
                ),
            )
        )
        if produced.values is None:
            return None
        account_id, balance = produced.values
        _remember_account(participant_id, currency, account_id)
        return account_id, int(balance)
    stmt = (
        update(Account)
        .where(
            Account.participant_id == participant_id,
            Account.currency == currency,
            Account.status == AccountStatus.OPEN,
            Account.balance_minor >= amount_minor,
        )
        .values(balance_minor=Account.balance_minor - amount_minor, updated_at=now())
        .returning(Account.id, Account.balance_minor)
        .execution_options(synchronize_session=False)
    )
    found = (await session.execute(stmt)).one_or_none()
    return (found[0], int(found[1])) if found else None


_ACCOUNTS = cast(Table, Account.__table__)


def _debit_part(batch: together.Batch, amount_minor: int, at: datetime, **account: Any) -> together.Part:
    """The conditional UPDATE of `debit` as a part of a statement of market.db.together, the
    account named by column values (its id, or its participant and currency)."""
    bind, c = batch.params.bind, _ACCOUNTS.c
    amount = bind(amount_minor, c.balance_minor)
    # Only placeholders are formatted in (the names are the table's); the values are parameters.
    changes = f"balance_minor = balance_minor - {amount}, updated_at = {bind(at, c.updated_at)}"
    named = " AND ".join(f"{key} = {bind(value, c[key])}" for key, value in account.items())
    which = f"{named} AND status = {bind(AccountStatus.OPEN, c.status)} AND balance_minor >= {amount}"
    sql = f"UPDATE prepaid_accounts SET {changes} WHERE {which} RETURNING id, balance_minor"  # noqa: S608
    return together.Part(sql, counted=True, returning=("id", "balance_minor"))


async def credit(session: AsyncSession, account_id: uuid.UUID, amount_minor: int) -> int:
    """Add `amount_minor` to the balance; returns the balance after."""
    stmt = (
        update(Account)
        .where(Account.id == account_id)
        .values(balance_minor=Account.balance_minor + amount_minor, updated_at=now())
        .returning(Account.balance_minor)
        .execution_options(synchronize_session=False)
    )
    return int((await session.execute(stmt)).scalar_one())


async def top_up(session: AsyncSession, top_up_id: uuid.UUID, *, lock: bool = False) -> TopUp | None:
    return await session.get(TopUp, top_up_id, with_for_update=lock, populate_existing=lock)


async def top_up_by_reference(session: AsyncSession, reference: str) -> TopUp | None:
    stmt = select(TopUp).where(TopUp.provider_ref == reference).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def statement(
    session: AsyncSession, account_id: uuid.UUID, *, cursor: str | None, limit: int
) -> list[Any]:
    """The account's lines, newest first, each with the balance after it (a running sum over
    the account's whole history, computed by the database in the same query)."""
    running = func.sum(-LedgerEntry.amount_minor).over(order_by=(LedgerEntry.created_at, LedgerEntry.id))
    lines = (
        select(
            LedgerEntry.id,
            LedgerEntry.created_at,
            LedgerEntry.kind,
            LedgerEntry.order_id,
            LedgerEntry.movement_id,
            (-LedgerEntry.amount_minor).label("amount_minor"),
            running.label("balance_after_minor"),
        )
        .where(LedgerEntry.account_id == account_id, LedgerEntry.account == PREPAID)
        .subquery()
    )
    return list((await session.execute(keyset_page(select(lines), lines.c, cursor, limit))).all())
