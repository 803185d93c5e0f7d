"""What a licence cut short or partly refunded keeps: the unused share (pro rata) and the
narrowed licence, always computed from the issued terms."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from contract_factories import T0
from hypothesis import given
from hypothesis import strategies as st
from test_contracts_licences import derive

from contracts import ContractError, reduced_licence, unused_share

DAY = timedelta(days=1)
shares = st.fractions(min_value=0, max_value=1, max_denominator=10_000)


def test_the_unused_share_is_of_the_quota_when_there_is_one_else_of_the_term() -> None:
    end = T0 + 100 * DAY
    assert unused_share(valid_from=T0, valid_to=end, quota=None, used=0, at=T0 + 25 * DAY) == Fraction(3, 4)
    assert unused_share(valid_from=T0, valid_to=end, quota=1000, used=100, at=T0 + 25 * DAY) == Fraction(
        9, 10
    )
    assert unused_share(valid_from=T0, valid_to=end, quota=1000, used=1200, at=T0) == 0  # over-used
    assert unused_share(valid_from=T0, valid_to=end, quota=1000, used=0, at=end) == 0  # expired
    assert unused_share(valid_from=T0, valid_to=end, quota=None, used=0, at=T0 - DAY) == 1  # not begun


@given(
    st.integers(min_value=0, max_value=400), st.integers(min_value=1, max_value=10**6), st.integers(0, 10**6)
)
def test_the_unused_share_is_a_share_and_shrinks_with_time_and_use(days: int, quota: int, used: int) -> None:
    end, at = T0 + 365 * DAY, T0 + days * DAY
    for q in (None, quota):
        share = unused_share(valid_from=T0, valid_to=end, quota=q, used=used, at=at)
        later = unused_share(valid_from=T0, valid_to=end, quota=q, used=used + 1, at=at + DAY)
        assert 0 <= later <= share <= 1


def test_a_licence_with_a_quota_keeps_that_share_of_it_rounded_down() -> None:
    issued = derive()
    assert issued.quota == 1000
    narrowed = reduced_licence(issued, Fraction(2, 3))
    assert (narrowed.quota, narrowed.valid_to) == (666, issued.valid_to)
    assert narrowed.adjustments[-1].startswith("quota reduced from 1000 to 666")
    assert reduced_licence(issued, Fraction(1)) == issued


def test_a_licence_without_a_quota_keeps_that_share_of_its_term() -> None:
    issued = derive().model_copy(update={"quota": None})
    narrowed = reduced_licence(issued, Fraction(1, 4))
    assert narrowed.valid_to - narrowed.valid_from == (issued.valid_to - issued.valid_from) / 4
    with pytest.raises(ContractError):
        reduced_licence(issued, Fraction(5, 4))


@given(shares, shares)
def test_narrowing_is_monotonic_and_never_compounds(a: Fraction, b: Fraction) -> None:
    issued = derive()
    small, large = sorted((a, b))
    assert reduced_licence(issued, small).quota <= reduced_licence(issued, large).quota <= 1000  # type: ignore[operator]
    # Computed from the issued terms, the result depends on the share kept alone.
    assert reduced_licence(issued, small).quota == 1000 * small.numerator // small.denominator
