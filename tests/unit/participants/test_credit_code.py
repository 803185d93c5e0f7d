"""Credit codes: python-stdnum's check digit with our messages; generated examples are valid."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc

from market.participants.credit_code import (
    ALPHABET,
    credit_code_problems,
    example_credit_codes,
    is_valid_credit_code,
)

DEMO_SELLER_CODE = "91350100M000100Y43"


@given(st.integers(min_value=0, max_value=2**32))
def test_examples_are_valid_by_our_rules_and_by_stdnum(seed: int) -> None:
    codes = example_credit_codes(5, avoid={DEMO_SELLER_CODE}, seed=seed)
    assert len(set(codes)) == 5 and DEMO_SELLER_CODE not in codes
    assert all(is_valid_credit_code(c) and uscc.is_valid(c) for c in codes)


@given(
    st.integers(min_value=0, max_value=2**32),
    st.integers(min_value=0, max_value=17),
    st.sampled_from(ALPHABET),
)
def test_any_single_changed_character_is_refused_naming_a_reason(seed: int, position: int, char: str) -> None:
    code = example_credit_codes(1, seed=seed)[0]
    changed = code[:position] + char + code[position + 1 :]
    if changed == code:
        return
    problems = credit_code_problems(changed)
    assert problems and all(p.reason for p in problems)
    assert not uscc.is_valid(changed) or position in range(8, 17)  # stdnum skips the organisation code


def test_messages_stay_ours() -> None:
    assert [p.reason for p in credit_code_problems("91350100M000100Y44")] == [
        "check digit (position 18) does not match"
    ]
    assert credit_code_problems("9135010")[0].reason == "must be 18 characters, got 7"
    assert "position 2 must be a digit" in credit_code_problems("9A350100M000100Y43")[0].reason
