"""schemathesis hooks (loaded through `SCHEMATHESIS_HOOKS`): the inputs an attacker sends that
the schema's own generators rarely reach (issue 18, finding 3).

For every operation, explicit cases are added beside its examples: a NUL byte in each string
path and query parameter and in each string field of its example body (PostgreSQL refuses NUL in
text, so an unchecked one became a 500); tampered pagination cursors (a far-future timestamp with
a non-id, a huge id, a naive timestamp, garbage); and dates out of range (9999-12-31,
0001-01-01, year 10000) in every date or date-time parameter and body field. Each must get a 4xx
(or a 2xx where the value is harmless), never a 5xx: the run's `not_a_server_error` check.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import schemathesis
from schemathesis import Case, HookContext

NUL = "a\x00b"


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


TAMPERED_CURSORS = (
    _cursor(["2099-01-01T00:00:00+00:00", "zz"]),
    _cursor(["2026-01-01T00:00:00+00:00", str(2**80)]),
    _cursor(["2026-01-01T00:00:00+00:00", 2**80]),
    _cursor(["2026-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"]),
    _cursor(["9999-12-31T23:59:59-23:59", "1"]),
    _cursor({"not": "a list"}),
    "!!!not-base64!!!",
    NUL,
)
OUT_OF_RANGE_DATE_TIMES = ("9999-12-31T00:00:00", "0001-01-01T00:00:00+00:00", "10000-01-01T00:00:00Z")
OUT_OF_RANGE_DATES = ("9999-12-31", "0001-01-01", "10000-01-01")


def _schema_of(parameter: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema, looking through `anyOf: [{...}, {type: null}]` (optional ones)."""
    schema = parameter.get("schema", {})
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return dict(option)
    return dict(schema)


def _hostile_values(name: str, schema: dict[str, Any]) -> Iterator[Any]:
    if schema.get("type") != "string":
        return
    if name == "cursor":
        yield from TAMPERED_CURSORS
        return
    if schema.get("format") == "date-time":
        yield from OUT_OF_RANGE_DATE_TIMES
    elif schema.get("format") == "date":
        yield from OUT_OF_RANGE_DATES
    yield NUL


def _hostile_body_values(value: Any) -> Iterator[Any]:
    """The example body with one kind of hostile value put into every string field."""
    if not isinstance(value, dict):
        return
    for replace in (NUL, OUT_OF_RANGE_DATE_TIMES[0], OUT_OF_RANGE_DATES[2]):
        yield _swap(value, replace)


def _swap(value: Any, replace: str) -> Any:
    if isinstance(value, str):
        return value + NUL if replace == NUL else replace
    if isinstance(value, dict):
        return {k: _swap(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, replace) for v in value]
    return value


@schemathesis.hook
def before_add_examples(context: HookContext, examples: list[Case[Any]]) -> None:
    operation = context.operation
    if operation is None:
        return
    base = examples[0] if examples else None
    path = dict(base.path_parameters or {}) if base else {}
    query = dict(base.query or {}) if base else {}
    parameters = [p for p in operation.definition.raw.get("parameters", []) if "$ref" not in p]
    for kind in ("path", "query"):
        for parameter in (p for p in parameters if p.get("in") == kind):
            name = parameter["name"]
            for hostile in _hostile_values(name, _schema_of(parameter)):
                if kind == "path":
                    examples.append(operation.Case(path_parameters={**path, name: hostile}, query=query))
                else:
                    examples.append(operation.Case(path_parameters=path, query={**query, name: hostile}))
    if base is not None and isinstance(base.body, dict):
        for body in _hostile_body_values(base.body):
            examples.append(
                operation.Case(path_parameters=path, query=query, body=body, media_type=base.media_type)
            )
