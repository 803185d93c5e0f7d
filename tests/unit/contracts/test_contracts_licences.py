from datetime import timedelta
from typing import Any

import pytest
from contract_factories import ALL_PURPOSES, HOUR, T0, child, holding, index, scope, scopes
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import (
    ContractError,
    Licence,
    LicenceTemplate,
    Purpose,
    RightGrant,
    RightKind,
    Territory,
    derive_licence,
    validate_chain,
)

ROOT = holding("H")
OPER = child(
    "O",
    ROOT,
    RightKind.OPERATING,
    holder="shop",
    scope=scope(Purpose.MARKETING, Purpose.RISK_CONTROL, volume=1000, fields=frozenset({"a"})),
    valid_to=T0 + 30 * 24 * HOUR,
)
TEMPLATE = LicenceTemplate(
    permitted_purposes=frozenset({"marketing", "ai_training"}),
    scenarios=("customer segmentation",),
    term_days=365,
    territory=Territory.CROSS_BORDER,
    redistribution_allowed=True,
    quota=5000,
)


def derive(grant: RightGrant = OPER, grants: Any = None, **changes: Any) -> Licence:
    args: dict[str, Any] = {
        "template": TEMPLATE,
        "operating_grant": grant,
        "chain_validity": validate_chain(grant.grant_id, grants or index(ROOT, grant), T0),
        "buyer_id": "buyer",
        "product_id": "P1",
        "purpose": "marketing",
        "scenario": "customer segmentation",
        "start": T0,
        "licence_id": "L1",
    }
    args.update(changes)
    return derive_licence(**args)


def test_the_licence_is_narrowed_to_the_operating_right() -> None:
    lic = derive()
    assert lic.purposes == {Purpose.MARKETING}
    assert lic.valid_to == OPER.valid_to  # 365 days clipped to the right's 30
    assert lic.territory is Territory.DOMESTIC
    assert lic.quota == 1000
    assert lic.redistribution_allowed is False  # operating right not sublicensable
    assert lic.field_limits == frozenset({"a"})
    assert lic.chain == ("H", "O") and lic.registration_id == "REG-1"
    assert lic.licensor_id == "shop" and lic.licensee_id == "buyer"
    assert len(lic.adjustments) == 4


def test_a_licence_within_the_right_is_not_adjusted() -> None:
    wide = child(
        "O",
        ROOT,
        RightKind.OPERATING,
        scope=scope(sublicensable=True, territory=Territory.CROSS_BORDER),
    )
    lic = derive(wide)
    assert lic.valid_to == T0 + timedelta(days=365)
    assert lic.quota == 5000 and lic.redistribution_allowed and lic.adjustments == ()


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"purpose": "ai_training"}, "purpose_outside_right", "purpose"),
        ({"purpose": "risk_control"}, "purpose_not_offered", "purpose"),
        ({"purpose": "espionage"}, "unknown_purpose", "purpose"),
        ({"scenario": "resale"}, "scenario_not_offered", "scenario"),
        ({"product_id": "P2"}, "product_mismatch", "product_id"),
        ({"start": T0 + 31 * 24 * HOUR}, "right_not_in_force", "start"),
    ],
)
def test_refusals_carry_a_code_and_the_field(changes: dict[str, Any], code: str, field: str) -> None:
    with pytest.raises(ContractError) as caught:
        derive(**changes)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_no_licence_rests_on_an_invalid_chain() -> None:
    with pytest.raises(ContractError) as caught:
        derive(grants=index(ROOT.revoked(T0 - HOUR), OPER))
    assert caught.value.code == "chain_invalid"
    assert "Art. 63(2)" in caught.value.reason


def test_only_an_operating_right_supports_a_licence() -> None:
    proc = child("O", ROOT, subject_kind="product", subject_id="P1")
    with pytest.raises(ContractError) as caught:
        derive(proc, grants=index(holding("H", subject_kind="product", subject_id="P1"), proc))
    assert caught.value.code == "not_operating_right"


@st.composite
def templates(draw: st.DrawFn) -> LicenceTemplate:
    return LicenceTemplate(
        permitted_purposes=draw(st.frozensets(st.sampled_from(ALL_PURPOSES), min_size=1)),
        scenarios=("analytics", "scoring"),
        term_days=draw(st.integers(1, 1000)),
        territory=draw(st.sampled_from(Territory)),
        redistribution_allowed=draw(st.booleans()),
        onward_processing_allowed=draw(st.booleans()),
        quota=draw(st.none() | st.integers(1, 100_000)),
    )


@settings(max_examples=300)
@given(templates(), scopes(), st.data())
def test_a_licence_never_exceeds_its_operating_right(
    template: LicenceTemplate, right_scope: Any, data: st.DataObject
) -> None:
    end = data.draw(st.none() | st.integers(1, 5000).map(lambda h: T0 + h * HOUR))
    revoked = data.draw(st.none() | st.integers(-10, 5000).map(lambda h: T0 + h * HOUR))
    grant = child(
        "O",
        ROOT,
        RightKind.OPERATING,
        scope=right_scope,
        valid_from=T0,
        valid_to=end,
        revoked_at=revoked,
    )
    start = T0 + data.draw(st.integers(0, 100)) * HOUR
    try:
        lic = derive_licence(
            template,
            grant,
            validate_chain("O", index(ROOT, grant), start),
            "buyer",
            "P1",
            data.draw(st.sampled_from(ALL_PURPOSES)),
            data.draw(st.sampled_from(["analytics", "other"])),
            start,
            licence_id="L",
        )
    except ContractError as refused:
        assert refused.code in {
            "chain_invalid",
            "right_not_in_force",
            "purpose_not_offered",
            "purpose_outside_right",
            "scenario_not_offered",
        }
        return
    s = grant.scope
    assert lic.purposes <= s.purposes and lic.purposes <= template.permitted_purposes
    assert grant.valid_from <= lic.valid_from < lic.valid_to
    assert lic.valid_to - lic.valid_from <= timedelta(days=template.term_days)
    for limit in (grant.valid_to, grant.revoked_at):
        assert limit is None or lic.valid_to <= limit
    assert s.territory.covers(lic.territory) and template.territory.covers(lic.territory)
    if s.volume_limit is not None:
        assert lic.quota is not None and lic.quota <= s.volume_limit
    if template.quota is not None:
        assert lic.quota is not None and lic.quota <= template.quota
    assert not lic.redistribution_allowed or (s.sublicensable and template.redistribution_allowed)
    assert lic.field_limits == s.field_limits
