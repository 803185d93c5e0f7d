"""Production mode refuses to start on the embedded defaults."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from market.settings import Settings, Thresholds


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


def test_alert_thresholds_come_from_one_json_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKET_ALERT_THRESHOLDS", '{"burst_orders": 12, "burst_window": "PT30M"}')
    configured = Settings().alert_thresholds
    assert configured.burst_orders == 12 and configured.burst_window == timedelta(minutes=30)
    assert configured.refusals == Thresholds().refusals  # the rest keep their defaults
    monkeypatch.setenv("MARKET_ALERT_THRESHOLDS", '{"burst_orders": "many"}')
    with pytest.raises(ValidationError, match="burst_orders"):
        Settings()
