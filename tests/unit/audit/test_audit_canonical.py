"""Canonical JSON and the leaf bytes: the fast leaf path is byte-identical to the generic one."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.audit.canonical import (
    canonical_json,
    entry_leaf_bytes,
    entry_leaf_bytes_reference,
    entry_leaf_hash,
    entry_leaf_input,
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


def test_the_minute_cache_never_serves_a_stale_prefix() -> None:
    a, b = WHEN, WHEN + timedelta(minutes=1)
    for _ in range(3):
        assert rfc3339_utc(a) == "2026-11-22T10:05:07.000042Z"
        assert rfc3339_utc(b) == "2026-11-22T10:06:07.000042Z"
        assert rfc3339_utc(a.replace(year=2027)) == "2027-11-22T10:05:07.000042Z"


def fields(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "created_at": WHEN,
        "actor": "user-1",
        "action": "order.paid",
        "subject_type": "order",
        "subject_id": "o-1",
        "payload_json": '{"amount_fen":100}',
    }
    return {**base, **overrides}


def test_the_leaf_is_the_documented_object_and_excludes_the_sequence_number() -> None:
    assert entry_leaf_bytes(**fields()) == (  # type: ignore[arg-type]
        b'{"action":"order.paid","actor":"user-1","created_at":"2026-11-22T10:05:07.000042Z",'
        b'"payload":"{\\"amount_fen\\":100}","subject_id":"o-1","subject_type":"order","v":1}'
    )
    leaf = entry_leaf_bytes(**fields())  # type: ignore[arg-type]
    assert entry_leaf_input(*fields().values()) == b"\x00" + leaf  # type: ignore[arg-type]
    assert entry_leaf_hash(*fields().values()) == hashlib.sha256(b"\x00" + leaf).digest()  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["actor", "action", "subject_type", "subject_id", "payload_json"])
def test_every_field_changes_the_leaf(name: str) -> None:
    assert entry_leaf_bytes(**fields(**{name: "x"})) != entry_leaf_bytes(**fields())  # type: ignore[arg-type]


def test_a_wrong_type_is_refused_not_serialised_differently() -> None:
    with pytest.raises(TypeError):
        entry_leaf_bytes(**fields(subject_id=uuid.UUID(int=1)))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        entry_leaf_bytes_reference(**fields(subject_id=uuid.UUID(int=1)))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="naive"):
        entry_leaf_bytes(**fields(created_at=datetime(2026, 1, 1)))  # type: ignore[arg-type]


text = st.text(st.characters(codec="utf-8"), max_size=40)  # no lone surrogates
moments = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9998, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]),
)


@given(moments, text, text, text, text, text)
def test_the_fast_leaf_equals_the_generic_canonical_json_leaf(
    when: datetime, actor: str, action: str, kind: str, sid: str, payload: str
) -> None:
    kwargs = {
        "created_at": when,
        "actor": actor,
        "action": action,
        "subject_type": kind,
        "subject_id": sid,
        "payload_json": payload,
    }
    leaf = entry_leaf_bytes(**kwargs)  # type: ignore[arg-type]
    assert leaf == entry_leaf_bytes_reference(**kwargs)  # type: ignore[arg-type]
    if when.astimezone(UTC).year >= 1000:  # checked apart from the shared minute cache too
        stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert f'"created_at":"{stamp}"'.encode() in leaf


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | text | st.decimals(allow_nan=False, allow_infinity=False),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
        max_leaves=12,
    )
)
def test_canonical_text_survives_a_json_round_trip(value: object) -> None:
    # What lets an outside auditor re-canonicalise an API payload and get the stored text back.
    import json

    once = canonical_json(value)
    assert canonical_json(json.loads(once)) == once


@given(
    st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))]),
    )
)
def test_rfc3339_equals_the_strftime_definition(when: datetime) -> None:
    # strftime is the plain statement of the format (the fast path caches the minute prefix).
    assert rfc3339_utc(when) == when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
