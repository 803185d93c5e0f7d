"""The CAC 2024 cross-border thresholds, and how an exporter's year is counted."""

from __future__ import annotations

import pytest
from compliance_factories import NOTHING_EXPORTED, personal
from hypothesis import given
from hypothesis import strategies as st

from market.compliance.cross_border import Obligation, cumulative_export, obligation_for
from market.compliance.facts import ExportVolume

A = Obligation.SECURITY_ASSESSMENT
C = Obligation.STANDARD_CONTRACT_OR_CERTIFICATION
E = Obligation.EXEMPT


@pytest.mark.parametrize(
    ("people", "sensitive", "expected"),
    [
        (0, 0, E),
        (99_999, 0, E),
        (100_000, 0, C),
        (999_999, 0, C),
        (1_000_000, 0, A),
        (1_200_000, 0, A),
        (50_000, 1, C),
        (50_000, 9_999, C),
        (50_000, 10_000, A),
    ],
)
def test_thresholds_at_their_edges(people: int, sensitive: int, expected: Obligation) -> None:
    assert obligation_for(people, sensitive) == expected


def test_important_data_always_needs_an_assessment() -> None:
    assert obligation_for(0, 0, important_data=True) == A


RANK = {E: 0, C: 1, A: 2}


@given(st.integers(0, 3_000_000), st.integers(0, 30_000), st.integers(0, 3_000_000), st.integers(0, 30_000))
def test_exporting_more_never_lightens_the_obligation(
    people: int, sensitive: int, more: int, more_s: int
) -> None:
    assert RANK[obligation_for(people + more, sensitive + more_s)] >= RANK[obligation_for(people, sensitive)]


def paths(*ids: str) -> dict[str, str]:
    return {i: f"resources[{i}].people_covered" for i in ids}


def test_a_resource_already_exported_this_year_is_counted_once() -> None:
    r = personal(resource_id="R1", people_covered=60_000, sensitive_people_covered=0)
    already = ExportVolume(resource_ids=("R1",), people=60_000, sensitive_people=0)
    counted = cumulative_export(already, [r], paths("R1"))
    assert not isinstance(counted, tuple)
    assert (counted.people, counted.obligation) == (60_000, E)


def test_this_years_exports_add_up_across_resources() -> None:
    r = personal(resource_id="R2", people_covered=60_000, sensitive_people_covered=0)
    already = ExportVolume(resource_ids=("R1",), people=60_000, sensitive_people=0)
    counted = cumulative_export(already, [r], paths("R2"))
    assert not isinstance(counted, tuple)
    assert (counted.people, counted.obligation) == (120_000, C)


def test_unknown_headcounts_are_missing_facts_not_zero() -> None:
    r = personal(resource_id="R2")
    assert cumulative_export(ExportVolume.model_validate(NOTHING_EXPORTED), [r], paths("R2")) == (
        "resources[R2].people_covered",
    )
    uncounted = ExportVolume(
        resource_ids=("R7",), people=0, sensitive_people=0, uncounted_resource_ids=("R7",)
    )
    counted = personal(resource_id="R3", people_covered=1, sensitive_people_covered=0)
    assert cumulative_export(uncounted, [counted], paths("R3")) == (
        "exporter_exports_this_year.uncounted[R7].people_covered",
    )
    assert cumulative_export(None, [counted], paths("R3")) == ("exporter_exports_this_year",)
