"""Invariants of rights chains over random trees (style.md: property tests for pure cores)."""

from datetime import timedelta
from typing import Any

from contract_factories import (
    HOUR,
    T0,
    CountingMapping,
    child,
    holding,
    index,
    scope,
    scopes,
    sub_scopes,
    valid_trees,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import (
    FaultCode,
    RightGrant,
    RightKind,
    check_new_grant,
    revocation_effect,
    rights_tree,
    validate_chain,
)


@given(valid_trees())
def test_generated_trees_are_valid(grants: dict[str, RightGrant]) -> None:
    # Guards the generator: the other properties mean little if the trees were invalid.
    assert all(validate_chain(gid, grants, T0).valid for gid in grants)


@given(valid_trees(), st.data())
def test_revoking_a_grant_invalidates_exactly_its_subtree(
    grants: dict[str, RightGrant], data: st.DataObject
) -> None:
    target = data.draw(st.sampled_from(sorted(grants)))
    when = T0 - data.draw(st.integers(0, 1000)) * HOUR
    after = {**grants, target: grants[target].revoked(when)}
    subtree = revocation_effect(target, after)
    invalid = {gid for gid in after if not validate_chain(gid, after, T0).valid}
    assert invalid == subtree


@given(valid_trees(), st.data())
def test_only_the_holding_right_and_sublicensable_rights_have_valid_children(
    grants: dict[str, RightGrant], data: st.DataObject
) -> None:
    parent = grants[data.draw(st.sampled_from(sorted(grants)))]
    kind = data.draw(st.sampled_from([RightKind.PROCESSING, RightKind.OPERATING]))
    # Within the parent's scope and term: only the kinds and sublicensing decide.
    new = child("new", parent, kind, scope=data.draw(sub_scopes(parent.scope)))
    may_have_children = parent.kind is RightKind.HOLDING or (
        parent.kind is RightKind.PROCESSING and parent.scope.sublicensable
    )
    assert validate_chain("new", {**grants, "new": new}, T0).valid == may_have_children


@st.composite
def arbitrary_trees(draw: st.DrawFn) -> dict[str, RightGrant]:
    """Acyclic trees with random kinds, scopes, terms and revocations: mostly invalid."""
    grants: list[RightGrant] = []
    for i in range(draw(st.integers(1, 10))):
        start = T0 + draw(st.integers(-100, 10)) * HOUR
        length = draw(st.none() | st.integers(1, 300))
        revoked = draw(st.none() | st.integers(-50, 50))
        terms: dict[str, Any] = {
            "scope": draw(scopes()),
            "valid_from": start,
            "valid_to": None if length is None else start + length * HOUR,
            "revoked_at": None if revoked is None else T0 + revoked * HOUR,
        }
        if not grants or draw(st.integers(0, 5)) == 0:
            grants.append(holding(f"g{i}", **terms))
            continue
        parent = draw(st.sampled_from(grants))
        kind = draw(st.sampled_from(RightKind))
        if draw(st.booleans()):
            # Plausible child: within its parent's scope and term, so that the remaining
            # rules (kinds, sublicensing, activity) are what decides validity.
            terms.update(
                scope=draw(sub_scopes(parent.scope)),
                valid_from=parent.valid_from,
                valid_to=parent.valid_to,
            )
        grants.append(child(f"g{i}", parent, kind, **terms))
    built: dict[str, RightGrant] = index(*grants)
    return built


@settings(max_examples=200)
@given(arbitrary_trees())
def test_no_valid_grant_exceeds_its_parent_or_hangs_from_a_closed_one(
    grants: dict[str, RightGrant],
) -> None:
    for gid, grant in grants.items():
        if not validate_chain(gid, grants, T0).valid:
            continue
        assert grant.is_active(T0)
        if grant.parent_id is None:
            continue
        parent = grants[grant.parent_id]
        assert validate_chain(parent.grant_id, grants, T0).valid
        assert grant.scope.within(parent.scope) == []
        assert parent.kind is RightKind.HOLDING or parent.scope.sublicensable
        assert grant.valid_from >= parent.valid_from
        if parent.valid_to is not None:
            assert grant.valid_to is not None and grant.valid_to <= parent.valid_to


@given(st.integers(1, 300))
def test_validation_looks_up_each_link_of_the_chain_once(depth: int) -> None:
    grants = [holding("g0")]
    for i in range(1, depth):
        grants.append(child(f"g{i}", grants[-1], scope=scope(sublicensable=True)))
    counting = CountingMapping(index(*grants))
    assert validate_chain(f"g{depth - 1}", counting, T0).valid
    assert counting.lookups == depth


@st.composite
def pointer_soups(draw: st.DrawFn) -> dict[str, RightGrant]:
    """Grants whose parent pointers go anywhere, cycles included."""
    n = draw(st.integers(1, 12))
    grants = []
    for i in range(n):
        # Any other grant (never itself: the model refuses a self-parent outright).
        other = draw(st.none() | st.integers(0, n - 2)) if n > 1 else None
        parent = None if other is None else other + (other >= i)
        if parent is None:
            grants.append(holding(f"g{i}"))
        else:
            kind = draw(st.sampled_from([RightKind.HOLDING, RightKind.PROCESSING]))
            grants.append(child(f"g{i}", holding(f"g{parent}"), kind))
    built: dict[str, RightGrant] = index(*grants)
    return built


def _reaches_a_cycle(gid: str, grants: dict[str, RightGrant]) -> bool:
    seen: set[str] = set()
    current: str | None = gid
    while current is not None and current in grants:
        if current in seen:
            return True
        seen.add(current)
        current = grants[current].parent_id
    return False


@settings(max_examples=300)
@given(pointer_soups())
def test_cycles_are_detected_and_never_loop(grants: dict[str, RightGrant]) -> None:
    for gid in grants:
        counting = CountingMapping(grants)
        v = validate_chain(gid, counting, T0)
        assert counting.lookups <= len(grants)
        assert (v.reason is FaultCode.CYCLE) == _reaches_a_cycle(gid, grants)
        revocation_effect(gid, grants)

    shown: list[str] = []
    stack = list(rights_tree(grants, T0))
    while stack:
        node = stack.pop()
        shown.append(node.grant.grant_id)
        stack.extend(node.children)
    assert sorted(shown) == sorted(grants)  # every grant displayed exactly once


@settings(max_examples=200)
@given(valid_trees(), st.data())
def test_an_issuable_grant_is_valid_once_recorded(grants: dict[str, RightGrant], data: st.DataObject) -> None:
    parent = grants[data.draw(st.sampled_from(sorted(grants)))]
    kind = data.draw(st.sampled_from(RightKind))
    grantor = data.draw(st.sampled_from([parent.holder_id, "mallory"]))
    start = T0 - data.draw(st.integers(0, 1000)) * HOUR
    length = data.draw(st.none() | st.integers(1, 2000).map(lambda h: timedelta(hours=h)))
    proposed = child(
        "new",
        parent,
        kind,
        scope=data.draw(scopes()),
        valid_from=start,
        valid_to=None if length is None else start + length,
    )
    problems = check_new_grant(parent, proposed, grantor, T0, grants=grants)
    recorded = validate_chain("new", {**grants, "new": proposed}, T0)
    if proposed.is_active(T0) and not problems:
        assert recorded.valid
    transferred = parent.kind is RightKind.HOLDING and any(
        g.parent_id == parent.grant_id and g.kind is RightKind.HOLDING for g in grants.values()
    )
    if recorded.valid and grantor == parent.holder_id and not transferred:
        assert problems == []
