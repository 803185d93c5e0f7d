from datetime import datetime

import pytest
from contract_factories import HOUR, T0, child, holding, scope
from pydantic import ValidationError

from contracts import ContractError, Purpose, RightKind, Scope, Territory, parse_purpose


def test_each_right_kind_has_its_article_22_chinese_name() -> None:
    assert RightKind.HOLDING.name_zh == "数据资源持有权"
    assert RightKind.PROCESSING.name_zh == "数据加工使用权"
    assert RightKind.OPERATING.name_zh == "数据产品经营权"


def test_cross_border_covers_domestic_but_not_the_reverse() -> None:
    assert Territory.CROSS_BORDER.covers(Territory.DOMESTIC)
    assert Territory.DOMESTIC.covers(Territory.DOMESTIC)
    assert not Territory.DOMESTIC.covers(Territory.CROSS_BORDER)


def test_purposes_are_parsed_leniently_in_case_and_space() -> None:
    assert parse_purpose(" AI_Training ") is Purpose.AI_TRAINING


def test_an_unknown_purpose_is_refused_with_a_stable_code() -> None:
    with pytest.raises(ContractError) as caught:
        Scope(purposes=frozenset({"marketing", "spying"}))
    assert caught.value.code == "unknown_purpose"
    assert caught.value.field == "scope.purposes"
    assert "'spying'" in caught.value.reason and "Art. 63(2)" in caught.value.reason


def test_a_scope_needs_at_least_one_purpose() -> None:
    with pytest.raises(ValidationError):
        Scope(purposes=frozenset())


def test_scope_within_its_parent_has_no_reasons() -> None:
    parent = scope(Purpose.MARKETING, Purpose.RISK_CONTROL, fields=frozenset({"a", "b"}), volume=10)
    narrower = scope(Purpose.MARKETING, fields=frozenset({"a"}), volume=10)
    assert narrower.within(parent) == []


A = frozenset({"a"})


@pytest.mark.parametrize(
    ("child_scope", "field"),
    [
        (scope(Purpose.AI_TRAINING, fields=A, volume=5), "scope.purposes"),
        (
            scope(Purpose.MARKETING, territory=Territory.CROSS_BORDER, fields=A, volume=1),
            "scope.territory",
        ),
        (scope(Purpose.MARKETING, fields=frozenset({"a", "z"}), volume=5), "scope.field_limits"),
        (scope(Purpose.MARKETING, volume=5), "scope.field_limits"),  # None = all fields
        (scope(Purpose.MARKETING, fields=A, volume=11), "scope.volume_limit"),
        (scope(Purpose.MARKETING, fields=A), "scope.volume_limit"),
    ],
)
def test_scope_beyond_its_parent_names_the_field(child_scope: Scope, field: str) -> None:
    parent = scope(Purpose.MARKETING, fields=frozenset({"a", "b"}), volume=10)
    assert [f for f, _ in child_scope.excess_over(parent)] == [field]
    assert len(child_scope.within(parent)) == 1


def test_only_the_holding_right_may_lack_a_parent() -> None:
    with pytest.raises(ContractError) as caught:
        holding(kind=RightKind.PROCESSING)
    assert caught.value.code == "parent_required"


def test_a_root_holding_right_needs_its_registration() -> None:
    with pytest.raises(ContractError) as caught:
        holding(registration_id=None)
    assert caught.value.code == "registration_required"


def test_an_operating_right_is_over_a_product() -> None:
    with pytest.raises(ContractError) as caught:
        child("O", holding(), RightKind.OPERATING, subject_kind="resource")
    assert caught.value.code == "operating_needs_product"


def test_a_term_must_not_be_empty() -> None:
    with pytest.raises(ContractError) as caught:
        holding(valid_from=T0, valid_to=T0)
    assert caught.value.code == "empty_term"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError):
        holding(valid_from=datetime(2025, 1, 1))


def test_revocation_takes_effect_at_its_instant_and_an_earlier_one_stands() -> None:
    grant = holding().revoked(T0)
    assert grant.is_active(T0 - HOUR)
    assert not grant.is_active(T0)
    assert grant.revoked(T0 + HOUR).revoked_at == T0


def test_purposes_must_be_a_list() -> None:
    import pytest

    from contracts import ContractError, parse_purposes

    for bad in (None, 3, {"risk_control": True}):
        with pytest.raises(ContractError, match="invalid_purposes"):
            parse_purposes(bad)  # type: ignore[arg-type]
