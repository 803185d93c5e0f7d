"""One-line builders and hypothesis strategies for rights grants (contracts tests only).

Named uniquely because tests/ has no __init__.py files: helper modules share one
import namespace across the whole test tree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from hypothesis import strategies as st

from contracts import Purpose, RightGrant, RightKind, Scope, Territory

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
FIELDS = ("name", "phone", "region", "amount", "date")
ALL_PURPOSES = tuple(Purpose)


def scope(
    *purposes: Purpose,
    territory: Territory = Territory.DOMESTIC,
    sublicensable: bool = False,
    fields: frozenset[str] | None = None,
    volume: int | None = None,
) -> Scope:
    return Scope(
        purposes=frozenset(purposes or ALL_PURPOSES),
        territory=territory,
        sublicensable=sublicensable,
        field_limits=fields,
        volume_limit=volume,
    )


def holding(grant_id: str = "H", holder: str = "seller", **changes: Any) -> RightGrant:
    fields: dict[str, Any] = {
        "grant_id": grant_id,
        "kind": RightKind.HOLDING,
        "holder_id": holder,
        "subject_kind": "resource",
        "subject_id": "R1",
        "registration_id": "REG-1",
        "scope": scope(territory=Territory.CROSS_BORDER, sublicensable=True),
        "valid_from": T0 - 1000 * HOUR,
    }
    fields.update(changes)
    return RightGrant(**fields)


def child(
    grant_id: str,
    parent: RightGrant,
    kind: RightKind = RightKind.PROCESSING,
    holder: str | None = None,
    **changes: Any,
) -> RightGrant:
    """A child that is valid under `parent` unless `changes` say otherwise."""
    subject: tuple[Literal["resource", "product"], str] = (
        ("product", "P1") if kind is RightKind.OPERATING else (parent.subject_kind, parent.subject_id)
    )
    fields: dict[str, Any] = {
        "grant_id": grant_id,
        "kind": kind,
        "holder_id": holder or f"holder-of-{grant_id}",
        "subject_kind": subject[0],
        "subject_id": subject[1],
        "parent_id": parent.grant_id,
        "scope": parent.scope,
        "valid_from": parent.valid_from,
        "valid_to": parent.valid_to,
    }
    fields.update(changes)
    return RightGrant(**fields)


def index(*grants: RightGrant) -> dict[str, RightGrant]:
    return {g.grant_id: g for g in grants}


class CountingMapping(Mapping[str, RightGrant]):
    """Counts lookups; fails the test if the index is scanned."""

    def __init__(self, data: Mapping[str, RightGrant]) -> None:
        self._data = data
        self.lookups = 0

    def __getitem__(self, key: str) -> RightGrant:
        self.lookups += 1
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the index was scanned")

    def __len__(self) -> int:
        raise AssertionError("the index was sized")


# --- hypothesis strategies -------------------------------------------------------------

purpose_sets = st.frozensets(st.sampled_from(ALL_PURPOSES), min_size=1)
field_sets = st.frozensets(st.sampled_from(FIELDS))


@st.composite
def scopes(draw: st.DrawFn) -> Scope:
    return Scope(
        purposes=draw(purpose_sets),
        territory=draw(st.sampled_from(Territory)),
        sublicensable=draw(st.booleans()),
        field_limits=draw(st.none() | field_sets),
        volume_limit=draw(st.none() | st.integers(1, 10_000)),
    )


@st.composite
def sub_scopes(draw: st.DrawFn, parent: Scope) -> Scope:
    """A scope within `parent`."""
    if parent.field_limits is None:
        fields = draw(st.none() | field_sets)
    else:
        fields = draw(st.frozensets(st.sampled_from(sorted(parent.field_limits) or ["x"])))
        fields = fields & parent.field_limits
    limit = parent.volume_limit
    return Scope(
        purposes=draw(st.frozensets(st.sampled_from(sorted(parent.purposes)), min_size=1)),
        territory=draw(st.sampled_from(Territory))
        if parent.territory is Territory.CROSS_BORDER
        else Territory.DOMESTIC,
        sublicensable=draw(st.booleans()),
        field_limits=fields,
        volume_limit=draw(st.integers(1, limit) if limit else st.none() | st.integers(1, 10_000)),
    )


_CHILD_KINDS = {
    RightKind.HOLDING: (RightKind.PROCESSING, RightKind.OPERATING, RightKind.HOLDING),
    RightKind.PROCESSING: (RightKind.PROCESSING, RightKind.OPERATING),
}


@st.composite
def valid_trees(draw: st.DrawFn, max_children: int = 12) -> dict[str, RightGrant]:
    """A rights tree every grant of which is valid at T0."""
    root = holding(
        "g0",
        scope=draw(scopes()),
        valid_from=T0 - draw(st.integers(0, 500)) * HOUR,
        valid_to=draw(st.none() | st.integers(1, 500).map(lambda h: T0 + h * HOUR)),
    )
    grants = [root]
    for i in range(1, draw(st.integers(0, max_children)) + 1):
        parents = [g for g in grants if _may_have_children(g)]
        parent = draw(st.sampled_from(parents))
        kind = draw(st.sampled_from(_CHILD_KINDS[parent.kind]))
        room_before = int((T0 - parent.valid_from) / HOUR)
        valid_from = parent.valid_from + draw(st.integers(0, room_before)) * HOUR
        if parent.valid_to is None:
            valid_to = draw(st.none() | st.integers(1, 500).map(lambda h: T0 + h * HOUR))
        else:
            room_after = int((parent.valid_to - T0) / HOUR)
            valid_to = T0 + draw(st.integers(1, max(room_after, 1))) * HOUR
            valid_to = min(valid_to, parent.valid_to)
        grants.append(
            child(
                f"g{i}",
                parent,
                kind,
                holder=draw(st.sampled_from(["a", "b", "c"])),
                scope=draw(sub_scopes(parent.scope)),
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )
    return index(*grants)


def _may_have_children(g: RightGrant) -> bool:
    return g.kind is RightKind.HOLDING or (g.kind is RightKind.PROCESSING and g.scope.sublicensable)
