"""Properties over arbitrary valid facts: never raises, deny dominates, unknowns never allow."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from market.common.vocabulary import KNOWN_PURPOSES
from market.compliance.decision import combine, evaluate
from market.compliance.facts import (
    ListingFacts,
    TradeFacts,
)

PURPOSES = sorted(KNOWN_PURPOSES)
purposes = st.lists(st.sampled_from(PURPOSES), max_size=3, unique=True)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def resources(draw: st.DrawFn, resource_id: str) -> dict[str, Any]:
    category = draw(maybe(st.sampled_from(["public", "enterprise", "personal"])))
    open_class = (
        draw(maybe(st.sampled_from(["unconditional", "conditional", "not_open"])))
        if category in ("public", None)
        else None
    )
    people = draw(maybe(st.integers(0, 3_000_000)))
    return {
        "resource_id": resource_id,
        "people_covered": people,
        "sensitive_people_covered": None if people is None else draw(st.integers(0, min(people, 20_000))),
        "personal_data_hold": draw(st.booleans()),
        "category": category,
        "grade": draw(maybe(st.sampled_from(["general", "important", "core"]))),
        "open_class": open_class,
        "personal_info": draw(maybe(st.sampled_from(["identifiable", "de_identified", "anonymised"]))),
        "sensitive_personal": draw(st.booleans()),
        "consent": draw(
            maybe(
                st.fixed_dictionaries(
                    {
                        "purposes": purposes,
                        "covers_onward_transfer": st.booleans(),
                        "separate_consent_for_sensitive": st.booleans(),
                    }
                )
            )
        ),
        "trade_secret": draw(st.booleans()),
        "security_tags": draw(
            st.lists(
                st.sampled_from(
                    ["national_security", "public_security", "military", "state_secret", "public_interest"]
                ),
                max_size=2,
            )
        ),
        "authorised_operation": draw(
            maybe(
                st.fixed_dictionaries(
                    {
                        "mandate_id": st.just("M1"),
                        "scope_purposes": purposes,
                        "valid": st.booleans(),
                    }
                )
            )
        ),
    }


def participants(pid: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "participant_id": st.just(pid),
            "credit": maybe(st.sampled_from(["good", "watch", "blacklisted"])),
            "jurisdiction": maybe(st.sampled_from(["domestic", "foreign"])),
        }
    )


scenarios = st.sampled_from(["credit scoring", "logistics planning"])


@st.composite
def listings(draw: st.DrawFn) -> ListingFacts:
    n = draw(st.integers(min_value=0, max_value=3))
    return ListingFacts.model_validate(
        {
            "product_id": "P1",
            "seller": draw(participants("seller")),
            "resources": [draw(resources(f"R{i}")) for i in range(n)],
            "rights": draw(
                maybe(
                    st.fixed_dictionaries(
                        {
                            "holds_valid_operating_right": maybe(st.booleans()),
                            "permitted_purposes": purposes,
                            "territory": maybe(st.sampled_from(["domestic", "cross_border"])),
                            "chain_failure_reason": maybe(st.just("revoked")),
                            "seller_is_registered_holder": maybe(st.booleans()),
                        }
                    )
                )
            ),
            "declared_scenarios": draw(st.lists(scenarios, max_size=2, unique=True)),
            "charges_fee": draw(maybe(st.booleans())),
        }
    )


@st.composite
def trades(draw: st.DrawFn) -> TradeFacts:
    return TradeFacts.model_validate(
        {
            "listing": draw(listings()),
            "buyer": draw(participants("buyer")),
            "purpose": draw(maybe(st.sampled_from(PURPOSES))),
            "scenario": draw(maybe(scenarios)),
            "cross_border": draw(maybe(st.booleans())),
            "conditional_open_approvals": draw(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "resource_id": st.sampled_from(["R0", "R1", "R2"]),
                            "application_id": st.just("A1"),
                            "purposes": purposes,
                        }
                    ),
                    max_size=2,
                )
            ),
            "security_assessment_on_file": draw(maybe(st.booleans())),
            "standard_contract_on_file": draw(maybe(st.booleans())),
            "exporter_exports_this_year": draw(
                maybe(
                    st.fixed_dictionaries(
                        {
                            "resource_ids": st.lists(
                                st.sampled_from(["R0", "R1", "R9"]), max_size=2, unique=True
                            ),
                            "people": st.integers(0, 2_000_000),
                            "sensitive_people": st.integers(0, 20_000),
                            "uncounted_resource_ids": st.lists(st.just("R8"), max_size=1),
                        }
                    )
                )
            ),
            "licence_permitted_purposes": draw(maybe(purposes)),
        }
    )


facts_strategy = listings() | trades()


@settings(max_examples=400)
@given(facts_strategy)
def test_never_allow_when_any_rule_denies_and_never_raise(facts: ListingFacts | TradeFacts) -> None:
    decision = evaluate(facts)  # must not raise on any valid facts
    outcomes = {f.outcome for f in decision.findings}
    assert decision.outcome == combine(decision.findings)
    if "deny" in outcomes:
        assert decision.outcome == "deny"
    if decision.outcome == "allow":
        assert outcomes <= {"allow-note"}


@settings(max_examples=200)
@given(facts_strategy)
def test_a_missing_fact_never_lets_a_decision_through(facts: ListingFacts | TradeFacts) -> None:
    decision = evaluate(facts)
    if any("missing_facts" in f.details for f in decision.findings):
        assert decision.outcome == "deny"


@settings(max_examples=200)
@given(facts_strategy)
def test_decisions_are_deterministic_and_replayable(facts: ListingFacts | TradeFacts) -> None:
    decision = evaluate(facts)
    model = TradeFacts if decision.kind == "trade" else ListingFacts
    assert evaluate(model.model_validate(decision.facts)) == decision
    assert evaluate(facts) == decision


@settings(max_examples=200)
@given(listings(), st.sampled_from(["national_security", "public_security", "military"]))
def test_adding_a_prohibited_tag_always_denies(facts: ListingFacts, tag: str) -> None:
    assume(facts.resources)
    data = facts.model_dump(mode="json")
    data["resources"][0]["security_tags"].append(tag)
    decision = evaluate(ListingFacts.model_validate(data))
    assert decision.outcome == "deny"
    assert "DATA-011" in {f.rule_id for f in decision.findings}
