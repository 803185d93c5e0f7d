"""Art. 70: no different prices for counterparties trading on the same conditions, unless a
lawful exception explains it.

Jilin Big Data Regulation Art. 70 compares trade conditions (security, cost, credit, steps,
duration). Lawful exceptions: genuine differing needs under normal practice (a `volume`
discount), new-user offers for a reasonable period (`new_customer`, only ever applied inside
its window by `quote`), random allocation under published fair rules (`random_allocation`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import combinations

from pydantic import BaseModel, ConfigDict, Field

from pricing.money import Money
from pricing.quote import LAWFUL_DISCOUNT_CODES

ARTICLE_70 = "Jilin Big Data Regulation 2023 Art. 70"
RULE_ID = "PRICE-FAIR-70"


class TradeConditions(BaseModel):
    """The conditions Art. 70 compares: security, cost, credit, steps, duration."""

    model_config = ConfigDict(frozen=True)

    security: str
    cost: str
    credit: str
    steps: str
    duration: str


class QuotedTrade(BaseModel):
    """One priced trade as the fairness check sees it. `discount_codes` may hold every line
    code of the quote; only the lawful ones count. `subtotal_minor` (before discounts), when
    known, lets the check tell a lawful discount from a different list price."""

    model_config = ConfigDict(frozen=True)

    quote_id: str
    buyer_id: str
    conditions: TradeConditions
    quantity: int = Field(ge=1)
    purpose: str
    total_minor: int
    currency: str = "CNY"
    plan_version: int | None = None
    subtotal_minor: int | None = None
    discount_codes: tuple[str, ...] = ()

    @property
    def total(self) -> Money:
        return Money.from_minor(self.total_minor, self.currency)

    @property
    def lawful_discounts(self) -> frozenset[str]:
        return frozenset(self.discount_codes) & LAWFUL_DISCOUNT_CODES


class FairnessFinding(BaseModel):
    """A pair of quotes that looks like discriminatory pricing under Art. 70."""

    rule_id: str = RULE_ID
    article: str = ARTICLE_70
    first_quote_id: str
    second_quote_id: str
    first_buyer_id: str = ""
    second_buyer_id: str = ""
    first_total_minor: int
    second_total_minor: int
    reason: str


def _unexplained(cheap: QuotedTrade, dear: QuotedTrade) -> str | None:
    """Why the price gap is unlawful, or None when a lawful exception explains it."""
    if (
        cheap.subtotal_minor is not None
        and dear.subtotal_minor is not None
        and cheap.subtotal_minor != dear.subtotal_minor
    ):
        return "different prices before any discount for the same conditions (Art. 70)"
    if cheap.lawful_discounts - dear.lawful_discounts:
        return None  # the cheaper buyer got a lawful discount the other did not qualify for
    return (
        "same trade conditions, quantity, purpose and plan, different prices, and no lawful "
        "exception (new-customer offer, volume by need, random allocation) explains it (Art. 70)"
    )


def find_discrimination(history: Iterable[QuotedTrade]) -> list[FairnessFinding]:
    """Every pair of different buyers with identical conditions, quantity, purpose, currency
    and plan version whose totals differ in a way no lawful exception explains (Art. 70).

    Deterministic: pairs come out ordered by quote id.
    """
    groups: dict[tuple[object, ...], list[QuotedTrade]] = defaultdict(list)
    for trade in history:
        key = (trade.conditions, trade.quantity, trade.purpose, trade.currency, trade.plan_version)
        groups[key].append(trade)
    findings = []
    for trades in groups.values():
        for a, b in combinations(sorted(trades, key=lambda t: t.quote_id), 2):
            if a.total_minor == b.total_minor or a.buyer_id == b.buyer_id:
                continue
            cheap, dear = (a, b) if a.total_minor < b.total_minor else (b, a)
            reason = _unexplained(cheap, dear)
            if reason is None:
                continue
            findings.append(
                FairnessFinding(
                    first_quote_id=a.quote_id,
                    second_quote_id=b.quote_id,
                    first_buyer_id=a.buyer_id,
                    second_buyer_id=b.buyer_id,
                    first_total_minor=a.total_minor,
                    second_total_minor=b.total_minor,
                    reason=reason,
                )
            )
    return sorted(findings, key=lambda f: (f.first_quote_id, f.second_quote_id))
