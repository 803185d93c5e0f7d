"""Imports every feature's jobs so the registry is complete (the app, the worker, tests)."""

from market.allocation import jobs as allocation_jobs  # noqa: F401
from market.audit import jobs as audit_jobs  # noqa: F401
from market.gateway import jobs as gateway_jobs  # noqa: F401
from market.idempotency import jobs as idempotency_jobs  # noqa: F401
from market.jobs import housekeeping  # noqa: F401
from market.jobs.registry import Job, registered
from market.notifications import jobs as notification_jobs  # noqa: F401
from market.orders import jobs as order_jobs  # noqa: F401
from market.participants import jobs as participant_jobs  # noqa: F401
from market.payments import jobs as payment_jobs  # noqa: F401
from market.privacy import jobs as privacy_jobs  # noqa: F401
from market.registry import jobs as registry_jobs  # noqa: F401
from market.revenue_caps import jobs as revenue_cap_jobs  # noqa: F401
from market.revisions import jobs as revision_jobs  # noqa: F401


def jobs() -> list[Job]:
    return registered()
