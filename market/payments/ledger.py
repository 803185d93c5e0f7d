"""Settlement as double-entry lines: every movement sums to zero, so every order balances.

Pure functions compute the lines; `post` stores them. Amounts are integer fen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.clock import now
from market.payments.models import LedgerEntry
from pricing.money import Money

CLEARING = "cash:clearing"
SELLER_PAYABLE = "payable:seller"
COMMISSION_REVENUE = "revenue:commission"


@dataclass(frozen=True)
class Line:
    kind: str
    account: str
    amount_minor: int  # + debit, - credit


def charge_lines(total_minor: int, commission: int) -> list[Line]:
    return [
        Line("charge", CLEARING, total_minor),
        Line("payout_due", SELLER_PAYABLE, -(total_minor - commission)),
        Line("commission", COMMISSION_REVENUE, -commission),
    ]


def refund_lines(
    refund_minor: int,
    *,
    total_minor: int,
    commission: int,
    refunded_before: int,
    commission_reversed_before: int,
) -> list[Line]:
    """Reverse a refund pro rata; the last refund reverses exactly what commission remains."""
    if refunded_before + refund_minor == total_minor:
        reversed_commission = commission - commission_reversed_before
    else:
        share = Decimal(refund_minor) / total_minor
        reversed_commission = Money.from_minor(commission, "CNY").times(share).minor_units
    return [
        Line("refund", CLEARING, -refund_minor),
        Line("payout_reversal", SELLER_PAYABLE, refund_minor - reversed_commission),
        Line("commission_reversal", COMMISSION_REVENUE, reversed_commission),
    ]


async def post(session: AsyncSession, order_id: uuid.UUID, currency: str, lines: list[Line]) -> uuid.UUID:
    if sum(line.amount_minor for line in lines) != 0:
        raise AssertionError("unbalanced ledger movement")  # a programming error, never input
    movement = uuid.uuid4()
    at = now()
    for line in lines:
        session.add(
            LedgerEntry(
                order_id=order_id,
                movement_id=movement,
                kind=line.kind,
                account=line.account,
                amount_minor=line.amount_minor,
                currency=currency,
                created_at=at,
            )
        )
    return movement  # written with the transaction's next flush; the readers below flush first


async def account_total(session: AsyncSession, order_id: uuid.UUID, account: str) -> int:
    await session.flush()  # lines posted earlier in this transaction count
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount_minor), 0)).where(
        LedgerEntry.order_id == order_id, LedgerEntry.account == account
    )
    return int(await session.scalar(stmt) or 0)


async def entries(session: AsyncSession, order_id: uuid.UUID) -> list[LedgerEntry]:
    await session.flush()
    stmt = (
        select(LedgerEntry)
        .where(LedgerEntry.order_id == order_id)
        .order_by(LedgerEntry.created_at, LedgerEntry.kind)
    )
    return list((await session.execute(stmt)).scalars())
