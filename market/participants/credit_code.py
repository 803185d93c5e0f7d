"""Unified social credit code (统一社会信用代码) validation, GB 32100-2015.

Pure: no I/O. Every organisation on the exchange is identified by this code (吉政办发〔2016〕35号).
"""

from __future__ import annotations

from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714 organisation code: 8 body characters and their own check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_REGISTRATION_AUTHORITIES = frozenset("123456789ANY")


@dataclass(frozen=True)
class CreditCodeProblem:
    reason: str
    position: int | None = None


def organisation_check_char(body: str) -> str:
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def credit_code_check_char(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, _CODE_WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


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
    org_body, org_check = code[8:16], code[16]
    if organisation_check_char(org_body) != org_check:
        problems.append(
            CreditCodeProblem("the embedded organisation code (positions 9-17) fails its check digit", 17)
        )
    expected = credit_code_check_char(code[:17])
    if expected != code[17]:
        problems.append(CreditCodeProblem("check digit (position 18) does not match", 18))
    return problems


def is_valid_credit_code(code: str) -> bool:
    return not credit_code_problems(code)
