"""The one source of "now" for business rules (publicity periods, quote expiry, terms).

Tests move it forward instead of sleeping; production never touches the offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def advance(delta: timedelta) -> None:
    """Move business time forward (tests and demos only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)
