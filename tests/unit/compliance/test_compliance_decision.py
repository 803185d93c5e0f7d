"""Decision-level behaviour: all findings, missing facts deny, determinism, snapshots."""

from __future__ import annotations

from typing import Any

import pytest
from compliance_factories import listing, participant, personal, public, rights, trade
from compliance_factories import resource as res
from pydantic import ValidationError

from market.common.vocabulary import KNOWN_PURPOSES
from market.compliance.decision import evaluate, evaluate_listing, evaluate_trade
from market.compliance.facts import (
    ConditionalOpenApproval,
    ListingFacts,
    ParticipantFacts,
    ResourceFacts,
    TradeFacts,
)
from market.compliance.rules import RULESET_VERSION, rules_for, ruleset_fingerprint

# Bump rule (rules.py): a change to the rule table must come with a new version. When
# this fails, bump RULESET_VERSION and add the new fingerprint under it.
PINNED_FINGERPRINTS = {
    "2024.1": "1b151661d7473e2e5e04866f5b812767fe5301d41d0acebad87e3a7097951630",
    "2026.1": "8d96afc0176c998c779acd282f2d789b2c094d9b9cfd5e6a23893c61869a4e5e",
}


def test_rule_table_changes_bump_the_ruleset_version() -> None:
    assert PINNED_FINGERPRINTS.get(RULESET_VERSION) == ruleset_fingerprint()


def test_compliant_listing_and_trade_are_allowed_with_version_and_rules_run() -> None:
    for decision in (evaluate_listing(listing()), evaluate_trade(trade())):
        assert decision.outcome == "allow"
        assert decision.findings == ()
        assert decision.ruleset_version == RULESET_VERSION
        assert decision.rules_evaluated == tuple(r.rule_id for r in rules_for(decision.kind))
    assert "TRADE-001" not in evaluate_listing(listing()).rules_evaluated


def test_every_finding_is_returned_not_just_the_first() -> None:
    decision = evaluate(
        listing(
            res(resource_id="core", grade="core"),
            res(resource_id="mil", security_tags=["military"]),
            personal("de_identified", resource_id="pii"),
            seller=participant(credit="blacklisted"),
            declared_scenarios=[],
        )
    )
    ids = [f.rule_id for f in decision.findings]
    assert ids == ["DATA-001", "DATA-007", "DATA-011", "PART-001", "LIST-002"]
    assert decision.outcome == "deny"


def test_review_findings_alone_need_review() -> None:
    decision = evaluate(trade(res(grade="important"), buyer=participant("b", credit="watch")))
    assert [f.rule_id for f in decision.findings] == ["DATA-002", "PART-004"]
    assert decision.outcome == "needs_review"


MISSING: list[tuple[Any, str]] = [
    (listing(res(grade=None)), "resources[R1].grade"),
    (listing(res(category=None)), "resources[R1].category"),
    (listing(public(open_class=None)), "resources[R1].open_class"),
    (listing(res(category="personal")), "resources[R1].personal_info"),
    (listing(res(sensitive_personal=True)), "resources[R1].personal_info"),
    (listing(public(), charges_fee=None), "listing.charges_fee"),
    (listing(rights=None), "rights"),
    (listing(rights=rights(holds_valid_operating_right=None)), "rights.holds_valid_operating_right"),
    (
        listing(res(trade_secret=True), rights=rights(seller_is_registered_holder=None)),
        "rights.seller_is_registered_holder",
    ),
    (listing(seller=participant(credit=None)), "seller.credit"),
    (trade(buyer=participant("b", credit=None)), "buyer.credit"),
    (trade(purpose=None), "purpose"),
    (trade(personal(), purpose=None), "purpose"),
    (trade(public(), purpose=None), "purpose"),
    (trade(scenario=None), "scenario"),
    (trade(licence_permitted_purposes=None), "licence_permitted_purposes"),
    (trade(cross_border=None), "cross_border"),
    (trade(buyer=participant("b", jurisdiction=None)), "buyer.jurisdiction"),
    (
        trade(
            personal(),
            cross_border=True,
            security_assessment_on_file=None,
            listing_kw={"rights": rights(territory="cross_border")},
        ),
        "security_assessment_on_file",
    ),
    (trade(cross_border=True, listing_kw={"rights": rights(territory=None)}), "rights.territory"),
    (trade(public("conditional"), purpose=None), "purpose"),
]


@pytest.mark.parametrize(("facts", "fact"), MISSING, ids=[m[1] for m in MISSING])
def test_a_missing_fact_denies_and_is_named(facts: ListingFacts | TradeFacts, fact: str) -> None:
    decision = evaluate(facts)
    assert decision.outcome == "deny"
    named = [f for f in decision.findings if fact in f.details.get("missing_facts", [])]
    assert named, decision.findings
    for finding in named:
        assert finding.outcome == "deny"
        assert finding.message_en.startswith(f"missing fact {fact}")
        assert "缺少事实" in finding.message_zh


def test_decisions_are_deterministic_and_the_snapshot_reproduces_them() -> None:
    facts = trade(personal(), public("conditional", resource_id="R2"), purpose="risk_control")
    first, second = evaluate(facts), evaluate(facts)
    assert first == second
    assert first.model_dump_json() == second.model_dump_json()
    # The stored snapshot is enough to re-run the decision later (audit, appeals).
    replayed = evaluate(TradeFacts.model_validate(first.facts))
    assert replayed == first


@pytest.mark.parametrize(
    "build",
    [
        lambda: trade(purpose="spying"),
        lambda: trade(licence_permitted_purposes=["resale"]),
        lambda: rights(permitted_purposes=["anything"]),
        lambda: personal(
            consent={
                "purposes": ["x"],
                "covers_onward_transfer": True,
                "separate_consent_for_sensitive": True,
            }
        ),
        lambda: ConditionalOpenApproval(resource_id="R", application_id="A", purposes=["?"]),
    ],
)
def test_unknown_purposes_are_rejected_by_validation(build: Any) -> None:
    with pytest.raises(ValidationError, match="unknown purpose"):
        build()


def test_facts_models_reject_bad_input() -> None:
    with pytest.raises(ValidationError):
        res(security_tags=["nuclear"])  # closed tag vocabulary: typos must not slip past
    with pytest.raises(ValidationError):
        res(open_class="unconditional")  # open classes belong to public data only
    with pytest.raises(ValidationError):
        ParticipantFacts(participant_id="p", credit="good", jurisdiction="domestic", x=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        listing(declared_scenarios=["   "])
    with pytest.raises(ValidationError):
        ResourceFacts.model_validate({"resource_id": "R"})  # no silent defaults for flags
    frozen = res()
    with pytest.raises(ValidationError):
        frozen.grade = "core"


def test_known_purposes_match_the_contracts_vocabulary() -> None:
    assert {
        "public_governance",
        "public_welfare",
        "academic_research",
        "commercial_analytics",
        "credit_assessment",
        "marketing",
        "risk_control",
        "product_development",
        "ai_training",
        "internal_operations",
    } == KNOWN_PURPOSES
