"""Demo resources and products, created through the same services the API uses.

Only the publicity period is shortened (a demo cannot wait ten working days); everything else
(review checklist, certificate, holding right, operating right, listing rules) is the real path.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import LicenceTemplate
from market.auth.models import User
from market.auth.principal import Principal
from market.catalog.price_catalogue import example_entries, publish
from market.catalog.products import create_product, submit_listing
from market.catalog.schemas import ProductCreate
from market.registry import lifecycle, resources
from market.registry.schemas import Checklist, RegistrationCreate, RegistrationDecision, ResourceCreate
from market.rights.schemas import GrantCreate
from market.rights.service import issue_grant
from market.settings import Settings

# `market demo` buys these by title: other products (the seller demo's, a reader's own) may be newer.
API_PRODUCT_TITLE = "长春中小企业经营指数 API"
FILE_PRODUCT_TITLE = "吉林企业经营月报 (file)"
PRODUCTS = [
    (
        API_PRODUCT_TITLE,
        "api",
        {
            "kind": "metered",
            "base_fee": "500.00",
            "included_units": 1000,
            "overage_unit_price": "0.20",
            "currency": "CNY",
            "unit": "per_call",  # so the quota is the calls bought (market.delivery.quota)
        },
        10_000,
        "application/json",
    ),
    (
        FILE_PRODUCT_TITLE,
        "file",
        {"kind": "one_off", "price": "2000.00", "currency": "CNY"},
        None,
        "text/csv",
    ),
]


async def _principal(session: AsyncSession, email: str) -> Principal:
    user = (await session.execute(select(User).where(User.email == email))).scalar_one()
    return Principal(user.id, user.participant_id, frozenset(user.roles))


async def seed_demo_catalogue(session: AsyncSession, settings: Settings) -> list[str]:
    from market.demo.seed import DEMO_SELLER

    seller = await _principal(session, DEMO_SELLER[0])
    operator = await _principal(session, "operator@demo.example.cn")
    resource = await resources.create_resource(
        session,
        seller,
        ResourceCreate(
            title="长春中小企业经营数据",
            description="Monthly operating indicators of SMEs by district",
            category="enterprise",
            grade="general",
            lawful_source="collected from member enterprises under data-sharing agreements",
        ),
    )
    # The dataset itself as revision 1: its manifest hash is the fingerprint registered below.
    from market.demo.files import seed_revision

    revision_line = await seed_revision(session, settings, seller, resource.id)
    reg = await lifecycle.apply(
        session,
        seller,
        RegistrationCreate(resource_id=resource.id, rights_evidence="member agreements 2026-001..120"),
    )
    # Demo only: no ten-working-day wait (and no deadline that the holiday calendar must know).
    no_publicity = settings.model_copy(update={"publicity_working_days": 0})
    await lifecycle.decide(
        session,
        no_publicity,
        operator,
        reg.id,
        RegistrationDecision(
            decision="approve",
            checklist=Checklist(
                classification_present=True, lawful_source=True, fingerprint=True, rights_evidence=True
            ),
        ),
    )
    await lifecycle.finalise(session, no_publicity, reg, actor="seed")
    holding = reg.id
    from market.rights.models import RightGrantRow

    root = (
        await session.execute(select(RightGrantRow).where(RightGrantRow.registration_id == holding))
    ).scalar_one()
    lines = [f"registered resource {resource.title}: {reg.registration_number}", revision_line]
    # The shipped government tariffs (国办函〔2020〕109号), as the price authority publishes them.
    authority = await _principal(session, "prices@demo.example.cn")
    for entry in example_entries():
        await publish(session, authority, entry)
        lines.append(f"guided price entry {entry.entry_key} ({entry.legal_basis})")
    template = LicenceTemplate(
        permitted_purposes=frozenset({"risk_control", "commercial_analytics"}),
        scenarios=("SME credit risk scoring",),
        term_days=365,
        quota=None,
    )
    for title, mode, plan, quota, media_type in PRODUCTS:
        product = await create_product(
            session,
            seller,
            ProductCreate(
                title=title,
                description="Operating indicators of small and medium enterprises in Jilin",
                resource_ids=[resource.id],
                delivery_mode=mode,
                scenarios=["SME credit risk scoring"],
                price_plan=plan,
                licence_template=template.model_copy(update={"quota": quota}),
                themes=["ECON"],
                media_type=media_type,
            ),
        )
        await issue_grant(
            session,
            seller,
            GrantCreate(
                parent_grant_id=root.id,
                kind="operating",
                holder_id=seller.participant_id,
                subject_kind="product",
                subject_id=product.id,
                purposes=["risk_control", "commercial_analytics"],
            ),
        )
        product, _ = await submit_listing(session, seller, product.id)
        lines.append(f"product {title}: {product.listing_status} ({product.id})")
    return lines
