"""What hangs from what: the revocation reach of a grant and the displayed rights tree.

Both are computed from parent links on demand, never stored (design §3: "revoking a
grant revokes what hangs from it"). Validity shown in the tree is `validate_chain`'s,
so the display and the enforcement of Art. 22 / Art. 63(2) cannot disagree.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from contracts.chains import ChainValidity, GrantIndex, require_aware, validate_chain
from contracts.errors import ContractError
from contracts.rights import RightGrant


class RightsTreeNode(BaseModel):
    """One grant in the displayed rights tree, with its computed validity."""

    model_config = ConfigDict(frozen=True)

    grant: RightGrant
    validity: ChainValidity
    children: tuple[RightsTreeNode, ...] = ()


def children_index(grants: GrantIndex) -> dict[str, list[RightGrant]]:
    """Parent id → its children, in a stable display order (start, then id)."""
    children: dict[str, list[RightGrant]] = {}
    for g in grants.values():
        if g.parent_id is not None:
            children.setdefault(g.parent_id, []).append(g)
    for kids in children.values():
        kids.sort(key=lambda g: (g.valid_from, g.grant_id))
    return children


def revocation_effect(grant_id: str, grants: GrantIndex) -> set[str]:
    """Ids of the grant and everything hanging from it: what revoking it invalidates.

    Computed from parent links on demand, never stored. Terminates on cycles. Raises
    `ContractError("unknown_grant", "grant_id", ...)` for an id not in `grants`.
    """
    if grant_id not in grants:
        raise ContractError("unknown_grant", "grant_id", f"no grant {grant_id!r}")
    children = children_index(grants)
    reached = {grant_id}
    stack = [grant_id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child.grant_id not in reached:
                reached.add(child.grant_id)
                stack.append(child.grant_id)
    return reached


def rights_tree(grants: GrantIndex, at: datetime) -> list[RightsTreeNode]:
    """The rights tree(s) over `grants` (usually one resource's), each node with validity.

    Roots are grants without a parent or whose parent is not in `grants`; grants caught
    in a cycle, reachable from no root, are shown as extra roots so nothing is hidden.
    Every grant appears exactly once.
    """
    require_aware(at)
    children = children_index(grants)
    ordered = sorted(grants.values(), key=lambda g: (g.valid_from, g.grant_id))
    starts = [g for g in ordered if g.parent_id is None or g.parent_id not in grants]
    visited: set[str] = set()
    preorder: list[RightGrant] = []

    def walk(start: RightGrant) -> None:
        # Iterative: a hostile or corrupt index must not exhaust the recursion limit.
        stack = [start]
        while stack:
            g = stack.pop()
            if g.grant_id in visited:
                continue
            visited.add(g.grant_id)
            preorder.append(g)
            stack.extend(reversed(children.get(g.grant_id, [])))

    for g in starts:
        walk(g)
    for g in ordered:
        if g.grant_id not in visited:
            starts.append(g)
            walk(g)

    nodes: dict[str, RightsTreeNode] = {}
    for g in reversed(preorder):  # children are built before their parents
        kids = tuple(nodes[c.grant_id] for c in children.get(g.grant_id, []) if c.grant_id in nodes)
        nodes[g.grant_id] = RightsTreeNode(
            grant=g, validity=validate_chain(g.grant_id, grants, at), children=kids
        )
    return [nodes[g.grant_id] for g in starts]


# The service's first name for `rights_tree`; kept so existing callers keep working.
tree = rights_tree
