"""One-line builders of valid, fully compliant facts; a test overrides only what it is about."""

from __future__ import annotations

from typing import Any

from market.compliance.facts import (
    ListingFacts,
    ParticipantFacts,
    ResourceFacts,
    RightFacts,
    TradeFacts,
)

SCENARIO = "SME credit scoring"
PURPOSE = "commercial_analytics"
NOTHING_EXPORTED: dict[str, Any] = {"resource_ids": [], "people": 0, "sensitive_people": 0}


def resource(**kw: Any) -> ResourceFacts:
    base: dict[str, Any] = {
        "resource_id": "R1",
        "category": "enterprise",
        "grade": "general",
        "sensitive_personal": False,
        "trade_secret": False,
        "security_tags": [],
    }
    return ResourceFacts.model_validate(base | kw)


def public(open_class: str = "unconditional", **kw: Any) -> ResourceFacts:
    mandate = {"mandate_id": "M1", "scope_purposes": [PURPOSE], "valid": True}
    return resource(
        **({"category": "public", "open_class": open_class, "authorised_operation": mandate} | kw)
    )


def consent(**kw: Any) -> dict[str, Any]:
    base = {
        "purposes": [PURPOSE],
        "covers_onward_transfer": True,
        "separate_consent_for_sensitive": False,
    }
    return base | kw


def personal(personal_info: str = "identifiable", **kw: Any) -> ResourceFacts:
    return resource(**({"category": "personal", "personal_info": personal_info, "consent": consent()} | kw))


def rights(**kw: Any) -> RightFacts:
    base: dict[str, Any] = {
        "holds_valid_operating_right": True,
        "permitted_purposes": [PURPOSE, "risk_control"],
        "territory": "domestic",
        "chain_failure_reason": None,
        "seller_is_registered_holder": True,
    }
    return RightFacts.model_validate(base | kw)


def participant(participant_id: str = "seller", **kw: Any) -> ParticipantFacts:
    base = {"participant_id": participant_id, "credit": "good", "jurisdiction": "domestic"}
    return ParticipantFacts.model_validate(base | kw)


def listing(*resources: ResourceFacts, **kw: Any) -> ListingFacts:
    base: dict[str, Any] = {
        "product_id": "P1",
        "seller": participant("seller"),
        "resources": list(resources) or [resource()],
        "rights": rights(),
        "declared_scenarios": [SCENARIO],
        "charges_fee": True,
    }
    return ListingFacts.model_validate(base | kw)


def trade(*resources: ResourceFacts, **kw: Any) -> TradeFacts:
    listing_kw = kw.pop("listing_kw", {})
    base: dict[str, Any] = {
        "listing": listing(*resources, **listing_kw),
        "buyer": participant("buyer"),
        "purpose": PURPOSE,
        "scenario": SCENARIO,
        "cross_border": False,
        "security_assessment_on_file": False,
        "standard_contract_on_file": False,
        "exporter_exports_this_year": NOTHING_EXPORTED,
        "licence_permitted_purposes": [PURPOSE, "risk_control"],
    }
    return TradeFacts.model_validate(base | kw)
