"""Payout statements: per seller and Beijing-calendar period, what buyers paid, the commission,
refunds and payouts in the period, and what is held, due and owed back to buyers at its end.

Read from the ledger only, so for any seller, from the first period on:
  paid by buyers = held + due + paid out + commission + refunded + refunds owed
(to the fen; `due` is negative while a refund made after a payout is to be recovered)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from market.auth.principal import Principal
from market.errors import Forbidden
from market.payments import ledger, payout_repository

# Flows in a period: (account, kind) -> the statement's column, with the sign that makes it positive.
FLOWS = {
    (ledger.CLEARING, ledger.CHARGE): ("paid_by_buyers_minor", 1),
    (ledger.CLEARING, ledger.REFUND): ("refunded_minor", -1),
    (ledger.CLEARING, ledger.PAYOUT): ("paid_out_minor", -1),
    # Orders paid from a prepaid balance, and their refunds back to it.
    (ledger.PREPAID, ledger.CHARGE): ("paid_by_buyers_minor", 1),
    (ledger.PREPAID, ledger.REFUND): ("refunded_minor", -1),
}
# Balances at a period's end: account -> the column (liabilities are credits, so negated).
BALANCES = {
    ledger.SELLER_HELD: "held_minor",
    ledger.SELLER_DUE: "due_minor",
    ledger.BUYER_REFUND: "refunds_owed_minor",
}


@dataclass
class StatementRow:
    seller_id: uuid.UUID
    period: str
    currency: str
    paid_by_buyers_minor: int = 0
    commission_minor: int = 0  # earned in the period, net of commission given back by refunds
    refunded_minor: int = 0
    paid_out_minor: int = 0  # net of refunds recovered from the seller
    held_minor: int = 0
    due_minor: int = 0
    refunds_owed_minor: int = 0
    balances: dict[str, int] = field(default_factory=dict, repr=False)


async def statement(
    session: AsyncSession,
    principal: Principal,
    *,
    seller_id: uuid.UUID | None,
    period: str,
    since: datetime | None,
    until: datetime | None,
) -> list[StatementRow]:
    """The statement rows, oldest period first: a seller's own; operators' and auditors' for
    one seller or all."""
    if not principal.can_see_all():
        if seller_id is not None and seller_id != principal.participant_id:
            raise Forbidden("a seller reads its own statement", fields=[("query.seller_id", "not you")])
        seller_id = principal.participant_id
    running: dict[tuple[uuid.UUID, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if since is not None:
        for seller, currency, account, total in await payout_repository.opening_balances(
            session, seller_id=seller_id, before=since
        ):
            running[(seller, currency)][account] += total
    rows: dict[tuple[uuid.UUID, str, str], StatementRow] = {}
    flows = await payout_repository.ledger_flows(
        session, seller_id=seller_id, period=period, since=since, until=until
    )
    for seller, bucket, currency, account, kind, total in sorted(
        flows, key=lambda f: (str(f[0]), f[2], f[1])
    ):
        row = rows.setdefault((seller, currency, bucket), StatementRow(seller, bucket, currency))
        if (account, kind) in FLOWS:
            column, sign = FLOWS[(account, kind)]
            setattr(row, column, getattr(row, column) + sign * total)
        if account == ledger.COMMISSION_REVENUE:
            row.commission_minor -= total
        running[(seller, currency)][account] += total
        row.balances = dict(running[(seller, currency)])
    for row in rows.values():
        for account, column in BALANCES.items():
            setattr(row, column, -row.balances.get(account, 0))
    return sorted(rows.values(), key=lambda r: (r.period, str(r.seller_id), r.currency))
