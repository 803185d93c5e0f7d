"""The states of webhook endpoints and deliveries, and the only transitions between them."""

from __future__ import annotations

from enum import StrEnum

from market.common.states import StateMachine


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"  # after repeated failure, until its owner enables it again
    DELETED = "deleted"  # kept for the delivery log, never sent to again


ENDPOINTS = StateMachine(
    "webhook-endpoint",
    {
        EndpointStatus.ENABLED: {EndpointStatus.DISABLED, EndpointStatus.DELETED},
        EndpointStatus.DISABLED: {EndpointStatus.ENABLED, EndpointStatus.DELETED},
    },
)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed; a replay sends it again


DELIVERIES = StateMachine(
    "webhook-delivery",
    {
        DeliveryStatus.PENDING: {DeliveryStatus.DELIVERED, DeliveryStatus.FAILED},
        DeliveryStatus.FAILED: {DeliveryStatus.PENDING},
        DeliveryStatus.DELIVERED: {DeliveryStatus.PENDING},  # a manual replay
    },
)
