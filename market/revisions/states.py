"""The states of a revision: files are added while it is a draft; finalised, it never changes."""

from __future__ import annotations

from enum import StrEnum

from market.common.states import StateMachine


class RevisionStatus(StrEnum):
    DRAFT = "draft"
    FINALISED = "finalised"


REVISIONS = StateMachine("revision", {RevisionStatus.DRAFT: {RevisionStatus.FINALISED}})
