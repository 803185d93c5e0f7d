"""Service settings, read from `MARKET_*` environment variables (pydantic-settings)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from limits import parse as parse_rate_limit
from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from market.common.iris import trusted_networks, valid_base_url
from market.common.keys import RootSecretMissing, decode_root_secret, read_or_create_secret
from market.home import default_home, sqlite_file

# Shipped defaults are fine on a laptop and fatal in production: `production` mode refuses them.
DEFAULT_JWT_SECRET = "embedded-mode-jwt-secret-change-me-0123456789abcdef"  # noqa: S105
DATABASE_FILE = "market.db"
SIGNING_KEY_FILE = "signing.key"
DEMO_CLOCK_FILE = "demo-clock.json"
ROOT_SECRET_FILE = "root.key"  # noqa: S105 (a file name)
_HOME_KEYS = frozenset({"data_dir", "market_home", "market_data_dir"})


class ConfigurationProblems(ValueError):
    """Every reason the configuration is refused, each a sentence naming its variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


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


class WitnessEndpoint(BaseModel):
    """A witness the exchange submits its checkpoints to (c2sp.org/tlog-witness). The key is
    only shaped here; `market.audit.witnessing` parses and checks it where it is used."""

    name: str = Field(min_length=1, description="The witness's key name, as in its cosignatures")
    url: str = Field(pattern=r"^https?://", description="Submission prefix; `/add-checkpoint` is appended")
    vkey: str = Field(
        pattern=r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$",
        description="Verifier key <name>+<key id>+<base64 of 0x04 || Ed25519 key>",
    )


# The decoded roots by what they were decoded from (the configured secrets, or the data dir whose
# file is written once): every token check, quote seal and audit entry asks for them, and
# decoding them each time was 1.6 % of a purchase's CPU (issue 21).
_ROOTS_DECODED: dict[tuple[Any, ...], tuple[bytes, ...]] = {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MARKET_", env_file=None, extra="ignore", populate_by_name=True
    )

    mode: Literal["embedded", "production", "test"] = "embedded"
    # The one data directory (MARKET_HOME): the embedded database, the signing key. Every command
    # resolves it the same way, so the server and the CLI agree wherever they are run from.
    data_dir: Path = Field(
        default=Path(), validation_alias=AliasChoices("MARKET_HOME", "MARKET_DATA_DIR", "data_dir")
    )
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
    # Access tokens are short; a refresh token (stored hashed, rotated on use) renews them.
    jwt_ttl_seconds: int = Field(default=900, ge=60, le=86400)
    refresh_ttl_seconds: int = Field(default=14 * 86400, ge=300, le=90 * 86400)

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
    # Revisions of a resource (market.revisions): the largest file, and the largest revision
    # (all its files), a seller may upload; past them 413. A file is also capped by
    # max_upload_bytes, which the body limit applies to every upload route.
    max_revision_file_bytes: int = Field(default=1_073_741_824, ge=1)
    max_revision_bytes: int = Field(default=10_737_418_240, ge=1)
    # How long a signed download URL (`?exp=...&sig=...`) stays valid.
    signed_url_ttl_seconds: int = Field(default=900, ge=30, le=86400)
    # 0 (embedded and test modes only) ends publicity at approval, for trying the exchange out.
    publicity_working_days: int = Field(default=10, ge=0, le=60)
    objection_working_days: int = Field(default=5, ge=1, le=30)
    quote_ttl_seconds: int = Field(default=1800, ge=60)
    # Escrow: a paid order's proceeds are held this many days after delivery, for the buyer to
    # accept or dispute; then the seller's payout is due.
    acceptance_window_days: int = Field(default=7, ge=1, le=90)
    # Disputes: the seller answers, and an operator resolves, within these working days.
    dispute_response_working_days: int = Field(default=5, ge=1, le=30)
    dispute_resolution_working_days: int = Field(default=10, ge=1, le=60)
    # An operator decides a participant's verification (KYC, issue 18) within this many working
    # days of its sign-up; past it, the job `participants.verification_overdue` raises an alert.
    participant_verification_working_days: int = Field(default=5, ge=1, le=30)
    # The audit publisher (job `audit.publish_checkpoint`) starts this often and signs a new
    # checkpoint at most this often (0: not on a schedule); each run sequences committed
    # entries every MARKET_AUDIT_SEQUENCE_INTERVAL_SECONDS until the next run is due.
    audit_head_interval_seconds: int = Field(default=10, ge=0)
    # Committed audit entries are sequenced into the tree this often (within a publisher run).
    audit_sequence_interval_seconds: float = Field(default=0.5, gt=0, le=60)
    # The log's C2SP origin line; default: the public base URL without its scheme. Witnesses
    # know the log by it: changing it starts a new log for them.
    audit_log_origin: str = ""
    # Witnesses (JSON list of {"name", "url", "vkey"}) and how many must cosign (default all).
    audit_witnesses: list[WitnessEndpoint] = Field(default_factory=list)
    audit_witness_quorum: int | None = Field(default=None, ge=1)
    audit_witness_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # Abnormal-trade alert thresholds (Art. 61), as JSON naming any fields of
    # Thresholds (above), e.g. '{"burst_orders": 10, "burst_window": "PT30M"}'.
    alert_thresholds: Thresholds = Field(default_factory=Thresholds)
    # JSON lines (True) or a readable console (False); unset: JSON in production and whenever
    # stderr is not a terminal, the console otherwise.
    log_json: bool | None = None

    # Personal information (PIPL Art. 44-50; Jilin Regulation 2023 Art. 41-44).
    # A seller answers a data-subject request within this many working days: PIPL Art. 50 asks
    # for timely handling; 国信办秘字〔2019〕191号 (App违法违规收集使用个人信息行为认定方法) item 6
    # caps the promised time for correction, deletion and complaints at 15 working days
    # (GB/T 35273-2020 §8.7 c allows at most 30 days), so 15 working days is the default.
    subject_request_working_days: int = Field(default=15, ge=1, le=30)
    # The seller is warned this many working days before the deadline.
    subject_request_warning_working_days: int = Field(default=3, ge=1, le=15)
    # A licensee acknowledges that it deleted or stopped using withdrawn data within this many
    # working days (the same 15-working-day practice of 国信办秘字〔2019〕191号 for deletion).
    licensee_deletion_working_days: int = Field(default=15, ge=1, le=30)
    # One-time codes that verify a person's contact (no account needed), and what they unlock.
    contact_code_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    contact_codes_per_hour: int = Field(default=5, ge=1, le=50)
    requester_token_ttl_seconds: int = Field(default=7 * 86400, ge=600, le=90 * 86400)
    # How codes reach the person: `log` writes them to the server log (trying the exchange out;
    # refused in production), `disabled` answers 503 until a real sender is plugged in.
    contact_sender: Literal["log", "disabled"] | None = None
    # Key of the pseudonyms that stand for a person in the audit log (base64, 32 bytes); unset:
    # derived from the signing key, so it is as secret and as stable as that key.
    personal_data_key: str = ""

    # Rate limits (issue 18), each in the `limits` notation ("20/minute", "5 per 10 seconds"),
    # counted in moving windows in MARKET_RATE_LIMIT_STORAGE_URL (memory:// for one process;
    # redis://host:6379 so that every replica counts the same hits).
    rate_limits_enabled: bool = True
    rate_limit_storage_url: str = ""
    # Sign-in attempts per IP; wrong passwords per account before each further try waits (the
    # backoff); wrong passwords per account that lock it until they age out (staff: an alert).
    rate_limit_login_ip: str = "30/minute"
    rate_limit_login_failures: str = "5/minute"
    rate_limit_login_lock: str = "20/hour"
    rate_limit_signup_ip: str = "10/hour"
    # Anonymous reads of the public catalogue, register and tree head, per IP.
    rate_limit_public_ip: str = "120/minute"
    # Objections one objector files against one registration (each pauses its publicity).
    rate_limit_objections: str = "2/day"
    rate_limit_api_keys: str = "10/hour"

    # The API documentation (/docs, /redoc, /openapi.json): for anyone, for staff only (a staff
    # bearer token or API key), or not served; unset: public, except in production (off).
    api_docs: Literal["public", "staff", "off"] | None = None
    # /metrics answers only with `Authorization: Bearer <this token>`; unset: open, except in
    # production (not served; scrape a replica through a token).
    metrics_token: str = ""

    # The first operator, created at start-up when no user has this e-mail (container set-up).
    bootstrap_operator_email: str = ""
    bootstrap_operator_password_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _home_beside_the_database(cls, data: Any) -> Any:
        """No MARKET_HOME: the directory of an SQLite database file, else the default home."""
        if isinstance(data, dict) and not any(v for k, v in data.items() if k.lower() in _HOME_KEYS):
            database_file = sqlite_file(str(data.get("database_url") or ""))
            data = {**data, "data_dir": database_file.parent if database_file else default_home()}
        return data

    # Background jobs (market/jobs). Idempotency records are kept this long (Stripe keeps 24 h).
    idempotency_retention_hours: int = Field(default=24, ge=1, le=24 * 365)
    # Per-job cron overrides, as JSON: '{"registry.finalise_due": "* * * * * */5"}' ("" = never).
    job_schedules: dict[str, str] = Field(default_factory=dict)
    # `market serve` runs the jobs in its own process (the embedded default); None: on SQLite only.
    jobs_in_process: bool | None = None
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    worker_stalled_after_seconds: float = Field(default=30.0, gt=0)
    worker_shutdown_grace_seconds: float = Field(default=30.0, ge=0)
    # Operators are warned this many working days before a deadline (an objection's, Art. 30).
    deadline_warning_working_days: int = Field(default=1, ge=1, le=10)

    # Webhooks (Standard Webhooks signatures): per-attempt timeout, attempts per event, and how
    # many failed attempts in a row disable an endpoint.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, ge=1, le=20)
    webhook_backoff_base_seconds: int = Field(default=5, ge=1, le=3600)
    webhook_disable_after_failures: int = Field(default=20, ge=1)

    # TEST ONLY: start this process's business clock shifted by this much (e.g. "P20D"), so a
    # multi-process test can run a worker "after" a publicity period. Refused in production.
    clock_offset: timedelta = timedelta(0)

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return valid_base_url(value) if value.strip() else ""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        trusted_networks(value)  # refuses what is not an address or a network, naming it
        return value

    @field_validator(
        "rate_limit_login_ip",
        "rate_limit_login_failures",
        "rate_limit_login_lock",
        "rate_limit_signup_ip",
        "rate_limit_public_ip",
        "rate_limit_objections",
        "rate_limit_api_keys",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_rate_limit(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate limit such as '20/minute'") from exc
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

    @field_validator("root_secret", "retired_root_secrets")
    @classmethod
    def _root_secrets_are_long_enough(cls, value: str | list[str]) -> str | list[str]:
        for text in [value] if isinstance(value, str) else value:
            if text:
                decode_root_secret(text)  # ValueError names what is wrong
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_configuration(self) -> Settings:
        # Resolved once, so a later chdir (or a command run elsewhere) cannot move it.
        self.data_dir = self.data_dir.expanduser().resolve()
        problems = []
        if self.mode == "production":
            if self.jwt_secret == DEFAULT_JWT_SECRET or len(self.jwt_secret) < 32:
                problems.append("MARKET_JWT_SECRET must be set to a secret of 32+ characters in production")
            if not self.signing_key:
                problems.append("MARKET_SIGNING_KEY must be set in production (base64 of a 32-byte seed)")
            if not self.database_url:
                problems.append("MARKET_DATABASE_URL must be set in production")
            if not self.root_secret:
                problems.append("MARKET_ROOT_SECRET must be set in production (base64 of 32+ random bytes)")
            elif _low_entropy(self.root_secret):
                problems.append(
                    "MARKET_ROOT_SECRET looks made by hand (too few distinct bytes): generate one "
                    "with `openssl rand -base64 32`"
                )
            if self.clock_offset:
                problems.append("MARKET_CLOCK_OFFSET is for tests only")
            if self.payment_provider == "stripe" and not self.stripe_webhook_secret:
                problems.append("MARKET_STRIPE_WEBHOOK_SECRET must be set when payments go through Stripe")
            if self.contact_sender == "log":
                problems.append(
                    "MARKET_CONTACT_SENDER=log would write one-time codes to the log; not in production"
                )
            if self.publicity_working_days < 1:
                problems.append(
                    "MARKET_PUBLICITY_WORKING_DAYS must be at least 1 in production (Art. 62 publicity)"
                )
        if self.signing_key and not _is_ed25519_seed(self.signing_key):
            problems.append("MARKET_SIGNING_KEY must be base64 of exactly 32 bytes")
        if self.personal_data_key and not _is_ed25519_seed(self.personal_data_key):
            problems.append("MARKET_PERSONAL_DATA_KEY must be base64 of exactly 32 bytes")
        if self.subject_request_warning_working_days >= self.subject_request_working_days:
            problems.append(
                "MARKET_SUBJECT_REQUEST_WARNING_WORKING_DAYS must be fewer than "
                "MARKET_SUBJECT_REQUEST_WORKING_DAYS"
            )
        if self.audit_witness_quorum is not None and self.audit_witness_quorum > len(self.audit_witnesses):
            problems.append("MARKET_AUDIT_WITNESS_QUORUM exceeds the number of MARKET_AUDIT_WITNESSES")
        if self.bootstrap_operator_email and self.bootstrap_operator_password_file is None:
            problems.append(
                "MARKET_BOOTSTRAP_OPERATOR_PASSWORD_FILE must name the file holding the operator's password"
            )
        if problems:
            raise ConfigurationProblems(problems)
        return self

    @property
    def home(self) -> Path:
        return self.data_dir

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / DATABASE_FILE}"

    @property
    def signing_key_file(self) -> Path:
        return self.data_dir / SIGNING_KEY_FILE

    @property
    def demo_clock_file(self) -> Path | None:
        """Where demo time (`market clock advance`) is kept: embedded mode only, never production."""
        return self.data_dir / DEMO_CLOCK_FILE if self.mode == "embedded" else None

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
        if self.public_base_url:
            return self.public_base_url.split("://", 1)[-1].rstrip("/")
        return "localhost/jilin-data-exchange"  # not configured: set one of the two in production

    @property
    def witness_quorum(self) -> int:
        return len(self.audit_witnesses) if self.audit_witness_quorum is None else self.audit_witness_quorum

    def exchange_signing_key(self) -> Ed25519PrivateKey:
        """The exchange's Ed25519 key; in embedded mode generated once into the data dir."""
        if self.signing_key:
            return Ed25519PrivateKey.from_private_bytes(base64.b64decode(self.signing_key))
        key_file = self.signing_key_file
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
            key_file.chmod(0o600)
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(key_file.read_text()))

    @property
    def root_secret_file(self) -> Path:
        return self.data_dir / ROOT_SECRET_FILE

    def root_secrets(self, *, create: bool = True) -> list[bytes]:
        """The root secret (market.common.keys derives every symmetric key from it), then the
        retired ones. Unset outside production: generated once into the data dir, unless
        `create` is False (read-only tools), when RootSecretMissing says there is none yet."""
        source = (self.root_secret, self.mode, self.data_dir, tuple(self.retired_root_secrets))
        if (known := _ROOTS_DECODED.get(source)) is not None:
            return list(known)
        if self.root_secret:
            current = decode_root_secret(self.root_secret)
        elif self.mode == "production":
            raise RootSecretMissing("MARKET_ROOT_SECRET must be set in production")
        else:
            # Read once (kept in _ROOTS_DECODED by its data dir): the file is written once and
            # never changes (rotation goes through MARKET_ROOT_SECRET and the retired list).
            current = decode_root_secret(read_or_create_secret(self.root_secret_file, create=create))
        roots = (current, *(decode_root_secret(text) for text in self.retired_root_secrets))
        if len(_ROOTS_DECODED) >= 64:
            _ROOTS_DECODED.clear()
        _ROOTS_DECODED[source] = roots
        return list(roots)

    def has_signing_key(self) -> bool:
        """Whether a key exists already (configured, or generated into MARKET_HOME)."""
        return bool(self.signing_key) or self.signing_key_file.exists()

    def effective_api_docs(self) -> str:
        return self.api_docs or ("off" if self.mode == "production" else "public")

    def effective_contact_sender(self) -> str:
        return self.contact_sender or ("disabled" if self.mode == "production" else "log")

    def pseudonym_key(self) -> bytes:
        """The key of `market.common.masking.pseudonym` (see `personal_data_key`)."""
        if self.personal_data_key:
            return base64.b64decode(self.personal_data_key)
        seed = base64.b64decode(self.signing_key) if self.signing_key else self._generated_seed()
        return hmac.new(seed, b"market personal-data pseudonyms v1", hashlib.sha256).digest()

    def _generated_seed(self) -> bytes:
        self.exchange_signing_key()  # creates the embedded key file on first use
        return base64.b64decode(self.signing_key_file.read_text())

    def exchange_public_key_b64(self) -> str:
        raw = self.exchange_signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()


def _low_entropy(root_secret: str) -> bool:
    """32 random bytes have ~28 distinct values; a secret typed or patterned by hand has few."""
    try:
        raw = decode_root_secret(root_secret)
    except ValueError:
        return False  # refused with its own reason by the field validator
    return len(set(raw)) < 16


def _is_ed25519_seed(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except ValueError:
        return False


def configuration_errors(exc: ValidationError) -> list[str]:
    """One line per problem, naming the environment variable, for `configuration error: ...`."""
    lines = []
    for err in exc.errors():
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, ConfigurationProblems):
            lines.extend(cause.problems)
            continue
        where = ".".join(str(p) for p in err.get("loc", ()))
        variable = where if where.upper().startswith("MARKET_") else f"MARKET_{where}"
        lines.append(f"{variable.upper()}: {err.get('msg', 'invalid')}")
    return lines


@lru_cache
def get_settings() -> Settings:
    return Settings()
