"""The exchange's closed vocabularies shared by every feature's request models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from contracts.rights import Purpose

# One purpose vocabulary for the whole exchange: licences and right grants (contracts/)
# name purposes from the same closed list, so "is the buyer's purpose inside the
# licence?" is a set comparison, not a fuzzy text match (Art. 63(2)).
KNOWN_PURPOSES: frozenset[str] = frozenset(p.value for p in Purpose)


def _known_purpose(value: str) -> str:
    if value not in KNOWN_PURPOSES:
        known = ", ".join(sorted(KNOWN_PURPOSES))
        # An unrecognised purpose cannot have been authorised by anyone, so it is bad
        # input (a 4xx at the API) rather than something the rules could weigh.
        raise ValueError(f"unknown purpose {value!r}; known purposes: {known}")
    return value


PurposeName = Annotated[str, AfterValidator(_known_purpose)]
