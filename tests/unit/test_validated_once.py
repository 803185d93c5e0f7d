"""A listing's stored plan and template are validated once per distinct value: an edited value
is validated afresh, and one that does not validate is refused every time."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from market.catalog.products import stored_plan
from market.common.validated import ValidatedOnce
from pricing import FixedPlan, parse_plan

PLAN = {"kind": "fixed", "unit_price": "100.00", "currency": "CNY", "plan_version": 1}


def counting() -> tuple[ValidatedOnce[Any], list[Any]]:
    seen: list[Any] = []

    def validate(data: Any) -> Any:
        seen.append(data)
        return parse_plan(data)

    return ValidatedOnce(validate), seen


def test_the_same_stored_value_is_validated_once() -> None:
    plans, seen = counting()
    first = plans(dict(PLAN))
    again = plans(dict(PLAN))  # an equal value read again, as the next quote reads it
    assert again is first and len(seen) == 1


def test_an_edited_value_is_validated_afresh() -> None:
    plans, seen = counting()
    assert str(plans(dict(PLAN)).unit_price) == "100.00"
    edited = plans({**PLAN, "unit_price": "120.00"})
    assert str(edited.unit_price) == "120.00" and len(seen) == 2


def test_a_value_that_does_not_validate_is_refused_every_time() -> None:
    plans, seen = counting()
    broken = {**PLAN, "unit_price": "a lot"}
    for _ in range(2):
        with pytest.raises(ValidationError):
            plans(broken)
    assert len(seen) == 2


def test_many_distinct_values_do_not_grow_without_bound() -> None:
    plans = ValidatedOnce(parse_plan, size=3)
    for n in range(10):
        plan = plans({**PLAN, "unit_price": f"{n}.00"})
        assert isinstance(plan, FixedPlan) and str(plan.unit_price) == f"{n}.00"
    assert len(plans._known) <= 3


def test_the_catalogues_plans_are_frozen_so_they_may_be_shared() -> None:
    plan = stored_plan(dict(PLAN))
    assert isinstance(plan, FixedPlan)
    with pytest.raises(ValidationError):
        plan.unit_price = 1  # type: ignore[assignment,misc]
