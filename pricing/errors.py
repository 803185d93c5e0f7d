"""Pricing errors name the field at fault and the reason, so the API can say exactly what."""

from __future__ import annotations


class PricingError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
