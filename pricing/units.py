"""Units of count (计量单位) a tariff or plan charges by, with the words itemised lines print.

发改价格〔2025〕65号 lets the operating-service fee be charged "by quantity of products, number
of services, service time or call volume"; 国办函〔2020〕109号 counts requests (件, Art. 4) and
pages (页, Art. 5). The stored value keeps the older `per_…` spelling; the bare English word
and the Chinese measure word are accepted on input, so `"request"`, `"件"` and
`"per_request"` all mean the same unit.
"""

from __future__ import annotations

from enum import StrEnum

# value -> (English singular, English plural, Chinese measure word)
_WORDS: dict[str, tuple[str, str, str]] = {
    "per_request": ("request", "requests", "件"),
    "per_page": ("page", "pages", "页"),
    "per_record": ("record", "records", "条"),
    "per_call": ("call", "calls", "次"),
    "per_gb": ("GB", "GB", "GB"),
    "per_month": ("month", "months", "个月"),
    "per_report": ("report", "reports", "份"),
}


class Unit(StrEnum):
    """What one unit of quantity is. `per_report` predates this list and stays valid."""

    PER_REQUEST = "per_request"
    PER_PAGE = "per_page"
    PER_RECORD = "per_record"
    PER_CALL = "per_call"
    PER_GB = "per_gb"
    PER_MONTH = "per_month"
    PER_REPORT = "per_report"

    @classmethod
    def _missing_(cls, value: object) -> Unit | None:
        if not isinstance(value, str):
            return None
        wanted = value.strip()
        for member in cls:
            singular, plural, zh = _WORDS[member.value]
            if wanted in (zh, f"per {singular}") or wanted.lower() in (singular.lower(), plural.lower()):
                return member
        return None

    @property
    def singular(self) -> str:
        return _WORDS[self.value][0]

    @property
    def plural(self) -> str:
        return _WORDS[self.value][1]

    @property
    def zh(self) -> str:
        """The Chinese measure word (量词): 件, 页, 条, 次, GB, 个月, 份."""
        return _WORDS[self.value][2]

    def en_count(self, n: int) -> str:
        """`1 request`, `10 requests`, `5 GB`."""
        return f"{n} {self.singular if n == 1 else self.plural}"

    def en_range(self, first: int, last: int) -> str:
        """`requests 11–20`, `request 7` (a fee schedule's way of naming units)."""
        if first == last:
            return f"{self.singular} {first}"
        return f"{self.plural} {first}–{last}"

    def zh_range(self, first: int, last: int) -> str:
        """`第11–20件`, `第7页`; `11–20 GB` where the unit is not a measure word."""
        span = str(first) if first == last else f"{first}–{last}"
        if self is Unit.PER_GB:
            return f"{span} GB"
        return f"第{span}{self.zh}"


def en_range(unit: Unit | None, first: int, last: int) -> str:
    """Like `Unit.en_range`, with plain `units 11–20` when no unit of count is declared."""
    if unit is not None:
        return unit.en_range(first, last)
    return f"unit {first}" if first == last else f"units {first}–{last}"


def zh_range(unit: Unit | None, first: int, last: int) -> str:
    if unit is not None:
        return unit.zh_range(first, last)
    span = str(first) if first == last else f"{first}–{last}"
    return f"第{span}单位"
