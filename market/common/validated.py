"""Stored JSON validated into frozen models once per distinct value, not once per request.

A product's price plan and licence template are validated from their stored JSON on every quote
and every delivery, although they change only when the seller edits the listing (issue 21: some
40 µs each of a purchase's CPU). The JSON text of the value is the key, so an edited value is
validated afresh; only immutable (frozen) results may be shared this way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import pydantic_core

Validated = TypeVar("Validated")


class ValidatedOnce(Generic[Validated]):
    """`validate(data)` for JSON values (as read from a JSON column), remembered by their JSON
    text; a value that fails to validate raises each time, and is not remembered."""

    def __init__(self, validate: Callable[[Any], Validated], size: int = 1024) -> None:
        self._validate = validate
        self._size = size
        self._known: dict[bytes, Validated] = {}

    def __call__(self, data: Any) -> Validated:
        key = pydantic_core.to_json(data)
        found = self._known.get(key)
        if found is None:
            found = self._validate(data)
            if len(self._known) >= self._size:
                self._known.clear()  # many distinct listings: start again rather than grow
            self._known[key] = found
        return found
