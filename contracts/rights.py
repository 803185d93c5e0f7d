"""The three separated data rights and the grants that carry them.

Jilin Big Data Regulation (2023) Art. 22 separates the right to hold a data resource
(数据资源持有权), the right to process and use it (数据加工使用权) and the right to
operate a data product (数据产品经营权): each is granted and recorded on its own. A
`RightGrant` is one such record; grants hang from each other and form a tree rooted at
the holding right that a confirmed registration (Art. 62) establishes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.errors import ContractError


class RightKind(StrEnum):
    """The three rights of Art. 22 (三权分置)."""

    HOLDING = "holding"
    PROCESSING = "processing"
    OPERATING = "operating"

    @property
    def name_zh(self) -> str:
        return _KIND_ZH[self]


_KIND_ZH = {
    RightKind.HOLDING: "数据资源持有权",
    RightKind.PROCESSING: "数据加工使用权",
    RightKind.OPERATING: "数据产品经营权",
}

# Which kinds may hang from which (Art. 22). Holding hangs from holding only as a
# transfer; processing may be sub-granted by a processor; operating rests on holding or
# processing. Nothing hangs from operating: selling licences to buyers is what the
# operating right is *for*, and that happens through `Licence`, not through grants.
ALLOWED_PARENT_KINDS: dict[RightKind, frozenset[RightKind]] = {
    RightKind.HOLDING: frozenset({RightKind.HOLDING}),
    RightKind.PROCESSING: frozenset({RightKind.HOLDING, RightKind.PROCESSING}),
    RightKind.OPERATING: frozenset({RightKind.HOLDING, RightKind.PROCESSING}),
}


class Territory(StrEnum):
    """Where the right may be exercised. Cross-border includes domestic (Art. 88)."""

    DOMESTIC = "domestic"
    CROSS_BORDER = "cross_border"

    def covers(self, other: Territory) -> bool:
        """True when a right with this territory may contain one with `other`."""
        return self is Territory.CROSS_BORDER or other is Territory.DOMESTIC

    @property
    def name_zh(self) -> str:
        return "境内" if self is Territory.DOMESTIC else "跨境（含境内）"


class Purpose(StrEnum):
    """The fixed vocabulary of purposes a right or licence may name.

    A closed list so that purpose limitation is checkable: free text could not be
    compared, and a purpose nobody recognises cannot have been authorised (Art. 63(2)).
    Public governance and public welfare are the uses for which paid public data is free
    (发改价格〔2025〕65号).
    """

    PUBLIC_GOVERNANCE = "public_governance"
    PUBLIC_WELFARE = "public_welfare"
    ACADEMIC_RESEARCH = "academic_research"
    COMMERCIAL_ANALYTICS = "commercial_analytics"
    CREDIT_ASSESSMENT = "credit_assessment"
    MARKETING = "marketing"
    RISK_CONTROL = "risk_control"
    PRODUCT_DEVELOPMENT = "product_development"
    AI_TRAINING = "ai_training"
    INTERNAL_OPERATIONS = "internal_operations"

    @property
    def name_zh(self) -> str:
        return _PURPOSE_ZH[self]


_PURPOSE_ZH = {
    Purpose.PUBLIC_GOVERNANCE: "公共治理",
    Purpose.PUBLIC_WELFARE: "公益事业",
    Purpose.ACADEMIC_RESEARCH: "学术研究",
    Purpose.COMMERCIAL_ANALYTICS: "商业分析",
    Purpose.CREDIT_ASSESSMENT: "信用评估",
    Purpose.MARKETING: "市场营销",
    Purpose.RISK_CONTROL: "风险控制",
    Purpose.PRODUCT_DEVELOPMENT: "产品开发",
    Purpose.AI_TRAINING: "人工智能训练",
    Purpose.INTERNAL_OPERATIONS: "内部经营管理",
}


def parse_purpose(value: object, field: str = "purpose") -> Purpose:
    """Return the `Purpose` named by `value` (case and surrounding space ignored).

    Raises `ContractError("unknown_purpose", field, ...)` for anything outside the
    vocabulary.
    """
    if isinstance(value, Purpose):
        return value
    if isinstance(value, str):
        try:
            return Purpose(value.strip().lower())
        except ValueError:
            pass
    known = ", ".join(p.value for p in Purpose)
    raise ContractError(
        "unknown_purpose",
        field,
        f"purpose {value!r} is not in the exchange's purpose vocabulary ({known}); an "
        "unrecognised purpose cannot have been authorised by the rights holder (Art. 63(2))",
    )


def parse_purposes(values: Iterable[object], field: str = "purposes") -> frozenset[Purpose]:
    """Parse every purpose in `values`; see `parse_purpose`."""
    if isinstance(values, str):
        # A bare string would otherwise be iterated character by character.
        values = [values]
    if not isinstance(values, list | tuple | set | frozenset):
        raise ContractError(
            "invalid_purposes", field, f"expected a list of purposes, got {type(values).__name__}"
        )
    return frozenset(parse_purpose(v, field) for v in values)


class Scope(BaseModel):
    """What a right (or licence) allows: purposes, territory, fields, volume, sublicensing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    purposes: frozenset[Purpose] = Field(min_length=1)
    territory: Territory = Territory.DOMESTIC
    sublicensable: bool = False
    field_limits: frozenset[str] | None = None  # None: every field of the subject
    volume_limit: int | None = Field(default=None, ge=1)  # records or calls; None: unlimited

    @field_validator("purposes", mode="before")
    @classmethod
    def _known_purposes(cls, value: Any) -> frozenset[Purpose]:
        return parse_purposes(value, "scope.purposes")

    def excess_over(self, parent: Scope) -> list[tuple[str, str]]:
        """(field, reason) for every way this scope goes beyond `parent`'s (Art. 22).

        Sublicensing is not compared here: whether a child may exist at all depends on
        the kinds involved and is decided by the chain rules (`contracts.links`).
        """
        problems: list[tuple[str, str]] = []
        extra = sorted(p.value for p in self.purposes - parent.purposes)
        if extra:
            problems.append(("scope.purposes", f"purposes {extra} are outside the parent right's scope"))
        if not parent.territory.covers(self.territory):
            problems.append(("scope.territory", "cross-border use exceeds the parent's domestic territory"))
        if parent.field_limits is not None:
            if self.field_limits is None:
                problems.append(("scope.field_limits", "all fields requested but the parent limits fields"))
            else:
                extra_fields = sorted(self.field_limits - parent.field_limits)
                if extra_fields:
                    problems.append(("scope.field_limits", f"fields {extra_fields} are not in the parent's"))
        if parent.volume_limit is not None and (
            self.volume_limit is None or self.volume_limit > parent.volume_limit
        ):
            problems.append(
                (
                    "scope.volume_limit",
                    f"volume {self.volume_limit or 'unlimited'} exceeds the parent's {parent.volume_limit}",
                )
            )
        return problems

    def within(self, parent: Scope) -> list[str]:
        """Reasons this scope is not within `parent`'s; empty when it is."""
        return [reason for _, reason in self.excess_over(parent)]


class RightGrant(BaseModel):
    """One recorded grant of one of the three rights (Art. 22) over a resource or product.

    The holding right roots the tree: it has no parent and carries the id of the
    confirmed registration that established it (Art. 62). Every other grant names its
    parent; a holding grant with a parent is a transfer of the holding right.
    Operating rights are over data products (数据产品经营权), so their subject is always
    a product.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    grant_id: str = Field(min_length=1)
    kind: RightKind
    holder_id: str = Field(min_length=1)
    subject_kind: Literal["resource", "product"]
    subject_id: str = Field(min_length=1)
    parent_id: str | None = None
    registration_id: str | None = None
    scope: Scope
    valid_from: AwareDatetime
    valid_to: AwareDatetime | None = None  # None: open-ended
    revoked_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.parent_id is None:
            if self.kind is not RightKind.HOLDING:
                raise ContractError(
                    "parent_required",
                    "parent_id",
                    f"a {self.kind.value} right ({self.kind.name_zh}) must be granted from "
                    "an existing right; only the holding right roots at a registration "
                    "(Art. 22, Art. 63(2))",
                )
            if self.registration_id is None:
                raise ContractError(
                    "registration_required",
                    "registration_id",
                    "a root holding right must rest on a confirmed registration (Art. 62)",
                )
        elif self.parent_id == self.grant_id:
            raise ContractError("cycle", "parent_id", "a grant cannot be its own parent")
        if self.kind is RightKind.OPERATING and self.subject_kind != "product":
            raise ContractError(
                "operating_needs_product",
                "subject_kind",
                "the operating right is a right to operate a data product (Art. 22)",
            )
        if self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ContractError("empty_term", "valid_to", "valid_to must be after valid_from")
        return self

    def is_active(self, at: datetime) -> bool:
        """Started, not expired and not revoked at `at` (revocation takes effect at once)."""
        return (
            self.valid_from <= at
            and (self.valid_to is None or at < self.valid_to)
            and (self.revoked_at is None or at < self.revoked_at)
        )

    def revoked(self, at: datetime) -> RightGrant:
        """A copy revoked at `at`; an earlier revocation stands."""
        if self.revoked_at is not None and self.revoked_at <= at:
            return self
        return self.model_copy(update={"revoked_at": at})
