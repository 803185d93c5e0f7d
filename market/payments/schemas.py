"""Request and response models for placing orders, refunds, the settlement ledger, payouts and disputes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from market.common.schemas import StrictModel, examples
from market.orders.schemas import OrderCreate, OrderOut


class OrderPlace(OrderCreate):
    payment_method: Literal["provider", "account"] = Field(
        default="provider",
        description="provider: pay through the exchange's payment provider (bank transfer an "
        "operator confirms, or card). account: pay from your prepaid balance in the quote's "
        "currency, settled at once (402 when the balance is short; nothing is kept).",
    )


class PlacedOrderOut(OrderOut):
    delivery: dict[str, Any] | None = Field(
        default=None,
        description="An order paid from a balance is delivered at once: its licence's delivery "
        "(API credential, shown this once, or download token). A replay of the request shows the "
        "credential's prefix only.",
    )


class RefundCreate(StrictModel):
    model_config = examples(
        {"reason": "dispute resolved: half the files were missing", "amount_minor": 100000},
        {"reason": "order cancelled before delivery"},
    )

    reason: str = Field(min_length=3, max_length=2000)
    amount_minor: int | None = Field(
        default=None, ge=1, strict=True, description="Default: all that remains."
    )


class RefundOut(BaseModel):
    id: uuid.UUID
    amount_minor: int
    status: str = Field(description="requested (the provider has not confirmed it yet) | succeeded | failed")
    reason: str
    source: str


class LedgerLineOut(BaseModel):
    movement_id: uuid.UUID
    kind: str
    account: str
    amount_minor: int = Field(description="+ debit, - credit; every movement sums to zero")
    currency: str
    created_at: datetime


class LedgerOut(BaseModel):
    order_id: uuid.UUID
    balanced: bool
    lines: list[LedgerLineOut]


class DisputeCreate(StrictModel):
    model_config = examples(
        {
            "order_id": "3c4d5e6f-7081-4c9d-8e1f-2a3b4c5d6e7f",
            "reason": "not_as_described",
            "description": "the October file has no Chaoyang district rows",
        }
    )

    order_id: uuid.UUID
    reason: Literal["not_delivered", "not_as_described", "rights_problem"]
    description: str = Field(min_length=3, max_length=4000)


class DisputeAnswer(StrictModel):
    model_config = examples({"response": "the Chaoyang rows are in the corrected file, delivered today"})

    response: str = Field(min_length=3, max_length=4000, description="The seller's side, once")


class DisputeResolution(StrictModel):
    model_config = examples(
        {
            "outcome": "refund_partial",
            "amount_minor": 50000,
            "reason": "one of two months was incomplete",
        },
        {"outcome": "reject", "reason": "the data matches its description"},
    )

    outcome: Literal["refund_full", "refund_partial", "reject"]
    amount_minor: int | None = Field(
        default=None, ge=1, strict=True, description="refund_partial only: the fen to refund"
    )
    reason: str = Field(min_length=3, max_length=2000)


class DisputeOut(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    buyer_id: uuid.UUID
    seller_id: uuid.UUID
    source: str = Field(description="buyer | stripe (a card dispute) | exchange (rights revoked)")
    reason: str
    description: str
    status: str
    opened_by: str
    created_at: datetime
    respond_by: datetime = Field(description="The seller answers by then (working days)")
    resolve_by: datetime = Field(description="An operator resolves it by then (working days)")
    seller_response: str | None
    responded_at: datetime | None
    proposed_refund_minor: int | None
    resolution_reason: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    refund_id: uuid.UUID | None
    refund_minor: int | None


class PayoutOut(BaseModel):
    order_id: uuid.UUID
    seller_id: uuid.UUID
    status: str
    currency: str
    held_minor: int = Field(description="Proceeds held in escrow (window or open dispute)")
    due_minor: int = Field(description="Owed to the seller now (negative: a refund to recover)")
    held_until: datetime = Field(description="End of the acceptance window")
    due_at: datetime | None
    paid_out_at: datetime | None
    transfer_id: uuid.UUID | None
    created_at: datetime


class TransferCreate(StrictModel):
    model_config = examples(
        {
            "seller_id": "5e6f7081-92a3-4ebf-a03b-4c5d6e7f8091",
            "currency": "CNY",
            "bank_reference": "ICBC-20261130-0042",
            "note": "November payout",
        }
    )

    seller_id: uuid.UUID
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    bank_reference: str = Field(
        min_length=3, max_length=120, pattern=r"^[\x21-\x7e]+$", description="The bank transfer's reference"
    )
    note: str | None = Field(default=None, max_length=2000)


class TransferOut(BaseModel):
    id: uuid.UUID
    seller_id: uuid.UUID
    amount_minor: int
    currency: str
    status: str
    provider: str
    provider_ref: str | None
    bank_reference: str
    note: str | None
    breakdown: dict[str, int] = Field(description="Order id -> fen paid for it (negative: recovered)")
    recorded_by: str
    failure_reason: str | None
    created_at: datetime
    completed_at: datetime | None


class StatementRowOut(BaseModel):
    seller_id: uuid.UUID
    period: str = Field(description="Beijing-calendar day, month or year")
    currency: str
    paid_by_buyers_minor: int = Field(description="Charges in the period")
    commission_minor: int = Field(description="Commission in the period, net of refunds")
    refunded_minor: int = Field(description="Refunds paid back to buyers in the period")
    paid_out_minor: int = Field(description="Transferred to the seller in the period")
    held_minor: int = Field(description="Held in escrow at the period's end")
    due_minor: int = Field(description="Due to the seller at the period's end")
    refunds_owed_minor: int = Field(description="Refunds decided, not yet confirmed, at the period's end")


class StatementOut(BaseModel):
    period: str
    since: datetime | None
    until: datetime | None
    rows: list[StatementRowOut]
