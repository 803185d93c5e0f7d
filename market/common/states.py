"""One state machine per stateful entity: its states as a StrEnum and its transition table.

A feature declares `MACHINE = StateMachine("order", {FROM: {TO, ...}, ...})` next to its
enum and changes a status only through `MACHINE.check(current, target)`, so a transition that
is not in the table cannot happen, and "what may change an order's status, and from which
states" is answered by one table in one file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from market.errors import Conflict

S = TypeVar("S", bound=StrEnum)


class InvalidTransition(Conflict):
    """The entity is not in a state the requested change may start from."""


class StateMachine(Generic[S]):
    def __init__(self, entity: str, transitions: Mapping[S, Iterable[S]], *, code: str | None = None) -> None:
        self.entity = entity
        self.code = code or f"invalid-{entity}-state"
        self.transitions: dict[str, frozenset[str]] = {
            str(source): frozenset(str(t) for t in targets) for source, targets in transitions.items()
        }

    def can(self, current: str, target: S) -> bool:
        return str(target) in self.transitions.get(str(current), frozenset())

    def sources_of(self, target: S) -> list[str]:
        return sorted(s for s, targets in self.transitions.items() if str(target) in targets)

    def check(self, current: str, target: S, *, message: str | None = None) -> None:
        """Raise a 409 naming the allowed starting states when `current -> target` is not a
        transition of this machine."""
        if not self.can(current, target):
            allowed = ", ".join(self.sources_of(target)) or "nowhere"
            raise InvalidTransition(
                message or f"a {current} {self.entity} cannot become {target} (only from: {allowed})",
                code=self.code,
                extra={"current_status": str(current), "requested_status": str(target)},
            )
