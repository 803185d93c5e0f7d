"""The first operator of a fresh installation, created at start-up from the environment.

A container cannot be asked for a password at a prompt, so `market serve` creates the operator
named by MARKET_BOOTSTRAP_OPERATOR_EMAIL with the password read from
MARKET_BOOTSTRAP_OPERATOR_PASSWORD_FILE (a compose secret), once: when a user with that e-mail
exists, nothing is changed, so restarts and a later password change are safe.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select

from market.audit.macs import session_info
from market.auth.models import User
from market.cli_support import ConfigurationError
from market.db.session import make_engine, make_sessionmaker
from market.participants.schemas import StaffCreate
from market.participants.service import create_staff
from market.settings import Settings

BOOTSTRAP_ACTOR = "bootstrap"


def _operator_from_environment(settings: Settings) -> StaffCreate:
    password_file = settings.bootstrap_operator_password_file
    assert password_file is not None  # Settings refuses an e-mail without a password file
    try:
        # A secret file usually ends with a newline that is not part of the password.
        password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigurationError(
            f"MARKET_BOOTSTRAP_OPERATOR_PASSWORD_FILE {password_file} cannot be read: {exc.strerror}"
        ) from None
    try:
        return StaffCreate(
            email=settings.bootstrap_operator_email,
            password=password,
            display_name="operator",
            role="operator",
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        variable = {
            "email": "MARKET_BOOTSTRAP_OPERATOR_EMAIL",
            "password": "the password in MARKET_BOOTSTRAP_OPERATOR_PASSWORD_FILE",
        }.get(str(problem["loc"][0]), "the bootstrap operator")
        raise ConfigurationError(f"{variable}: {problem['msg']}") from None


async def bootstrap_operator(settings: Settings) -> str | None:
    """Create the configured first operator unless that e-mail exists; says what it did."""
    if not settings.bootstrap_operator_email:
        return None
    data = _operator_from_environment(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        async with make_sessionmaker(engine, session_info(settings))() as session, session.begin():
            existing = await session.scalar(select(User).where(User.email == data.email.lower()))
            if existing is not None:
                if "operator" not in existing.roles:
                    return f"bootstrap: {data.email} exists but is not an operator; nothing changed"
                return f"bootstrap: operator {data.email} exists; nothing changed"
            user = await create_staff(session, data, actor=BOOTSTRAP_ACTOR)
            return f"bootstrap: created operator {data.email} ({user.id})"
    finally:
        await engine.dispose()
