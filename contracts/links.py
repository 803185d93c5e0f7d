"""Rules for one link of a rights chain: a grant on its own, and a child against its parent.

Shared by `validate_chain` (which stops at the first fault) and `check_new_grant` (which
reports them all), so that what may be issued and what stays valid can never disagree.

Sublicensing rule (decided here, Art. 22): a grant may have children only if its scope
is sublicensable, *except* the holding right. Granting processing and operating rights
out of the holding right, or transferring it, is the ordinary exercise of holding, so
the holder always may; the holding grant's own `sublicensable` flag is therefore
ignored. The grantor of a child is always the parent's holder (checked at issue), so
"by its holder" needs no separate record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contracts.rights import ALLOWED_PARENT_KINDS, RightGrant, RightKind


class FaultCode(StrEnum):
    """Stable reason codes for an invalid grant or a refused issue."""

    UNKNOWN_GRANT = "unknown_grant"
    MISSING_PARENT = "missing_parent"
    CYCLE = "cycle"
    NOT_ROOTED = "not_rooted"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    REVOKED = "revoked"
    KIND_INCOMPATIBLE = "kind_incompatible"
    SUBJECT_MISMATCH = "subject_mismatch"
    NOT_SUBLICENSABLE = "not_sublicensable"
    SCOPE_EXCEEDS_PARENT = "scope_exceeds_parent"
    TERM_EXCEEDS_PARENT = "term_exceeds_parent"
    GRANTOR_NOT_HOLDER = "grantor_not_holder"
    PARENT_MISMATCH = "parent_mismatch"
    PARENT_INVALID = "parent_invalid"
    HOLDING_TRANSFERRED = "holding_transferred"
    DUPLICATE_GRANT = "duplicate_grant"
    ALREADY_REVOKED = "already_revoked"


@dataclass(frozen=True, slots=True)
class LinkFault:
    code: FaultCode
    field: str
    message: str


def activity_fault(grant: RightGrant, at: datetime) -> LinkFault | None:
    """Why `grant` is not in force at `at`, or None when it is."""
    if grant.revoked_at is not None and grant.revoked_at <= at:
        return LinkFault(
            FaultCode.REVOKED,
            "revoked_at",
            f"grant was revoked at {grant.revoked_at.isoformat()}; a revoked right cannot "
            "authorise a trade (Art. 63(2))",
        )
    if at < grant.valid_from:
        return LinkFault(
            FaultCode.NOT_STARTED,
            "valid_from",
            f"grant starts at {grant.valid_from.isoformat()} (Art. 63(2))",
        )
    if grant.valid_to is not None and at >= grant.valid_to:
        return LinkFault(
            FaultCode.EXPIRED,
            "valid_to",
            f"grant expired at {grant.valid_to.isoformat()} (Art. 63(2))",
        )
    return None


def root_fault(grant: RightGrant) -> LinkFault | None:
    """A chain must end at a holding right established by a registration (Art. 22, 62)."""
    if grant.kind is not RightKind.HOLDING or grant.registration_id is None:
        return LinkFault(
            FaultCode.NOT_ROOTED,
            "parent_id",
            "the chain does not end at a registered holding right (Art. 22, Art. 62)",
        )
    return None


def link_faults(parent: RightGrant, child: RightGrant) -> list[LinkFault]:
    """Every way `child` may not hang from `parent` (activity at a moment aside)."""
    faults: list[LinkFault] = []
    if parent.kind not in ALLOWED_PARENT_KINDS[child.kind]:
        faults.append(
            LinkFault(
                FaultCode.KIND_INCOMPATIBLE,
                "kind",
                f"a {child.kind.value} right ({child.kind.name_zh}) cannot be granted from a "
                f"{parent.kind.value} right ({parent.kind.name_zh}) (Art. 22)",
            )
        )
    if not _same_subject(parent, child):
        faults.append(
            LinkFault(
                FaultCode.SUBJECT_MISMATCH,
                "subject_id",
                f"child is over {child.subject_kind} {child.subject_id!r} but its parent is "
                f"over {parent.subject_kind} {parent.subject_id!r} (Art. 22)",
            )
        )
    if parent.kind is not RightKind.HOLDING and not parent.scope.sublicensable:
        faults.append(
            LinkFault(
                FaultCode.NOT_SUBLICENSABLE,
                "parent_id",
                f"parent {parent.grant_id!r} is not sublicensable; its holder may not grant "
                "rights out of it (Art. 22, Art. 63(2))",
            )
        )
    for field, reason in child.scope.excess_over(parent.scope):
        faults.append(LinkFault(FaultCode.SCOPE_EXCEEDS_PARENT, field, f"{reason} (Art. 22)"))
    faults.extend(_term_faults(parent, child))
    return faults


def _same_subject(parent: RightGrant, child: RightGrant) -> bool:
    if (parent.subject_kind, parent.subject_id) == (child.subject_kind, child.subject_id):
        return True
    # A product is built out of a resource: an operating right over the product may rest
    # on a right over the resource. Whether the product really is built from it is a
    # listing fact the service checks; the reverse (resource from product) never holds.
    return (
        child.kind is RightKind.OPERATING
        and child.subject_kind == "product"
        and parent.subject_kind == "resource"
    )


def _term_faults(parent: RightGrant, child: RightGrant) -> list[LinkFault]:
    faults: list[LinkFault] = []
    if child.valid_from < parent.valid_from:
        faults.append(
            LinkFault(
                FaultCode.TERM_EXCEEDS_PARENT,
                "valid_from",
                "child starts before its parent right (Art. 22)",
            )
        )
    if parent.valid_to is not None and (child.valid_to is None or child.valid_to > parent.valid_to):
        faults.append(
            LinkFault(
                FaultCode.TERM_EXCEEDS_PARENT,
                "valid_to",
                f"child runs past its parent right's end {parent.valid_to.isoformat()} (Art. 22)",
            )
        )
    return faults
