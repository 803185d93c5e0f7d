from datetime import datetime

import pytest
from contract_factories import HOUR, T0, child, holding, index, scope

from contracts import (
    ContractError,
    FaultCode,
    Purpose,
    RightGrant,
    RightKind,
    Territory,
    check_new_grant,
    revocation_effect,
    rights_tree,
    tree,
    validate_chain,
)

ROOT = holding("H", holder="seller")
PROC = child("P", ROOT, holder="lab", scope=scope(sublicensable=True))
OPER = child("O", PROC, RightKind.OPERATING, holder="shop")


def test_a_well_formed_chain_is_valid_and_listed_root_first() -> None:
    v = validate_chain("O", index(ROOT, PROC, OPER), T0)
    assert v.valid and v.reason is None
    assert v.chain == ("H", "P", "O")
    assert v.registration_id == "REG-1"


@pytest.mark.parametrize(
    ("changed", "reason", "field"),
    [
        (holding("H", revoked_at=T0), FaultCode.REVOKED, "revoked_at"),
        (holding("H", valid_to=T0), FaultCode.EXPIRED, "valid_to"),
        (holding("H", valid_from=T0 + HOUR), FaultCode.NOT_STARTED, "valid_from"),
    ],
)
def test_a_root_out_of_force_fails_every_descendant_at_the_root(
    changed: RightGrant, reason: FaultCode, field: str
) -> None:
    v = validate_chain("O", index(changed, PROC, OPER), T0)
    assert not v.valid
    assert (v.failing_grant_id, v.reason, v.field) == ("H", reason, field)
    assert v.message is not None and "Art. 63(2)" in v.message


def test_a_revocation_later_than_the_moment_asked_about_does_not_count() -> None:
    assert validate_chain("O", index(holding("H", revoked_at=T0 + HOUR), PROC, OPER), T0).valid


def test_a_child_of_a_non_sublicensable_processing_right_is_invalid() -> None:
    proc = child("P", ROOT, scope=scope(sublicensable=False))
    v = validate_chain("O", index(ROOT, proc, child("O", proc, RightKind.OPERATING)), T0)
    assert (v.failing_grant_id, v.reason) == ("O", FaultCode.NOT_SUBLICENSABLE)


def test_the_holder_may_always_grant_out_of_the_holding_right() -> None:
    root = holding("H", scope=scope(sublicensable=False))
    assert validate_chain("P", index(root, child("P", root)), T0).valid


def test_a_child_wider_than_its_parent_fails_at_the_child() -> None:
    root = holding("H", scope=scope(Purpose.MARKETING))
    wide = child("P", root, scope=scope(Purpose.MARKETING, Purpose.AI_TRAINING))
    v = validate_chain("P", index(root, wide), T0)
    assert (v.failing_grant_id, v.reason, v.field) == (
        "P",
        FaultCode.SCOPE_EXCEEDS_PARENT,
        "scope.purposes",
    )


def test_a_child_outliving_its_parent_is_invalid_even_while_both_run() -> None:
    root = holding("H", valid_to=T0 + 10 * HOUR)
    v = validate_chain("P", index(root, child("P", root, valid_to=None)), T0)
    assert (v.reason, v.field) == (FaultCode.TERM_EXCEEDS_PARENT, "valid_to")


def test_operating_rights_cannot_be_granted_onwards() -> None:
    sub = child("X", OPER, RightKind.PROCESSING, subject_kind="product", subject_id="P1")
    v = validate_chain("X", index(ROOT, PROC, OPER, sub), T0)
    assert (v.failing_grant_id, v.reason) == ("X", FaultCode.KIND_INCOMPATIBLE)


def test_a_right_over_another_resource_cannot_hang_here() -> None:
    v = validate_chain("P", index(ROOT, child("P", ROOT, subject_id="R2")), T0)
    assert v.reason is FaultCode.SUBJECT_MISMATCH


def test_a_missing_parent_and_an_unknown_grant_are_reported() -> None:
    assert validate_chain("O", index(PROC, OPER), T0).reason is FaultCode.MISSING_PARENT
    assert validate_chain("nope", {}, T0).reason is FaultCode.UNKNOWN_GRANT


def test_a_cycle_is_reported_not_followed() -> None:
    a = child("A", ROOT, parent_id="B")
    b = child("B", ROOT, parent_id="A")
    v = validate_chain("A", index(a, b), T0)
    assert (v.reason, v.failing_grant_id) == (FaultCode.CYCLE, "B")


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ContractError):
        validate_chain("H", index(ROOT), datetime(2025, 1, 1))


# --- issuing --------------------------------------------------------------------------


def test_the_holder_may_issue_a_processing_right_within_its_own() -> None:
    proposed = child("N", ROOT, scope=scope(Purpose.ACADEMIC_RESEARCH))
    assert check_new_grant(ROOT, proposed, "seller", T0, grants=index(ROOT)) == []


def test_each_problem_names_its_link_and_field() -> None:
    proc = child("P", ROOT, scope=scope(Purpose.MARKETING, territory=Territory.DOMESTIC))
    proposed = child(
        "N",
        proc,
        scope=scope(Purpose.AI_TRAINING, territory=Territory.CROSS_BORDER),
        valid_to=T0 + HOUR,
    )
    problems = check_new_grant(proc, proposed, "mallory", T0, grants=index(ROOT, proc))
    found = {(p.code, p.grant_id, p.field) for p in problems}
    assert found == {
        (FaultCode.GRANTOR_NOT_HOLDER, "P", "holder_id"),
        (FaultCode.NOT_SUBLICENSABLE, "N", "parent_id"),
        (FaultCode.SCOPE_EXCEEDS_PARENT, "N", "scope.purposes"),
        (FaultCode.SCOPE_EXCEEDS_PARENT, "N", "scope.territory"),
    }


def test_issuing_from_an_invalid_chain_points_at_the_broken_link() -> None:
    root = holding("H", revoked_at=T0 - HOUR)
    proposed = child("N", PROC, scope=scope(Purpose.MARKETING))
    problems = check_new_grant(PROC, proposed, "lab", T0, grants=index(root, PROC))
    assert [(p.code, p.grant_id, p.field) for p in problems] == [
        (FaultCode.PARENT_INVALID, "H", "revoked_at")
    ]


def test_a_transferred_holding_right_can_no_longer_be_granted_from() -> None:
    transfer = child("H2", ROOT, RightKind.HOLDING, holder="buyer")
    proposed = child("N", ROOT)
    problems = check_new_grant(ROOT, proposed, "seller", T0, grants=index(ROOT, transfer))
    assert [p.code for p in problems] == [FaultCode.HOLDING_TRANSFERRED]
    from_transferee = child("N", transfer)
    assert check_new_grant(transfer, from_transferee, "buyer", T0, grants=index(ROOT, transfer)) == []


def test_a_root_holding_right_is_issued_without_a_parent() -> None:
    assert check_new_grant(None, holding("H9"), "registry", T0, grants={}) == []
    problems = check_new_grant(None, child("N", ROOT), "registry", T0, grants={})
    assert [p.code for p in problems] == [FaultCode.NOT_ROOTED]


def test_a_grant_whose_term_has_already_ended_is_not_issued() -> None:
    proposed = child("N", ROOT, valid_from=T0 - 2 * HOUR, valid_to=T0 - HOUR)
    problems = check_new_grant(ROOT, proposed, "seller", T0, grants=index(ROOT))
    assert [(p.code, p.grant_id, p.field) for p in problems] == [(FaultCode.EXPIRED, "N", "valid_to")]
    future = child("N", ROOT, valid_from=T0 + HOUR)  # future-dated grants are fine
    assert check_new_grant(ROOT, future, "seller", T0, grants=index(ROOT)) == []


def test_duplicates_and_mismatched_parents_are_refused() -> None:
    problems = check_new_grant(ROOT, child("P", OPER), "seller", T0, grants=index(ROOT, PROC))
    assert {p.code for p in problems} >= {FaultCode.DUPLICATE_GRANT, FaultCode.PARENT_MISMATCH}


# --- revocation and display -----------------------------------------------------------


def test_revocation_reaches_the_grant_and_everything_below_it() -> None:
    other = child("Q", ROOT)
    grants = index(ROOT, PROC, OPER, other)
    assert revocation_effect("P", grants) == {"P", "O"}
    assert revocation_effect("H", grants) == {"H", "P", "O", "Q"}
    with pytest.raises(ContractError):
        revocation_effect("nope", grants)


def test_the_tree_nests_children_and_marks_validity() -> None:
    revoked_proc = PROC.revoked(T0 - HOUR)
    grants = index(ROOT, revoked_proc, OPER, child("Q", ROOT))
    assert tree(grants, T0) == rights_tree(grants, T0)  # the older name still works
    [root] = rights_tree(grants, T0)
    assert root.grant.grant_id == "H" and root.validity.valid
    by_id = {n.grant.grant_id: n for n in root.children}
    assert set(by_id) == {"P", "Q"}
    assert not by_id["P"].validity.valid and by_id["Q"].validity.valid
    [oper] = by_id["P"].children
    assert oper.validity.failing_grant_id == "P"


def test_the_tree_shows_orphans_and_cycles_as_extra_roots() -> None:
    a = child("A", ROOT, parent_id="B")
    b = child("B", ROOT, parent_id="A")
    roots = {n.grant.grant_id: n for n in rights_tree(index(a, b, OPER), T0)}
    assert set(roots) == {"A", "O"}
    [b_node] = roots["A"].children
    assert b_node.grant.grant_id == "B" and b_node.children == ()
    assert roots["A"].validity.reason is FaultCode.CYCLE
    assert roots["O"].validity.reason is FaultCode.MISSING_PARENT
