"""The listing states of a product (挂牌) and the only transitions between them.

draft -> (the seller submits; the listing rules decide) -> listed | needs_review | rejected;
operators then list, reject, suspend or delist, always with a reason (不合规不挂牌).
"""

from __future__ import annotations

from enum import StrEnum

from market.common.states import StateMachine


class ListingStatus(StrEnum):
    DRAFT = "draft"
    NEEDS_REVIEW = "needs_review"
    LISTED = "listed"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    DELISTED = "delisted"


LISTINGS = StateMachine(
    "listing",
    {
        # The seller's submission: the listing rules' outcome picks the target.
        ListingStatus.DRAFT: {ListingStatus.LISTED, ListingStatus.NEEDS_REVIEW, ListingStatus.REJECTED},
        # An operator's review of a parked submission.
        ListingStatus.NEEDS_REVIEW: {ListingStatus.LISTED, ListingStatus.REJECTED},
        ListingStatus.REJECTED: {ListingStatus.LISTED, ListingStatus.NEEDS_REVIEW, ListingStatus.REJECTED},
        ListingStatus.LISTED: {ListingStatus.SUSPENDED, ListingStatus.DELISTED},
        ListingStatus.SUSPENDED: {ListingStatus.LISTED, ListingStatus.DELISTED},
    },
    code="invalid-listing-transition",
)
# An operator's decision: the status it leads to, and the statuses it may be taken from (a
# rejected product comes back only through the seller's resubmission and the rules).
DECISION_TARGET = {
    "list": ListingStatus.LISTED,
    "reject": ListingStatus.REJECTED,
    "suspend": ListingStatus.SUSPENDED,
    "delist": ListingStatus.DELISTED,
}
DECISION_SOURCES = {
    "list": frozenset({ListingStatus.NEEDS_REVIEW, ListingStatus.SUSPENDED}),
    "reject": frozenset({ListingStatus.NEEDS_REVIEW}),
    "suspend": frozenset({ListingStatus.LISTED}),
    "delist": frozenset({ListingStatus.LISTED, ListingStatus.SUSPENDED}),
}
SUBMITTABLE = frozenset({ListingStatus.DRAFT, ListingStatus.REJECTED})
SUBMISSION_OUTCOME = {
    "allow": ListingStatus.LISTED,
    "deny": ListingStatus.REJECTED,
    "needs_review": ListingStatus.NEEDS_REVIEW,
}
# A seller may edit a product that is not on sale.
EDITABLE = frozenset({ListingStatus.DRAFT, ListingStatus.REJECTED, ListingStatus.SUSPENDED})
