"""Request-model base shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator


def utc_instant(value: datetime) -> datetime:
    """A point in time: with its UTC offset (a naive one means different instants to different
    readers, and the database refuses to guess), and one UTC can express."""
    if value.tzinfo is None:
        raise ValueError("a timestamp needs its UTC offset, e.g. 2025-01-01T00:00:00Z or +08:00")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the timestamp is out of range") from exc


# Every timestamp a client sends (query parameters, body fields that are compared or stored).
Instant = Annotated[datetime, AfterValidator(utc_instant)]


def refuse_nul(value: Any, where: str) -> None:
    """ValueError if a NUL character is anywhere in `value` (its texts, keys and items)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where} contains a NUL character")
    elif isinstance(value, dict):
        for k, v in value.items():
            refuse_nul(k, where)
            refuse_nul(v, where)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            refuse_nul(v, where)


# No list in a request may hold more items than this (issue 18, finding 11), whatever its field
# allows; fields set tighter bounds of their own.
MAX_ITEMS = 1000


def _bounded(value: Any) -> None:
    if isinstance(value, list | tuple | set | frozenset):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"at most {MAX_ITEMS} items")
        for item in value:
            _bounded(item)
    elif isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise ValueError(f"at most {MAX_ITEMS} entries")
        for item in value.values():
            _bounded(item)


class StrictModel(BaseModel):
    """Unknown fields are refused (a typo must not silently drop a value), and so is the NUL
    character, which no text column or JSON document in PostgreSQL can hold."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        refuse_nul(value, "the text")
        _bounded(value)
        return value


def examples(*bodies: dict[str, Any]) -> ConfigDict:
    """A request model's examples for the OpenAPI document (the first is what /docs fills in);
    `tests/api/test_openapi_document.py` checks each against the model's own schema."""
    return ConfigDict(json_schema_extra={"examples": list(bodies)})
