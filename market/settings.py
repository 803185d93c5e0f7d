"""Service settings, read from `MARKET_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from market.common.iris import trusted_networks, valid_base_url

# Shipped defaults are fine on a laptop and fatal in production: `production` mode refuses them.
DEFAULT_JWT_SECRET = "embedded-mode-jwt-secret-change-me-0123456789abcdef"  # noqa: S105
DEFAULT_DATA_DIR = Path(".market")


@dataclass(frozen=True)
class Thresholds:
    """Abnormal-trade alert thresholds (Art. 61): configuration of `market.orders.abnormal_rules`."""

    burst_orders: int = 5
    burst_window: timedelta = timedelta(minutes=10)
    price_factor: Decimal = Decimal(3)
    price_history_min: int = 3
    # The product's history is its most recent orders: a price is judged against what the
    # product sells for now, and the check costs the same at its 10th order and its millionth.
    price_history_window: int = 200
    round_trip_window: timedelta = timedelta(days=30)
    refusals: int = 3
    refusal_window: timedelta = timedelta(hours=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKET_", env_file=None, extra="ignore")

    mode: Literal["embedded", "production", "test"] = "embedded"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    # Where clients reach the service (`https://data.example.cn`): the base of every IRI the
    # exchange mints (market.common.iris). Unset: taken from each request (its Host header).
    public_base_url: str = ""
    # Proxies (IP addresses or CIDR networks, comma-separated) whose Forwarded / X-Forwarded-*
    # headers say the scheme, host and path prefix clients used; nobody else's are believed.
    trusted_proxies: str = ""
    # The exchange's contact point in its catalogue (DCAT-AP `dcat:contactPoint`).
    contact_email: str = "data-service@jilin-data-exchange.example"

    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_issuer: str = "jilin-data-exchange"
    jwt_audience: str = "jilin-data-exchange-api"
    jwt_ttl_seconds: int = Field(default=3600, ge=60, le=86400)

    # Ed25519 seed (base64, 32 bytes) that signs certificates and audit tree heads.
    signing_key: str = ""

    commission_rate: Decimal = Decimal("0.05")
    default_currency: str = "CNY"
    payment_provider: Literal["offline", "stripe"] = "offline"
    offline_auto_confirm: bool = False
    stripe_api_key: str = ""
    stripe_webhook_secret: str = ""

    max_body_bytes: int = 1_048_576
    max_upload_bytes: int = 1_073_741_824
    publicity_working_days: int = Field(default=10, ge=1, le=60)
    objection_working_days: int = Field(default=5, ge=1, le=30)
    quote_ttl_seconds: int = Field(default=1800, ge=60)
    # The sequencer runs and a tree head is signed this often (0: only on demand).
    audit_head_interval_seconds: int = Field(default=10, ge=0)
    # Abnormal-trade alert thresholds (Art. 61), as JSON naming any fields of
    # Thresholds (above), e.g. '{"burst_orders": 10, "burst_window": "PT30M"}'.
    alert_thresholds: Thresholds = Field(default_factory=Thresholds)
    log_json: bool = True

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return valid_base_url(value) if value.strip() else ""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        trusted_networks(value)  # refuses what is not an address or a network, naming it
        return value

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return trusted_networks(self.trusted_proxies)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.mode == "production":
            problems = []
            if self.jwt_secret == DEFAULT_JWT_SECRET or len(self.jwt_secret) < 32:
                problems.append("MARKET_JWT_SECRET must be set to a secret of 32+ characters")
            if not self.signing_key:
                problems.append("MARKET_SIGNING_KEY must be set (base64 Ed25519 seed)")
            if not self.database_url:
                problems.append("MARKET_DATABASE_URL must be set")
            if self.payment_provider == "stripe" and not self.stripe_webhook_secret:
                problems.append("MARKET_STRIPE_WEBHOOK_SECRET must be set with Stripe")
            if problems:
                raise ValueError("refusing to start in production mode: " + "; ".join(problems))
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'market.db'}"

    def exchange_signing_key(self) -> Ed25519PrivateKey:
        """The exchange's Ed25519 key; in embedded mode generated once into the data dir."""
        if self.signing_key:
            return Ed25519PrivateKey.from_private_bytes(base64.b64decode(self.signing_key))
        key_file = self.data_dir / "signing.key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
            key_file.chmod(0o600)
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(key_file.read_text()))

    def exchange_public_key_b64(self) -> str:
        raw = self.exchange_signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()


@lru_cache
def get_settings() -> Settings:
    return Settings()
