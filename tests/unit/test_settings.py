"""Production mode refuses to start on the embedded defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from market.settings import Settings


def test_production_refuses_default_secret_and_missing_keys() -> None:
    with pytest.raises(ValidationError, match="MARKET_JWT_SECRET"):
        Settings(mode="production", database_url="postgresql+asyncpg://db/x", signing_key="a" * 44)
    with pytest.raises(ValidationError, match="MARKET_SIGNING_KEY"):
        Settings(mode="production", database_url="postgresql+asyncpg://db/x", jwt_secret="s" * 40)
    ok = Settings(
        mode="production",
        database_url="postgresql+asyncpg://db/x",
        jwt_secret="s" * 40,
        signing_key="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    )
    assert ok.mode == "production"


def test_embedded_defaults_are_usable() -> None:
    settings = Settings(mode="embedded")
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
