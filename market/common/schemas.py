"""Request-model base shared by every feature."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _no_nul(value: Any, where: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where} contains a NUL character")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k, where)
            _no_nul(v, where)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            _no_nul(v, where)


class StrictModel(BaseModel):
    """Unknown fields are refused (a typo must not silently drop a value), and so is the NUL
    character, which no text column or JSON document in PostgreSQL can hold."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        _no_nul(value, "the text")
        return value


def examples(*bodies: dict[str, Any]) -> ConfigDict:
    """A request model's examples for the OpenAPI document (the first is what /docs fills in);
    `tests/api/test_openapi_document.py` checks each against the model's own schema."""
    return ConfigDict(json_schema_extra={"examples": list(bodies)})
