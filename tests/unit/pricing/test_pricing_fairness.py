"""Art. 70: same conditions, different price, no lawful exception -> a finding."""

from __future__ import annotations

from pricing import TradeConditions, find_discrimination
from tests.unit.pricing.pricing_factories import trade


def test_same_conditions_different_price_is_a_finding_citing_art_70() -> None:
    findings = find_discrimination([trade("q1", "alice", 1000), trade("q2", "bob", 1200)])
    assert len(findings) == 1
    f = findings[0]
    assert (f.first_quote_id, f.second_quote_id) == ("q1", "q2")
    assert f.article.endswith("Art. 70") and "Art. 70" in f.reason and f.rule_id == "PRICE-FAIR-70"


def test_lawful_exceptions_explain_the_cheaper_price() -> None:
    for code in ("new_customer", "volume", "random_allocation"):
        cheap = trade("q1", "alice", 800, discount_codes=("plan", code))
        assert find_discrimination([cheap, trade("q2", "bob", 1000, discount_codes=("plan",))]) == []


def test_a_discount_on_the_dearer_side_explains_nothing() -> None:
    dear = trade("q2", "bob", 1200, discount_codes=("new_customer",))
    assert find_discrimination([trade("q1", "alice", 1000), dear])
    both = [
        trade("q1", "alice", 800, discount_codes=("new_customer",)),
        trade("q2", "bob", 900, discount_codes=("new_customer",)),
    ]
    assert find_discrimination(both)


def test_different_list_prices_are_found_even_behind_a_discount_code() -> None:
    a = trade("q1", "alice", 800, subtotal_minor=900, discount_codes=("volume",))
    b = trade("q2", "bob", 1000, subtotal_minor=1000)
    assert find_discrimination([a, b])


def test_different_conditions_quantity_purpose_or_plan_are_not_compared() -> None:
    other = TradeConditions(security="important", cost="api", credit="good", steps="standard", duration="365")
    base = trade("q1", "alice", 1000)
    for variant in (
        trade("q2", "bob", 1200, conditions=other),
        trade("q2", "bob", 1200, quantity=11),
        trade("q2", "bob", 1200, purpose="academic_research"),
        trade("q2", "bob", 1200, plan_version=2),
        trade("q2", "alice", 1200),  # one counterparty, not two
        trade("q2", "bob", 1000),
    ):
        assert find_discrimination([base, variant]) == []
