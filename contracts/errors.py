"""The one exception the contracts library raises.

The service maps it to problem+json once; `code` is stable (clients and tests match on
it), `field` names the input that is wrong, `reason` is for humans and cites the article
the refusal rests on.
"""

from __future__ import annotations


class ContractError(Exception):
    """A contract rule refused the input.

    Deliberately *not* a ``ValueError``: pydantic would swallow a ``ValueError`` raised in
    a validator into its own ``ValidationError`` and the stable code would be lost.
    """

    def __init__(self, code: str, field: str, reason: str) -> None:
        super().__init__(f"{code} [{field}]: {reason}")
        self.code = code
        self.field = field
        self.reason = reason

    def __repr__(self) -> str:
        return f"ContractError(code={self.code!r}, field={self.field!r}, reason={self.reason!r})"
