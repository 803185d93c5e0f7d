import json
from typing import Any

import pytest
from contract_factories import HOUR, T0, child, holding, scope

from contracts import (
    ODRL_CONTEXT,
    ContractError,
    Licence,
    LicenceTemplate,
    Purpose,
    RightKind,
    Territory,
    derive_licence,
    grant_to_odrl,
    licence_to_odrl,
    validate_chain,
)

ROOT = holding("H")


def licence(**template: Any) -> Licence:
    oper = child(
        "O",
        ROOT,
        RightKind.OPERATING,
        holder="shop",
        scope=scope(Purpose.MARKETING, Purpose.RISK_CONTROL, sublicensable=True, volume=50),
    )
    terms: dict[str, Any] = {
        "permitted_purposes": frozenset({Purpose.MARKETING}),
        "scenarios": ("segmentation",),
        "term_days": 30,
    }
    terms.update(template)
    return derive_licence(
        LicenceTemplate(**terms),
        oper,
        validate_chain("O", {"H": ROOT, "O": oper}, T0),
        "buyer",
        "P1",
        Purpose.MARKETING,
        "segmentation",
        T0,
        licence_id="L1",
    )


def actions(rules: list[dict[str, Any]]) -> list[str]:
    return [r["action"] for r in rules]


def test_a_licence_exports_as_an_odrl_agreement() -> None:
    policy = licence_to_odrl(licence())
    assert json.loads(json.dumps(policy)) == policy
    assert policy["@context"] == ODRL_CONTEXT
    assert policy["@type"] == "Agreement"
    assert policy["uid"] == "urn:jde:licence:L1"
    assert policy["assigner"] == "urn:jde:participant:shop"
    assert policy["assignee"] == "urn:jde:participant:buyer"
    assert policy["target"] == "urn:jde:product:P1"
    [use] = policy["permission"]
    assert use["action"] == "use"
    constraints = {(c["leftOperand"], c["operator"]): c["rightOperand"] for c in use["constraint"]}
    assert constraints[("purpose", "isAnyOf")] == ["marketing"]
    assert constraints[("spatial", "eq")] == "CN"
    assert constraints[("dateTime", "lteq")]["@value"] == (T0 + 30 * 24 * HOUR).isoformat()
    assert constraints[("count", "lteq")] == 50
    assert actions(use["duty"]) == ["attribute", "delete"]
    assert actions(policy["prohibition"]) == ["distribute", "derive", "move"]


def test_redistribution_and_onward_processing_become_permissions() -> None:
    policy = licence_to_odrl(
        licence(
            redistribution_allowed=True,
            onward_processing_allowed=True,
            contains_personal_data=True,
            territory=Territory.CROSS_BORDER,
        )
    )
    assert actions(policy["permission"]) == ["use", "distribute", "derive"]
    assert actions(policy["permission"][2]["duty"]) == ["obtainConsent"]  # Art. 43
    # The template asked for cross-border, but the operating right is domestic (Art. 88).
    assert actions(policy["prohibition"]) == ["move"]


def test_export_is_deterministic() -> None:
    first = json.dumps(licence_to_odrl(licence()))
    assert first == json.dumps(licence_to_odrl(licence()))


def test_a_root_holding_right_is_a_set_and_a_granted_right_an_agreement() -> None:
    root_policy = grant_to_odrl(ROOT)
    assert root_policy["@type"] == "Set" and "assigner" not in root_policy
    assert actions(root_policy["permission"]) == ["use", "transfer", "grantUse"]
    assert "prohibition" not in root_policy  # cross-border holding right

    proc = child("P", ROOT, scope=scope(Purpose.ACADEMIC_RESEARCH))
    policy = grant_to_odrl(proc, assigner_id=ROOT.holder_id)
    assert json.loads(json.dumps(policy)) == policy
    assert policy["@type"] == "Agreement"
    assert policy["assigner"] == "urn:jde:participant:seller"
    assert policy["target"] == "urn:jde:resource:R1"
    assert actions(policy["prohibition"]) == ["move", "grantUse"]


def test_a_granted_right_needs_its_assigner() -> None:
    with pytest.raises(ContractError) as caught:
        grant_to_odrl(child("P", ROOT))
    assert caught.value.code == "assigner_required"
