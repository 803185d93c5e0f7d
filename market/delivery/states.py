"""The states of a licence and the only transitions between them.

A licence can also be unusable without a transition: its term ended, or a right upstream of
its operating grant was revoked (computed on every read, see `service.licence_status`).
"""

from __future__ import annotations

from enum import StrEnum

from market.common.states import StateMachine


class LicenceStatus(StrEnum):
    ACTIVE = "active"
    # For good: refunded in full, ended by a partial refund as its terms say, or its rights
    # were revoked after the sale. (Narrowed by a partial refund, a licence stays active.)
    REVOKED = "revoked"


LICENCES = StateMachine(
    "licence",
    {
        LicenceStatus.ACTIVE: {LicenceStatus.REVOKED},
    },
)
