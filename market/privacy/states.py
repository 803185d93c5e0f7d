"""The states of a data-subject request, a contact verification and a licensee obligation, and
the only transitions between them.

A request: the seller answers within its deadline (fulfilled, or refused with reasons, PIPL
Art. 50); unanswered at the deadline it escalates to the operator by itself; the person may
escalate a refusal or an answer they dispute, or an overdue request. The operator upholds (the
request stands, an upheld withdrawal or deletion takes effect at once, and the seller answers
it) or dismisses it. A seller may still answer an escalated request late.
"""

from __future__ import annotations

from enum import StrEnum

from market.common.states import StateMachine


class RequestKind(StrEnum):
    ACCESS = "access"  # PIPL Art. 45
    COPY = "copy"  # Art. 45
    PORTABILITY = "portability"  # Art. 45(3)
    CORRECTION = "correction"  # Art. 46
    DELETION = "deletion"  # Art. 47
    CONSENT_WITHDRAWAL = "consent_withdrawal"  # Art. 15
    EXPLANATION = "explanation"  # Art. 48


# Requests that, once upheld, take the person's data out of what is sold.
REMOVALS = frozenset({RequestKind.DELETION, RequestKind.CONSENT_WITHDRAWAL})

ARTICLE = {
    RequestKind.ACCESS: "PIPL Art. 45",
    RequestKind.COPY: "PIPL Art. 45",
    RequestKind.PORTABILITY: "PIPL Art. 45(3)",
    RequestKind.CORRECTION: "PIPL Art. 46",
    RequestKind.DELETION: "PIPL Art. 47; Jilin 2023 Art. 44",
    RequestKind.CONSENT_WITHDRAWAL: "PIPL Art. 15; Jilin 2023 Art. 43",
    RequestKind.EXPLANATION: "PIPL Art. 48",
}


class RequestStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    REFUSED = "refused"
    ESCALATED = "escalated"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


SUBJECT_REQUESTS = StateMachine(
    "subject-request",
    {
        RequestStatus.OPEN: {RequestStatus.FULFILLED, RequestStatus.REFUSED, RequestStatus.ESCALATED},
        RequestStatus.FULFILLED: {RequestStatus.ESCALATED},
        RequestStatus.REFUSED: {RequestStatus.ESCALATED},
        RequestStatus.ESCALATED: {RequestStatus.UPHELD, RequestStatus.DISMISSED, RequestStatus.FULFILLED},
        # The operator upheld the request: the seller now does what it asked.
        RequestStatus.UPHELD: {RequestStatus.FULFILLED},
    },
)


class VerificationStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"  # too many wrong codes


VERIFICATIONS = StateMachine(
    "contact-verification",
    {VerificationStatus.PENDING: {VerificationStatus.CONFIRMED, VerificationStatus.FAILED}},
)


class ObligationStatus(StrEnum):
    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"  # unacknowledged at its deadline: the operator follows up
    CLOSED = "closed"  # the operator closed it (the licence revoked, or otherwise settled)


OBLIGATIONS = StateMachine(
    "licensee-obligation",
    {
        ObligationStatus.PENDING: {ObligationStatus.ACKNOWLEDGED, ObligationStatus.ESCALATED},
        ObligationStatus.ESCALATED: {ObligationStatus.ACKNOWLEDGED, ObligationStatus.CLOSED},
    },
)
