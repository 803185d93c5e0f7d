"""Imports every feature's tables so Base.metadata is complete (Alembic, tests)."""

from market.alerts import models as alert_models  # noqa: F401
from market.allocation import models as allocation_models  # noqa: F401
from market.audit import models as audit_models  # noqa: F401
from market.audit import tree_models as audit_tree_models  # noqa: F401
from market.auth import models as auth_models  # noqa: F401
from market.catalog import models as catalog_models  # noqa: F401
from market.compliance import models as compliance_models  # noqa: F401
from market.delivery import models as delivery_models  # noqa: F401
from market.downloads import models as download_models  # noqa: F401
from market.gateway import models as gateway_models  # noqa: F401
from market.idempotency import models as idempotency_models  # noqa: F401
from market.jobs import models as job_models  # noqa: F401
from market.notifications import models as notification_models  # noqa: F401
from market.orders import models as order_models  # noqa: F401
from market.participants import models as participant_models  # noqa: F401
from market.payments import models as payment_models  # noqa: F401
from market.payments.accounts import models as account_models  # noqa: F401
from market.privacy import models as privacy_models  # noqa: F401
from market.registry import models as registry_models  # noqa: F401
from market.revenue_caps import models as revenue_cap_models  # noqa: F401
from market.revisions import models as revision_models  # noqa: F401
from market.rights import models as rights_models  # noqa: F401
