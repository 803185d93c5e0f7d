"""Abnormal-trade detection (交易异常行为发现与风险预警, Regulation Art. 61), as pure rules.

Each rule reads facts about one order (or one refusal) and returns findings with the evidence
an operator needs. Thresholds are configuration, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from statistics import median

from market.alerts.findings import Finding
from market.settings import Thresholds

ARTICLE = "Jilin Big Data Regulation 2023 Art. 61"
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "qq.com",
        "163.com",
        "126.com",
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "sina.com",
        "foxmail.com",
        "yahoo.com",
        "139.com",
    }
)


@dataclass(frozen=True)
class PartyFacts:
    participant_id: str
    credit_code: str | None
    email_domains: frozenset[str]


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    product_id: str
    buyer: PartyFacts
    seller: PartyFacts
    total_minor: int
    created_at: datetime
    earlier_product_totals: tuple[int, ...] = ()  # the product's most recent, newest first
    buyer_recent_order_ids: tuple[str, ...] = ()  # within the burst window, this one included
    reverse_trade_ids: tuple[str, ...] = ()  # seller bought from buyer within the round-trip window
    guided_band: tuple[int, int] | None = None


def organisation_root(code: str | None) -> str | None:
    """Positions 9-17 of a unified social credit code: the organisation code (GB 11714)."""
    return code[8:17] if code and len(code) == 18 else None


def related_party(f: OrderFacts, _: Thresholds) -> Finding | None:
    reasons = []
    if f.buyer.participant_id == f.seller.participant_id:
        reasons.append("buyer and seller are the same participant")
    root = organisation_root(f.buyer.credit_code)
    if root and root == organisation_root(f.seller.credit_code):
        reasons.append(f"buyer and seller share the organisation code {root}")
    shared = (f.buyer.email_domains & f.seller.email_domains) - PUBLIC_MAIL_DOMAINS
    if shared:
        reasons.append(f"buyer and seller users share the mail domain(s) {', '.join(sorted(shared))}")
    if not reasons:
        return None
    return Finding("related_party", "high", "; ".join(reasons), {"order_id": f.order_id})


def round_trip(f: OrderFacts, t: Thresholds) -> Finding | None:
    if not f.reverse_trade_ids:
        return None
    return Finding(
        "round_trip",
        "high",
        f"the seller bought from this buyer within {t.round_trip_window.days} days (A→B, B→A)",
        {"order_id": f.order_id, "reverse_orders": list(f.reverse_trade_ids)},
    )


def price_outlier(f: OrderFacts, t: Thresholds) -> Finding | None:
    if f.guided_band and not f.guided_band[0] <= f.total_minor <= f.guided_band[1]:
        return Finding(
            "price_outlier",
            "high",
            "the price is outside the guided band (Art. 65)",
            {"order_id": f.order_id, "total_minor": f.total_minor, "band": list(f.guided_band)},
        )
    if len(f.earlier_product_totals) < t.price_history_min:
        return None
    typical = Decimal(str(median(f.earlier_product_totals)))
    if typical == 0:
        return None
    ratio = Decimal(f.total_minor) / typical
    if ratio > t.price_factor or ratio < 1 / t.price_factor:
        return Finding(
            "price_outlier",
            "medium",
            f"the price is {ratio.quantize(Decimal('0.01'))}x the product's median of {typical} fen",
            {"order_id": f.order_id, "total_minor": f.total_minor, "median_minor": str(typical)},
        )
    return None


def burst(f: OrderFacts, t: Thresholds) -> Finding | None:
    if len(f.buyer_recent_order_ids) < t.burst_orders:
        return None
    minutes = int(t.burst_window.total_seconds() // 60)
    return Finding(
        "purchase_burst",
        "medium",
        f"{len(f.buyer_recent_order_ids)} orders from one buyer within {minutes} minutes",
        {"orders": list(f.buyer_recent_order_ids)},
    )


ORDER_RULES = (related_party, round_trip, price_outlier, burst)


def check_order(f: OrderFacts, t: Thresholds) -> list[Finding]:
    return [found for rule in ORDER_RULES if (found := rule(f, t)) is not None]


def repeated_refusals(buyer_id: str, refusal_entry_ids: list[int], t: Thresholds) -> Finding | None:
    if len(refusal_entry_ids) < t.refusals:
        return None
    minutes = int(t.refusal_window.total_seconds() // 60)
    return Finding(
        "repeated_refusals",
        "high",
        f"{len(refusal_entry_ids)} refused attempts by one buyer within {minutes} minutes",
        {"buyer_id": buyer_id, "audit_entries": refusal_entry_ids},
    )
