"""Signed tree heads: the documented bytes, a verifying signature, every tampering refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from audit_factories import KEY, PUBLIC
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from market.audit.merkle import EMPTY_ROOT, leaf_hash
from market.audit.tree_head import SignedTreeHead, sign_tree_head, signing_bytes, verify_tree_head

ROOT = leaf_hash(b"root")
WHEN = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_the_signed_bytes_are_the_documented_ones() -> None:
    assert signing_bytes(8, ROOT.hex(), WHEN) == (
        b'market-sth-v1\n{"root_hash":"'
        + ROOT.hex().encode()
        + b'","timestamp":"2026-11-22T12:00:00.000000Z","tree_size":8}'
    )


def test_a_signed_head_verifies_and_survives_json() -> None:
    sth = sign_tree_head(8, ROOT, WHEN, KEY)
    assert verify_tree_head(sth, PUBLIC)
    again = SignedTreeHead.model_validate_json(sth.model_dump_json())
    assert again == sth and verify_tree_head(again, PUBLIC)
    assert verify_tree_head(sign_tree_head(0, EMPTY_ROOT, WHEN, KEY), PUBLIC)
    # The same instant in another zone signs the same bytes.
    local = WHEN.astimezone(timezone(timedelta(hours=8)))
    assert verify_tree_head(sth.model_copy(update={"timestamp": local}), PUBLIC)


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 9},
        {"root_hash": leaf_hash(b"other").hex()},
        {"timestamp": WHEN + timedelta(microseconds=1)},
        {"key_id": "0" * 16},
        {"signature": "not base64!"},
        {"signature": ""},
    ],
)
def test_a_tampered_head_is_refused(change: dict[str, object]) -> None:
    sth = sign_tree_head(8, ROOT, WHEN, KEY)
    assert not verify_tree_head(sth.model_copy(update=change), PUBLIC)


def test_another_key_is_refused() -> None:
    other = Ed25519PrivateKey.generate()
    assert not verify_tree_head(sign_tree_head(8, ROOT, WHEN, other), PUBLIC)
    assert not verify_tree_head(sign_tree_head(8, ROOT, WHEN, KEY), other.public_key())


def test_malformed_heads_are_refused_at_the_boundary() -> None:
    with pytest.raises(ValueError):
        sign_tree_head(8, ROOT[:31], WHEN, KEY)
    good = sign_tree_head(8, ROOT, WHEN, KEY).model_dump()
    for bad in ({"tree_size": -1}, {"root_hash": "AB" * 32}, {"timestamp": "2026-11-22T12:00:00"}):
        with pytest.raises(ValueError):
            SignedTreeHead.model_validate({**good, **bad})
