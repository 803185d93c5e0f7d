"""Every feature's router, in one list: a new feature is wired here and nowhere else."""

from __future__ import annotations

from fastapi import FastAPI

from market.alerts.endpoints import router as alerts_router
from market.allocation.endpoints import router as allocation_router
from market.audit.endpoints import router as audit_router
from market.audit.tile_endpoints import router as tiles_router
from market.catalog.endpoints import router as catalog_router
from market.compliance.endpoints import router as compliance_router
from market.delivery.endpoints import router as delivery_router
from market.demotime.endpoints import router as demo_time_router
from market.disclosures.endpoints import router as disclosures_router
from market.downloads.endpoints import router as downloads_router
from market.gateway.endpoints import router as gateway_router
from market.notifications.endpoints import router as notifications_router
from market.ns.endpoints import router as ns_router
from market.orders.endpoints import router as orders_router
from market.participants.endpoints import router as participants_router
from market.payments.accounts.endpoints import router as accounts_router
from market.payments.endpoints import router as payments_router
from market.payments.settlement_endpoints import router as settlement_router
from market.privacy.endpoints import router as subject_requests_router
from market.privacy.obligation_endpoints import router as obligations_router
from market.registry.calendar_years import router as calendar_years_router
from market.registry.consent_endpoints import router as consent_router
from market.registry.endpoints import router as registry_router
from market.revenue_caps.endpoints import router as revenue_caps_router
from market.revisions.endpoints import router as revisions_router
from market.rights.endpoints import router as rights_router
from market.stats.endpoints import router as stats_router

# FastAPI matches a request against each router in turn, a regular expression per route, until
# one matches: a purchase's (quotes and orders) come first, as every machine buyer's calls go
# there; at the list's end a match cost about 0.3 ms (issue 21). No two routers serve one path and
# method, so their order decides nothing else (tests/api/test_route_order.py).
ROUTERS = [
    orders_router,
    payments_router,
    participants_router,
    catalog_router,
    compliance_router,
    allocation_router,
    revenue_caps_router,
    accounts_router,
    settlement_router,
    delivery_router,
    downloads_router,
    gateway_router,
    subject_requests_router,
    obligations_router,
    registry_router,
    revisions_router,
    consent_router,
    calendar_years_router,
    rights_router,
    audit_router,
    tiles_router,
    alerts_router,
    stats_router,
    disclosures_router,
    notifications_router,
    ns_router,
    demo_time_router,
]


def include_all(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
