"""Production mode refuses to start on the embedded defaults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from market.settings import Settings, Thresholds, configuration_errors


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
        root_secret="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
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


PRODUCTION: dict[str, Any] = {
    "mode": "production",
    "database_url": "postgresql+asyncpg://db/x",
    "jwt_secret": "s" * 40,
    "signing_key": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    "root_secret": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
}


def test_zero_publicity_days_only_outside_production() -> None:
    assert Settings(mode="embedded", publicity_working_days=0).publicity_working_days == 0
    with pytest.raises(ValidationError) as refused:
        Settings(**{**PRODUCTION, "publicity_working_days": 0})
    assert configuration_errors(refused.value) == [
        "MARKET_PUBLICITY_WORKING_DAYS must be at least 1 in production (Art. 62 publicity)"
    ]


def test_each_problem_is_one_line_naming_its_variable() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(mode="production", signing_key="not base64!", bootstrap_operator_email="op@example.cn")
    assert configuration_errors(refused.value) == [
        "MARKET_JWT_SECRET must be set to a secret of 32+ characters in production",
        "MARKET_DATABASE_URL must be set in production",
        "MARKET_ROOT_SECRET must be set in production (base64 of 32+ random bytes)",
        "MARKET_SIGNING_KEY must be base64 of exactly 32 bytes",
        "MARKET_BOOTSTRAP_OPERATOR_PASSWORD_FILE must name the file holding the operator's password",
    ]
