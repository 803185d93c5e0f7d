"""Stored grants as `contracts` grants (market.rights.validity): a grant's stored values are
validated once however many trades walk its chain, and a grant whose values changed (revoked,
say) is validated anew, never served as it was."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
from pydantic import ValidationError

from contracts import ContractError, RightGrant
from market import all_models  # noqa: F401  (every mapper, for the relationships to resolve)
from market.rights import validity
from market.rights.models import RightGrantRow

START = datetime(2026, 1, 1, tzinfo=UTC)


def _holding(**changes: object) -> RightGrantRow:
    values: dict[str, object] = {
        "id": uuid.UUID(int=7),
        "kind": "holding",
        "holder_id": uuid.UUID(int=1),
        "subject_kind": "resource",
        "subject_id": uuid.UUID(int=2),
        "resource_id": uuid.UUID(int=2),
        "parent_id": None,
        "registration_id": uuid.UUID(int=3),
        "purposes": ["risk_control"],
        "territory": "domestic",
        "sublicensable": True,
        "field_limits": None,
        "volume_limit": None,
        "valid_from": START,
        "valid_to": None,
        "revoked_at": None,
    } | changes
    return RightGrantRow(**values)


def test_the_same_stored_grant_is_validated_once() -> None:
    validity._contract_grant.cache_clear()
    with patch.object(validity, "RightGrant", wraps=RightGrant) as made:
        first = validity.to_contract_grant(_holding())
        again = validity.to_contract_grant(_holding())  # another row object, the same values
    assert made.call_count == 1
    assert again == first and first.grant_id == str(uuid.UUID(int=7))


def test_a_revoked_grant_is_seen_revoked() -> None:
    live = validity.to_contract_grant(_holding())
    revoked = validity.to_contract_grant(_holding(revoked_at=START + timedelta(days=1)))
    assert live.is_active(START + timedelta(days=2))
    assert not revoked.is_active(START + timedelta(days=2))


def test_a_grant_breaking_a_rule_still_raises_each_time() -> None:
    for _ in range(2):
        with pytest.raises(ContractError):
            validity.to_contract_grant(_holding(registration_id=None))


def test_a_value_that_cannot_be_a_cache_key_is_still_validated() -> None:
    with pytest.raises(ValidationError):
        validity.to_contract_grant(_holding(territory={"not": "a territory"}))
