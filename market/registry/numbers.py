"""Human-readable registration numbers: JLDR-<year>-<R|P>-<six-digit sequence>."""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "JLDR"
_PATTERN = re.compile(r"^JLDR-(\d{4})-([RP])-(\d{6})$")


@dataclass(frozen=True)
class RegistrationNumber:
    year: int
    kind: str  # R: data resource, P: data product
    sequence: int

    def __str__(self) -> str:
        return format_registration_number(self.year, self.kind, self.sequence)


def format_registration_number(year: int, kind: str, sequence: int) -> str:
    if kind not in ("R", "P") or not 1 <= sequence <= 999_999 or not 2000 <= year <= 9999:
        raise ValueError("registration numbers are JLDR-<year>-<R|P>-<000001..999999>")
    return f"{PREFIX}-{year}-{kind}-{sequence:06d}"


def parse_registration_number(text: str) -> RegistrationNumber:
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a registration number (JLDR-2026-R-000123)")
    return RegistrationNumber(int(match[1]), match[2], int(match[3]))
