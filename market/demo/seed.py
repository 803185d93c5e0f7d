"""Demo data for the embedded default: known accounts so a newcomer can try every role."""

from __future__ import annotations

from sqlalchemy import func, select

from market.audit.macs import session_info
from market.auth.models import User
from market.db.session import make_engine, make_sessionmaker
from market.participants import service, verification
from market.participants.schemas import FirstUser, ParticipantCreate, StaffCreate
from market.settings import Settings

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (demo accounts, embedded mode only)
DEMO_SELLER = ("seller@jilin-seller.example.cn", "吉林省数据样例科技有限公司", "91350100M000100Y43")
DEMO_BUYER = ("buyer@changchun-buyer.example.cn", "长春买方信息服务有限公司", "91220101MA0Y3B5X61")
DEMO_CREDIT_CODES = frozenset(code for _, _, code in (DEMO_SELLER, DEMO_BUYER))
DEMO_STAFF = (
    ("operator@demo.example.cn", "operator"),
    ("auditor@demo.example.cn", "auditor"),
    ("prices@demo.example.cn", "price_authority"),
)


def demo_accounts() -> list[str]:
    """The seeded accounts, as a later start reminds them (they may have been changed since)."""
    people = [f"{email} / {DEMO_PASSWORD}  ({name})" for email, name, _ in (DEMO_SELLER, DEMO_BUYER)]
    return people + [f"{email} / {DEMO_PASSWORD}  ({role})" for email, role in DEMO_STAFF]


async def seed_demo_data(settings: Settings) -> list[str]:
    """Create the demo accounts once; returns what was created (empty if already seeded)."""
    engine = make_engine(settings.effective_database_url)
    lines: list[str] = []
    try:
        async with make_sessionmaker(engine, session_info(settings))() as session, session.begin():
            if await session.scalar(select(func.count()).select_from(User)):
                return []
            for email, name, code in (DEMO_SELLER, DEMO_BUYER):
                data = ParticipantCreate(
                    kind="organisation",
                    name=name,
                    credit_code=code,
                    roles=["seller", "buyer"],
                    user=FirstUser(email=email, password=DEMO_PASSWORD, display_name=name),
                )
                participant, _ = await service.sign_up(session, settings, data, None)
                # The demo's participants trade at once; a real sign-up waits for an operator.
                await verification.mark_verified(session, participant, "seed", "demo participant")
                lines.append(f"{email} / {DEMO_PASSWORD}  ({name})")
            for email, role in DEMO_STAFF:
                await service.create_staff(
                    session,
                    StaffCreate(email=email, password=DEMO_PASSWORD, display_name=role, role=role),
                    actor="seed",
                )
                lines.append(f"{email} / {DEMO_PASSWORD}  ({role})")
            from market.demo.catalogue import seed_demo_catalogue

            lines.extend(await seed_demo_catalogue(session, settings))
    finally:
        await engine.dispose()
    return lines
