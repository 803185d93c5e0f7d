"""Periods of the Beijing calendar (day, month, year) computed by the database, for reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

# Beijing has kept UTC+8 all year since 1991, so a period of the Beijing calendar is the UTC
# timestamp shifted by eight hours (PostgreSQL is told the zone by name all the same).
_PERIOD_FORMATS = {
    "day": ("YYYY-MM-DD", "%Y-%m-%d"),
    "month": ("YYYY-MM", "%Y-%m"),
    "year": ("YYYY", "%Y"),
}
PERIOD_PATTERN = "^(day|month|year)$"


def beijing_period(dialect: str, period: str, moment: ColumnElement[datetime] | Any) -> ColumnElement[str]:
    """The Beijing-calendar `period` (day, month or year) of the timestamp column `moment`."""
    pg_format, sqlite_format = _PERIOD_FORMATS[period]
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", moment), pg_format)
    return func.strftime(sqlite_format, moment, "+8 hours")
