"""The OpenAPI document is something a newcomer can work from: every request body has an
example (each of them valid against its own schema), every operation documents a typed success
response, headers that are required are marked so, and integer quantities are integers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from market.app import create_app

DOCUMENT: dict[str, Any] = create_app().openapi()
COMPONENTS = DOCUMENT["components"]
# Bodies that are the bytes of a file: an example of a file is shown, not checked as JSON.
RAW = {"application/octet-stream", "text/csv"}
FREE_FORM_JSON_ALLOWED: dict[tuple[str, str], str] = {}


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = COMPONENTS["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def examples_of(media: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    if "example" in media:
        found.append(media["example"])
    found.extend(e.get("value") for e in media.get("examples", {}).values())
    schema = resolved(media.get("schema", {}))
    if "example" in schema:
        found.append(schema["example"])
    found.extend(schema.get("examples", []))
    return found


def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": COMPONENTS})


def test_every_request_body_has_examples_that_fit_its_schema() -> None:
    missing: list[str] = []
    wrong: list[str] = []
    for method, path, operation in operations():
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            where = f"{method} {path} ({media_type})"
            found = examples_of(media)
            if not found:
                missing.append(where)
                continue
            if media_type in RAW:
                continue
            check = validator(media.get("schema", {}))
            wrong.extend(f"{where}: {error.message}" for ex in found for error in check.iter_errors(ex))
    assert not missing, f"request bodies without an example: {missing}"
    assert not wrong, f"examples that do not fit their schema: {wrong}"


def test_product_examples_show_every_price_plan_kind() -> None:
    body = DOCUMENT["paths"]["/v1/products"]["post"]["requestBody"]["content"]["application/json"]
    kinds = {ex["price_plan"]["kind"] for ex in examples_of(body)}
    assert kinds == {"fixed", "one_off", "tiered", "metered", "subscription"}


def _untyped(schema: dict[str, Any] | None) -> bool:
    if not schema:
        return True
    schema = resolved(schema)
    free_object = schema.get("type") == "object" and not schema.get("properties")
    return free_object and schema.get("additionalProperties", True) in (True, {})


@pytest.mark.parametrize("media_type", ["application/json"])
def test_every_operation_has_a_typed_success_response(media_type: str) -> None:
    problems = []
    for method, path, operation in operations():
        successes = {code: r for code, r in operation["responses"].items() if code[0] in "23"}
        if not successes:
            problems.append(f"{method} {path}: no success response documented")
        for code, response in successes.items():
            if code in ("204", "304") or code.startswith("3"):
                continue
            content = response.get("content")
            if not content:
                problems.append(f"{method} {path} {code}: no content")
                continue
            for media, spec in content.items():
                if not spec.get("schema"):
                    problems.append(f"{method} {path} {code} {media}: no schema")
                elif media == media_type and _untyped(spec["schema"]):
                    if (method, path) not in FREE_FORM_JSON_ALLOWED:
                        problems.append(f"{method} {path} {code}: a free-form object")
    assert not problems, "\n".join(problems)


def test_required_headers_are_marked_required() -> None:
    for path in ("/v1/orders", "/v1/orders/{order_id}/refund", "/v1/payouts/transfers"):
        headers = {
            p["name"]: p for p in DOCUMENT["paths"][path]["post"].get("parameters", []) if p["in"] == "header"
        }
        assert headers["Idempotency-Key"]["required"] is True, path


def test_quantities_are_integers() -> None:
    for name in ("QuoteOut", "OrderOut"):
        assert COMPONENTS["schemas"][name]["properties"]["quantity"]["type"] == "integer", name
