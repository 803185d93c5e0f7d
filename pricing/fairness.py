"""Art. 70: no different prices for counterparties trading on the same conditions, unless a
lawful exception explains it (new-customer offer, volume by genuine need, fair random draw)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import combinations

from pydantic import BaseModel, ConfigDict

from pricing.quote import LAWFUL_DISCOUNT_CODES


class TradeConditions(BaseModel):
    """The conditions Art. 70 compares: security, cost, credit, steps, duration."""

    model_config = ConfigDict(frozen=True)

    security: str
    cost: str
    credit: str
    steps: str
    duration: str


class QuotedTrade(BaseModel):
    model_config = ConfigDict(frozen=True)

    quote_id: str
    buyer_id: str
    conditions: TradeConditions
    quantity: int
    purpose: str
    plan_version: int
    total_minor: int
    discount_codes: tuple[str, ...] = ()


class FairnessFinding(BaseModel):
    article: str = "Jilin Big Data Regulation 2023 Art. 70"
    first_quote_id: str
    second_quote_id: str
    first_total_minor: int
    second_total_minor: int
    reason: str


def find_discrimination(history: Iterable[QuotedTrade]) -> list[FairnessFinding]:
    """Every pair with identical conditions, quantity, purpose and plan version whose prices
    differ with no lawful discount on either side to explain it."""
    groups: dict[tuple[object, ...], list[QuotedTrade]] = defaultdict(list)
    for trade in history:
        groups[(trade.conditions, trade.quantity, trade.purpose, trade.plan_version)].append(trade)
    findings = []
    for trades in groups.values():
        for a, b in combinations(sorted(trades, key=lambda t: t.quote_id), 2):
            if a.total_minor == b.total_minor or a.buyer_id == b.buyer_id:
                continue
            lawful = set(a.discount_codes) | set(b.discount_codes)
            if lawful & LAWFUL_DISCOUNT_CODES:
                continue
            findings.append(
                FairnessFinding(
                    first_quote_id=a.quote_id,
                    second_quote_id=b.quote_id,
                    first_total_minor=a.total_minor,
                    second_total_minor=b.total_minor,
                    reason="same trade conditions, quantity, purpose and plan, different prices, "
                    "no lawful exception (new-customer, volume, random allocation)",
                )
            )
    return findings
