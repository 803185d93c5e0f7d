"""Settlement as double-entry lines: every movement sums to zero, so every order balances.

Accounts (positive = debit, negative = credit):
- `cash:clearing`: the money the exchange holds (debited by charges, credited by refunds and
  payouts);
- `payable:seller:held`: the seller's proceeds in escrow (acceptance window, open dispute);
- `payable:seller:due`: proceeds owed to the seller now (negative: a refund made after its
  payout, to be recovered from the seller's next transfer);
- `payable:buyer:refund`: refunds decided and owed to buyers, not yet confirmed by the provider;
- `revenue:commission`: the exchange's commission;
- `payable:buyer:prepaid`: a buyer's prepaid balance (credited by top-ups and by refunds of
  orders it paid, debited by the orders it pays); its lines name the account (`account_id`).

So at any time, for any set of orders:
  charged = held + due + paid out + commission + refunded + refunds owed
(every term read from the lines; `charged`, `paid out` and `refunded` are the lines of those
kinds on `cash:clearing`, or on `payable:buyer:prepaid` for orders paid from a balance, whose
cash arrived earlier as a top-up: `cash:clearing` debited, the balance credited).
Pure functions compute the lines; `post` stores them. Amounts are integer fen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from market.common.clock import now
from market.db.detached import added
from market.payments.models import LedgerEntry
from pricing.money import Money

CLEARING = "cash:clearing"
SELLER_HELD = "payable:seller:held"
SELLER_DUE = "payable:seller:due"
BUYER_REFUND = "payable:buyer:refund"
COMMISSION_REVENUE = "revenue:commission"
PREPAID = "payable:buyer:prepaid"

# Kinds of the cash lines, so reports can tell money in from money out.
CHARGE, REFUND, PAYOUT, TOP_UP = "charge", "refund", "payout", "top_up"


@dataclass(frozen=True)
class Line:
    kind: str
    account: str
    amount_minor: int  # + debit, - credit


def charge_lines(total_minor: int, commission: int, *, source: str = CLEARING) -> list[Line]:
    """The buyer's money arrives (from `source`: the provider's cash, or a prepaid balance): the
    seller's proceeds are held, the commission earned."""
    return [
        Line(CHARGE, source, total_minor),
        Line("proceeds_held", SELLER_HELD, -(total_minor - commission)),
        Line("commission", COMMISSION_REVENUE, -commission),
    ]


def shift_lines(kind: str, source: str, target: str, amount: int) -> list[Line]:
    """Move a seller's proceeds between escrow accounts (held -> due on release, back on a freeze)."""
    return [Line(kind, source, amount), Line(kind, target, -amount)]


def commission_share(
    refund_minor: int, *, total_minor: int, commission: int, refunded_before: int, commission_left: int
) -> int:
    """The commission a refund gives back: pro rata, half-up to the fen; the refund that returns
    the last of the price gives back exactly what commission remains."""
    if refunded_before + refund_minor == total_minor:
        return commission_left
    share = Decimal(refund_minor) / total_minor
    return min(commission_left, Money.from_minor(commission, "CNY").times(share).minor_units)


def refund_owed_lines(refund_minor: int, *, commission_back: int, seller_account: str) -> list[Line]:
    """A refund is decided: the seller's share and the commission's become owed to the buyer."""
    return [
        Line("proceeds_reversed", seller_account, refund_minor - commission_back),
        Line("commission_reversal", COMMISSION_REVENUE, commission_back),
        Line("refund_owed", BUYER_REFUND, -refund_minor),
    ]


def refund_paid_lines(refund_minor: int, *, target: str = CLEARING) -> list[Line]:
    """The provider confirmed the refund: the money left the exchange (or, for an order paid
    from a prepaid balance, went back to that balance)."""
    return [Line("refund_paid", BUYER_REFUND, refund_minor), Line(REFUND, target, -refund_minor)]


def top_up_lines(amount_minor: int) -> list[Line]:
    """Money arrived for a buyer's prepaid balance: the exchange holds it, owed to the buyer."""
    return [Line(TOP_UP, CLEARING, amount_minor), Line(TOP_UP, PREPAID, -amount_minor)]


def payout_lines(amount_minor: int) -> list[Line]:
    """A transfer pays the seller what was due (a negative amount recovers an earlier refund)."""
    return [Line("payout_paid", SELLER_DUE, amount_minor), Line(PAYOUT, CLEARING, -amount_minor)]


def reversal(lines: list[LedgerEntry], kind: str) -> list[Line]:
    """The lines that undo a stored movement exactly."""
    return [Line(kind, line.account, -line.amount_minor) for line in lines]


async def post(
    session: AsyncSession,
    order_id: uuid.UUID | None,
    currency: str,
    lines: list[Line],
    *,
    account_id: uuid.UUID | None = None,
) -> uuid.UUID:
    if sum(line.amount_minor for line in lines) != 0:
        raise AssertionError("unbalanced ledger movement")  # a programming error, never input
    movement = uuid.uuid4()
    at = now()
    for line in lines:
        if line.amount_minor == 0:
            continue
        added(
            session,
            LedgerEntry(
                order_id=order_id,
                account_id=account_id,
                movement_id=movement,
                kind=line.kind,
                account=line.account,
                amount_minor=line.amount_minor,
                currency=currency,
                created_at=at,
            ),
        )
    return movement  # written with the transaction's next flush; the readers below flush first


async def balances(session: AsyncSession, order_id: uuid.UUID) -> dict[str, int]:
    """Each account's balance for one order (accounts it never touched are absent)."""
    await session.flush()  # lines posted earlier in this transaction count
    stmt = (
        select(LedgerEntry.account, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.order_id == order_id)
        .group_by(LedgerEntry.account)
    )
    return {account: int(total) for account, total in await session.execute(stmt)}


async def movement(session: AsyncSession, movement_id: uuid.UUID) -> list[LedgerEntry]:
    await session.flush()
    stmt = select(LedgerEntry).where(LedgerEntry.movement_id == movement_id)
    return list((await session.execute(stmt)).scalars())


async def entries(session: AsyncSession, order_id: uuid.UUID) -> list[LedgerEntry]:
    await session.flush()
    stmt = (
        select(LedgerEntry)
        .where(LedgerEntry.order_id == order_id)
        .order_by(LedgerEntry.created_at, LedgerEntry.kind)
    )
    return list((await session.execute(stmt)).scalars())
