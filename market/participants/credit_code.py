"""Unified social credit code (统一社会信用代码) validation, GB 32100-2015.

Pure: no I/O. Every organisation on the exchange is identified by this code (吉政办发〔2016〕35号).
The check digit is python-stdnum's (`stdnum.cn.uscc`), a maintained implementation; the messages,
which name the position at fault, and the checks stdnum does not make (the registration authority,
the embedded GB 11714 organisation code) are ours.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass

from stdnum.cn import uscc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 11714 organisation code: 8 body characters and their own check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# GB 32100-2015 Table 1 and its amendments: the registration authority (position 1).
_REGISTRATION_AUTHORITIES = frozenset("123456789ANY")
# Examples: a company (9 1) registered in Changchun (220100), as most sellers here are.
_EXAMPLE_PREFIX = "91220100"


@dataclass(frozen=True)
class CreditCodeProblem:
    reason: str
    position: int | None = None


def organisation_check_char(body: str) -> str:
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def credit_code_check_char(first17: str) -> str:
    return uscc.calc_check_digit(first17)


def credit_code_problems(code: str) -> list[CreditCodeProblem]:
    """Every reason `code` is not a valid unified social credit code (empty if valid)."""
    if len(code) != 18:
        return [CreditCodeProblem(f"must be 18 characters, got {len(code)}")]
    bad = [(i, c) for i, c in enumerate(code) if c not in ALPHABET]
    if bad:
        i, c = bad[0]
        return [
            CreditCodeProblem(
                f"character {c!r} at position {i + 1} is not allowed "
                "(digits and upper-case letters except I, O, Z, S, V)",
                i + 1,
            )
        ]
    problems = []
    if code[0] not in _REGISTRATION_AUTHORITIES:
        problems.append(CreditCodeProblem(f"unknown registration authority {code[0]!r}", 1))
    letters = [(i, c) for i, c in enumerate(code[1:8], start=2) if not c.isdigit()]
    if letters:
        i, c = letters[0]
        problems.append(
            CreditCodeProblem(
                f"character {c!r} at position {i} must be a digit (entity type and region code)", i
            )
        )
    org_body, org_check = code[8:16], code[16]
    if organisation_check_char(org_body) != org_check:
        problems.append(
            CreditCodeProblem("the embedded organisation code (positions 9-17) fails its check digit", 17)
        )
    if credit_code_check_char(code[:17]) != code[17]:
        problems.append(CreditCodeProblem("check digit (position 18) does not match", 18))
    return problems


def is_valid_credit_code(code: str) -> bool:
    return not credit_code_problems(code)


def example_credit_codes(count: int, avoid: Collection[str] = (), seed: int | None = None) -> list[str]:
    """`count` distinct valid codes for tests and trials, none of them in `avoid`."""
    rng = random.Random(seed)  # noqa: S311 (test data, not a secret)
    codes: list[str] = []
    while len(codes) < count:
        body = "".join(rng.choice(ALPHABET) for _ in range(8))
        first17 = _EXAMPLE_PREFIX + body + organisation_check_char(body)
        code = first17 + credit_code_check_char(first17)
        if code not in avoid and code not in codes and is_valid_credit_code(code):
            codes.append(code)
    return codes
