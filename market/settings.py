"""Service settings, read from `MARKET_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import base64
import secrets
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from market.alerts.rules import Thresholds
from market.audit.note import Verifier
from market.common.keys import decode_root_secret

# Shipped defaults are fine on a laptop and fatal in production: `production` mode refuses them.
DEFAULT_JWT_SECRET = "embedded-mode-jwt-secret-change-me-0123456789abcdef"  # noqa: S105
DEFAULT_DATA_DIR = Path(".market")


class WitnessEndpoint(BaseModel):
    """A witness the exchange submits its checkpoints to (c2sp.org/tlog-witness)."""

    name: str = Field(min_length=1, description="The witness's key name, as in its cosignatures")
    url: str = Field(pattern=r"^https?://", description="Submission prefix; `/add-checkpoint` is appended")
    vkey: str = Field(description="Verifier key <name>+<key id>+<base64 of 0x04 || Ed25519 key>")

    @model_validator(mode="after")
    def _vkey_names_the_witness(self) -> WitnessEndpoint:
        verifier = Verifier.parse(self.vkey)  # ValueError on a malformed key
        if verifier.name != self.name or verifier.kind != "cosignature":
            raise ValueError("vkey must be an Ed25519 cosignature key (type 0x04) named like the witness")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MARKET_", env_file=None, extra="ignore")

    mode: Literal["embedded", "production", "test"] = "embedded"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    public_base_url: str = "http://127.0.0.1:8000"

    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_issuer: str = "jilin-data-exchange"
    jwt_audience: str = "jilin-data-exchange-api"
    jwt_ttl_seconds: int = Field(default=3600, ge=60, le=86400)

    # Ed25519 seed (base64, 32 bytes) that signs certificates and audit tree heads.
    signing_key: str = ""
    # Base64 of >= 32 random bytes: every symmetric key (audit entry MACs, ...) derives from it
    # (market.common.keys). Embedded mode generates one into the data dir when unset.
    root_secret: str = ""
    # Earlier root secrets, still accepted to check what was made under them (rotation).
    retired_root_secrets: list[str] = Field(default_factory=list)
    # Blob store (obstore URL): file:///dir, s3://bucket/prefix, ... Default: <data dir>/objects.
    storage_url: str = ""
    # Store options (JSON), e.g. {"endpoint": "http://127.0.0.1:9000", "access_key_id": ...}.
    storage_options: dict[str, str] = Field(default_factory=dict)

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
    # A new audit checkpoint is signed at most this often (0: the periodic publisher is off).
    audit_head_interval_seconds: int = Field(default=10, ge=0)
    # Committed audit entries are sequenced into the tree this often.
    audit_sequence_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    # The log's C2SP origin line; default: the public base URL without its scheme.
    audit_log_origin: str = ""
    # Witnesses (JSON list of {"name", "url", "vkey"}) and how many must cosign (default all).
    audit_witnesses: list[WitnessEndpoint] = Field(default_factory=list)
    audit_witness_quorum: int | None = Field(default=None, ge=1)
    audit_witness_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # Abnormal-trade alert thresholds (Art. 61), as JSON naming any fields of
    # market.alerts.rules.Thresholds, e.g. '{"burst_orders": 10, "burst_window": "PT30M"}'.
    alert_thresholds: Thresholds = Field(default_factory=Thresholds)
    log_json: bool = True

    @field_validator("root_secret", "retired_root_secrets")
    @classmethod
    def _root_secrets_are_long_enough(cls, value: str | list[str]) -> str | list[str]:
        for text in [value] if isinstance(value, str) else value:
            if text:
                decode_root_secret(text)  # ValueError names what is wrong
        return value

    @model_validator(mode="after")
    def _quorum_within_witnesses(self) -> Settings:
        if self.audit_witness_quorum is not None and self.audit_witness_quorum > len(self.audit_witnesses):
            raise ValueError("MARKET_AUDIT_WITNESS_QUORUM exceeds the number of configured witnesses")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.mode == "production":
            problems = []
            if not self.root_secret:
                problems.append("MARKET_ROOT_SECRET must be set (base64 of 32+ random bytes)")
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

    @property
    def effective_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return (self.data_dir / "objects").resolve().as_uri()

    @property
    def log_origin(self) -> str:
        """The audit log's origin line (c2sp.org/tlog-checkpoint): a schema-less URL."""
        if self.audit_log_origin:
            return self.audit_log_origin
        return self.public_base_url.split("://", 1)[-1].rstrip("/")

    @property
    def witness_quorum(self) -> int:
        return len(self.audit_witnesses) if self.audit_witness_quorum is None else self.audit_witness_quorum

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
