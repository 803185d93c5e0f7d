"""Canonical JSON and the audit leaf: its exact bytes, and reading them back (versions 1 and 2)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.audit.canonical import (
    LeafFields,
    canonical_json,
    entry_leaf,
    json_reference,
    parse_leaf,
    rfc3339_utc,
)

WHEN = datetime(2026, 11, 22, 10, 5, 7, 42, tzinfo=UTC)


def test_canonical_json_is_sorted_compact_utf8_and_typed() -> None:
    obj = {
        "b": Decimal("12.50"),
        "a": [WHEN, uuid.UUID(int=1)],
        "名称": "数据",
        "n": None,
        "t": True,
    }
    assert (
        canonical_json(obj)
        == (
            '{"a":["2026-11-22T10:05:07.000042Z","00000000-0000-0000-0000-000000000001"],'
            '"b":"12.50","n":null,"t":true,"名称":"数据"}'
        ).encode()
    )


@pytest.mark.parametrize("bad", [1.5, {"price": 0.1}, [Decimal(1), 2.0]])
def test_floats_are_refused_because_money_never_floats(bad: object) -> None:
    with pytest.raises(TypeError, match="float"):
        canonical_json(bad)


def test_naive_datetimes_are_refused_and_offsets_are_normalised_to_utc() -> None:
    with pytest.raises(TypeError, match="naive"):
        canonical_json(datetime(2026, 1, 1))
    beijing = timezone(timedelta(hours=8))
    assert rfc3339_utc(datetime(2026, 1, 1, 8, 0, tzinfo=beijing)) == "2026-01-01T00:00:00.000000Z"


def fields(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "created_at": WHEN,
        "actor": "user-1",
        "action": "order.paid",
        "subject_type": "order",
        "subject_id": "o-1",
        "payload": {"amount_fen": 100, "note": "数据"},
    }
    return {**base, **overrides}


def test_the_leaf_is_the_documented_object_and_excludes_the_sequence_number() -> None:
    assert entry_leaf(**fields(), nonce="00112233445566778899aabb") == (  # type: ignore[arg-type]
        '{"action":"order.paid","actor":"user-1","created_at":"2026-11-22T10:05:07.000042Z",'
        '"nonce":"00112233445566778899aabb","payload":{"amount_fen":100,"note":"数据"},'
        '"subject_id":"o-1","subject_type":"order","v":3}'
    )


def test_two_entries_saying_the_same_have_different_leaves() -> None:
    # The nonce: a genuine entry never collides with another, so a duplicate is a replay.
    first, second = entry_leaf(**fields()), entry_leaf(**fields())  # type: ignore[arg-type]
    assert first != second and parse_leaf(first) == parse_leaf(second)


def test_a_version_2_leaf_without_a_nonce_still_reads() -> None:
    v2 = (
        '{"action":"order.paid","actor":"user-1","created_at":"2026-11-22T10:05:07.000042Z",'
        '"payload":{"amount_fen":100},"subject_id":"o-1","subject_type":"order","v":2}'
    )
    assert parse_leaf(v2).payload == {"amount_fen": 100}


@pytest.mark.parametrize("name", ["actor", "action", "subject_type", "subject_id"])
def test_every_field_changes_the_leaf(name: str) -> None:
    assert entry_leaf(**fields(**{name: "x"})) != entry_leaf(**fields())  # type: ignore[arg-type]
    assert entry_leaf(**fields(payload={"amount_fen": 101})) != entry_leaf(**fields())  # type: ignore[arg-type]


def test_a_wrong_type_is_refused_not_serialised_differently() -> None:
    with pytest.raises(TypeError):
        entry_leaf(**fields(subject_id=uuid.UUID(int=1)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="naive"):
        entry_leaf(**fields(created_at=datetime(2026, 1, 1)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        entry_leaf(**fields(payload={"amount": 1.5}))  # type: ignore[arg-type]


def test_a_version_1_leaf_written_before_leaves_were_stored_still_reads() -> None:
    v1 = (
        '{"action":"order.paid","actor":"user-1","created_at":"2026-11-22T10:05:07.000042Z",'
        '"payload":"{\\"amount_fen\\":100}","subject_id":"o-1","subject_type":"order","v":1}'
    )
    parsed = parse_leaf(v1)
    assert parsed.payload == {"amount_fen": 100} and parsed.created_at == WHEN
    assert parse_leaf(v1.encode()) == parsed


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "[1, 2]",
        '{"v": 4, "payload": {}}',
        entry_leaf(**fields()).replace('"v":3', '"v":1'),  # type: ignore[arg-type]  # payload not text
        entry_leaf(**fields()).replace('"actor":"user-1",', ""),  # type: ignore[arg-type]
        entry_leaf(**fields()).replace('"user-1"', "7"),  # type: ignore[arg-type]
    ],
)
def test_what_is_not_a_leaf_is_refused_with_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="leaf"):
        parse_leaf(bad)


text = st.text(st.characters(codec="utf-8"), max_size=40)  # no lone surrogates
moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9998, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]),
)
payloads = st.dictionaries(text, st.none() | st.booleans() | st.integers() | text, max_size=4)


@given(moments, text, text, text, text, payloads)
def test_a_leaf_reads_back_exactly_what_was_written(
    when: datetime, actor: str, action: str, kind: str, sid: str, payload: dict[str, object]
) -> None:
    leaf = entry_leaf(
        created_at=when, actor=actor, action=action, subject_type=kind, subject_id=sid, payload=payload
    )
    assert parse_leaf(leaf) == LeafFields(when.astimezone(UTC), actor, action, kind, sid, payload)
    # The stored text is the canonical form itself: re-serialising what was read gives it back.
    assert canonical_json(json.loads(leaf)).decode() == leaf


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | text | st.decimals(allow_nan=False, allow_infinity=False),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
        max_leaves=12,
    )
)
def test_canonical_text_survives_a_json_round_trip(value: object) -> None:
    once = canonical_json(value)
    assert canonical_json(json.loads(once)) == once


any_text = st.text(st.characters(exclude_categories=()))  # lone surrogates too


def reference_form(value: object) -> object:
    """What canonical JSON was first defined as: the json module's sorted, compact output."""
    if isinstance(value, dict):
        return {str(k): reference_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reference_form(v) for v in value]
    return str(value) if isinstance(value, Decimal) else value


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | any_text
        | st.decimals(allow_nan=False, allow_infinity=False),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(any_text | st.integers(), children, max_size=4)
        ),
        max_leaves=16,
    )
)
def test_the_fast_writer_writes_the_reference_bytes(value: object) -> None:
    # Leaves are stored, but a quote's digest is recomputed at order from its row: the bytes of
    # canonical JSON may never change, whichever serialiser writes them (control characters,
    # non-ASCII, big integers, keys that are numbers, text that is not UTF-8).
    try:
        reference = json_reference(reference_form(value))
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            canonical_json(value)
        return
    assert canonical_json(value) == reference


@given(
    st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
    )
)
def test_rfc3339_equals_the_strftime_definition(when: datetime) -> None:
    # strftime is the plain statement of the format.
    assert rfc3339_utc(when) == when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Action(StrEnum):
    ORDERED = "order.created"


def test_the_leaf_writer_writes_what_canonical_json_writes_of_the_same_object() -> None:
    # entry_leaf puts its own keys in order itself and normalises only the values (issue 21).
    payload = MappingProxyType(
        {
            "z": [uuid.UUID(int=7), Decimal("1.50"), WHEN.astimezone(timezone(timedelta(hours=8)))],
            "a": {"b": ("tuple", 2), 3: {"set"}, "c": None},
            "中文": "数据",
        }
    )
    leaf = entry_leaf(
        created_at=WHEN,
        actor="user:1",
        action=_Action.ORDERED,
        subject_type="order",
        subject_id="o-1",
        payload=payload,
        nonce="ab" * 12,
    )
    documented = {
        "v": 3,
        "created_at": WHEN,
        "actor": "user:1",
        "action": "order.created",
        "subject_type": "order",
        "subject_id": "o-1",
        "nonce": "ab" * 12,
        "payload": dict(payload),
    }
    assert leaf == canonical_json(documented).decode()
    assert leaf.startswith(
        '{"action":"order.created","actor":"user:1","created_at":"2026-11-22T10:05:07.000042Z"'
    )
