"""Each abnormal-trade rule fires on its crafted case and stays silent on a normal trade."""

from __future__ import annotations

from datetime import UTC, datetime

from market.orders.abnormal_rules import OrderFacts, PartyFacts, check_order, repeated_refusals
from market.settings import Thresholds

T = Thresholds()
NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
SELLER = PartyFacts("s", "91350100M000100Y43", frozenset({"seller.cn"}))
BUYER = PartyFacts("b", "91220100MA0Y3B5X61", frozenset({"buyer.cn", "qq.com"}))


def order(**over: object) -> OrderFacts:
    base: dict[str, object] = {
        "order_id": "o1",
        "product_id": "p",
        "buyer": BUYER,
        "seller": SELLER,
        "total_minor": 10_000,
        "created_at": NOW,
        "earlier_product_totals": (9_000, 10_000, 11_000),
        "buyer_recent_order_ids": ("o1",),
    }
    base.update(over)
    return OrderFacts(**base)  # type: ignore[arg-type]


def rules(facts: OrderFacts) -> set[str]:
    return {f.rule for f in check_order(facts, T)}


def test_a_normal_trade_raises_nothing() -> None:
    assert rules(order()) == set()
    assert repeated_refusals("b", [1, 2], T) is None


def test_related_parties_by_code_root_or_mail_domain() -> None:
    sibling = PartyFacts("b", "91220200M000100Y4X", frozenset())  # same organisation code M000100Y4
    assert "related_party" in rules(order(buyer=sibling))
    shared_mail = PartyFacts("b", None, frozenset({"seller.cn"}))
    assert "related_party" in rules(order(buyer=shared_mail))
    public_mail = PartyFacts("b", None, frozenset({"qq.com"}))
    assert "related_party" not in rules(
        order(buyer=public_mail, seller=PartyFacts("s", None, frozenset({"qq.com"})))
    )


def test_round_trip_burst_and_price_outliers() -> None:
    assert "round_trip" in rules(order(reverse_trade_ids=("o0",)))
    assert "purchase_burst" in rules(order(buyer_recent_order_ids=tuple(f"o{i}" for i in range(5))))
    assert "price_outlier" in rules(order(total_minor=40_000))
    assert "price_outlier" in rules(order(total_minor=2_000))
    assert "price_outlier" not in rules(order(total_minor=40_000, earlier_product_totals=(10_000,)))
    assert "price_outlier" in rules(order(guided_band=(0, 5_000)))


def test_repeated_refusals() -> None:
    finding = repeated_refusals("b", [4, 5, 6], T)
    assert finding is not None and finding.evidence["audit_entries"] == [4, 5, 6]
