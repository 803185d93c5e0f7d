"""A bearer token is verified once and then recognised (issue 21), without the recognition
outliving what made the token good: its expiry, and its signing key being accepted."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import jwt
import pytest

from market.auth import tokens
from market.auth.tokens import TokenClaims, decode_token, issue_token
from market.settings import Settings

ROOT = base64.b64encode(bytes(range(32))).decode()
OTHER_ROOT = base64.b64encode(bytes(range(1, 33))).decode()
CLAIMS = TokenClaims(user_id=uuid.uuid4(), participant_id=None, roles=frozenset({"buyer"}), version=3)


def settings(tmp_path: Path, root: str = ROOT, retired: list[str] | None = None) -> Settings:
    return Settings(root_secret=root, retired_root_secrets=retired or [], data_dir=tmp_path)


def test_a_token_used_again_gives_the_same_claims_without_verifying_again(tmp_path: Path) -> None:
    s = settings(tmp_path)
    token = issue_token(s, CLAIMS)
    assert decode_token(s, token) == CLAIMS
    with mock.patch.object(jwt, "decode", side_effect=AssertionError("verified again")):
        assert decode_token(s, token) == CLAIMS


def test_a_recognised_token_still_expires(tmp_path: Path) -> None:
    s = settings(tmp_path).model_copy(update={"jwt_ttl_seconds": 2})
    token = issue_token(s, CLAIMS)
    assert decode_token(s, token) == CLAIMS
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_token(s, token)


def test_a_token_made_for_later_is_not_taken_before_then(tmp_path: Path) -> None:
    s = settings(tmp_path)
    token = issue_token(s, CLAIMS, now=datetime.now(UTC) + timedelta(minutes=5))
    for _ in range(2):  # the refusal is not remembered as a pass either
        with pytest.raises(jwt.ImmatureSignatureError):
            decode_token(s, token)


def test_a_recognised_token_stops_counting_when_its_key_is_no_longer_accepted(tmp_path: Path) -> None:
    old = settings(tmp_path)
    token = issue_token(old, CLAIMS)
    assert decode_token(old, token) == CLAIMS
    rotated = settings(tmp_path, root=OTHER_ROOT, retired=[ROOT])
    assert decode_token(rotated, token) == CLAIMS  # a retired root still verifies
    dropped = settings(tmp_path, root=OTHER_ROOT)
    with pytest.raises(jwt.InvalidTokenError, match="unknown signing key"):
        decode_token(dropped, token)


def test_a_recognised_token_is_not_taken_for_another_audience(tmp_path: Path) -> None:
    s = settings(tmp_path)
    token = issue_token(s, CLAIMS)
    assert decode_token(s, token) == CLAIMS
    with pytest.raises(jwt.InvalidAudienceError):
        decode_token(s.model_copy(update={"jwt_audience": "elsewhere"}), token)


def test_the_memory_of_tokens_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_VERIFIED", {})
    monkeypatch.setattr(tokens, "_VERIFIED_MAX", 3)
    s = settings(tmp_path)
    made = [issue_token(s, CLAIMS) for _ in range(5)]
    for token in made:
        decode_token(s, token)
    assert list(tokens._VERIFIED) == made[2:]
