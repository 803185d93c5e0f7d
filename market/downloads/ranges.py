"""HTTP byte ranges (RFC 9110 §14): one range per request, which is what resuming needs."""

from __future__ import annotations

import re

_ONE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(ValueError):
    """A syntactically valid range that selects nothing of the representation (416)."""


def parse(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) of the one range asked for, or None for the whole body (no Range header,
    one in another unit, several ranges, or one we cannot read: RFC 9110 §14.2 lets a server
    ignore a Range it does not support). Raises Unsatisfiable (416) for a range past the end."""
    if not header:
        return None
    match = _ONE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - suffix), size
    start = int(first)
    end = size if not last else int(last) + 1
    if last and end <= start:
        return None  # invalid: last < first, ignored as the RFC says
    if start >= size:
        raise Unsatisfiable
    return start, min(end, size)
