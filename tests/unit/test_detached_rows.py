"""Mapped objects made from a Core query's row (market.db.detached): read like loaded ones,
tracked by no session, and nothing unread is fetched behind the reader's back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm.exc import DetachedInstanceError

from market import all_models  # noqa: F401  (every mapper, for the relationships to resolve)
from market.db.detached import columns_of, detached
from market.revisions.models import LicenceRevision
from market.rights.models import RightGrantRow


def test_a_row_becomes_a_detached_object_with_its_identity() -> None:
    attributes, columns = columns_of(RightGrantRow)
    assert len(attributes) == len(columns) and "id" in attributes
    grant_id = uuid.uuid4()
    values = {name: None for name in attributes} | {
        "id": grant_id,
        "kind": "operating",
        "purposes": ["risk_control"],
        "valid_from": datetime(2026, 1, 1, tzinfo=UTC),
    }
    grant = detached(RightGrantRow, [values[name] for name in attributes])
    assert (grant.id, grant.kind, grant.purposes) == (grant_id, "operating", ["risk_control"])
    state = inspect(grant)
    assert state.detached and state.identity == (grant_id,)
    assert not state.modified


def test_what_the_row_did_not_hold_is_not_loaded_behind_the_reader() -> None:
    attributes, _ = columns_of(LicenceRevision)
    revision = detached(LicenceRevision, [uuid.uuid4() if n.endswith("id") else None for n in attributes])
    with pytest.raises(InvalidRequestError):
        _ = revision.licence


def test_a_row_of_the_wrong_width_is_refused() -> None:
    attributes, _ = columns_of(RightGrantRow)
    with pytest.raises(ValueError):
        detached(RightGrantRow, [None] * (len(attributes) - 1))


def test_a_row_of_some_columns_holds_them_and_refuses_the_others() -> None:
    names = ("id", "kind", "holder_id")
    attributes, columns = columns_of(RightGrantRow, names)
    assert sorted(attributes) == sorted(names) and [c.key for c in columns] == list(attributes)
    values = {"id": uuid.uuid4(), "kind": "holding", "holder_id": uuid.uuid4()}
    grant = detached(RightGrantRow, [values[n] for n in attributes], names)
    assert (grant.id, grant.kind, grant.holder_id) == (values["id"], "holding", values["holder_id"])
    assert inspect(grant).identity == (values["id"],)
    # A column the query did not read raises: it is not taken for a NULL.
    with pytest.raises(DetachedInstanceError):
        _ = grant.purposes


def test_some_columns_must_be_mapped_ones_with_the_key() -> None:
    with pytest.raises(ValueError):
        columns_of(RightGrantRow, ("kind", "holder_id"))
    with pytest.raises(ValueError):
        columns_of(RightGrantRow, ("id", "no_such_column"))


def test_an_object_holding_no_related_one_is_added_alone_and_one_holding_some_cascades() -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    from market.db.detached import added
    from market.delivery.models import Entitlement, LicenceRow

    session = AsyncSession()
    alone = added(session, Entitlement(licence_id=uuid.uuid4(), delivery_mode="file"))
    assert inspect(alone).pending and list(session.new) == [alone]

    licence = LicenceRow(id=uuid.uuid4())
    holding = added(session, Entitlement(licence=licence, delivery_mode="file"))
    # The licence it holds is added with it, as `Session.add` would.
    assert inspect(holding).pending and inspect(licence).pending
    assert set(session.new) == {alone, holding, licence}
