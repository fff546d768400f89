"""Typed settings for CRVS Hub: the only module that reads the environment."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUILTIN_COUNTRY_DIR = Path(__file__).parent / "location" / "data" / "far"
# What `secrets.token_urlsafe(32)` produces: 32 random bytes in base64url.
MIN_SECRET_CHARS = 43
# A random key of that length shows many distinct characters; "aaaa..." or a word does not.
MIN_DISTINCT_CHARS = 10
# Values published in CRVS Hub's source at one time; never accepted as a key.
PUBLISHED_SECRETS = frozenset({"crvshub-development-secret-change-me"})
MAKE_KEY_HINT = (
    'generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
)
# Each derived key and the setting that overrides it.
KEY_SETTINGS = {
    "encryption": "encryption_key",
    "client-secret": "client_secret_pepper",
    "csrf": "csrf_key",
}


class SettingsError(Exception):
    """A setting has a bad value; the message names the setting."""


class Settings(BaseSettings):
    """Every knob of CRVS Hub, read from `CRVSHUB_*` variables or a `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="CRVSHUB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # A label for logs and dashboards; it changes no behaviour (every relaxation has its own flag).
    environment: Literal["development", "production", "test"] = "production"
    database_url: str = "sqlite:///./var/crvshub.sqlite3"
    host: str = "127.0.0.1"
    port: int = Field(default=7070, ge=1, le=65535)
    public_url: str = ""
    api_workers: int = Field(default=2, ge=1, le=64)
    embedded_worker: bool = True
    # Build every route's request handling and load the caches before serving, so the first
    # requests after a (re)start are as fast as the rest (about half a second of CPU).
    warm_start: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    # Answers to staff tokens where CRVS Hub differs from OpenCRVS on purpose; integration
    # clients choose their own (docs/integrations/compatibility.md).
    compat_mode: Literal["crvshub", "opencrvs-strict"] = "crvshub"

    # Secrets (docs/operations.md). No default: the server refuses to start without a strong
    # `secret_key`, from which each key below derives unless it is set on its own.
    secret_key: str = ""
    client_secret_pepper: str = ""
    encryption_key: str = ""
    csrf_key: str = ""

    token_issuer: str = "opencrvs:auth-service"
    system_token_ttl_seconds: int = Field(default=600, ge=30, le=86400)
    user_token_ttl_seconds: int = Field(default=28800, ge=60, le=604800)
    record_token_ttl_seconds: int = Field(default=7 * 86400, ge=60)

    # Token endpoint and API limits (per process; see docs/integrations/authentication.md).
    # OpenCRVS clients send client_id/client_secret in the URL query; secrets in URLs end up in
    # access logs and proxies, so it is an explicit opt-in.
    token_query_credentials: bool = False
    token_rate_per_second: float = Field(default=2.0, gt=0)
    token_rate_burst: int = Field(default=30, ge=1)
    api_rate_per_second: float = Field(default=50.0, gt=0)
    api_rate_burst: int = Field(default=200, ge=1)
    # Public certificate verification (/verify, /api/verify), per caller address and process.
    verify_rate_per_second: float = Field(default=20.0, gt=0)
    verify_rate_burst: int = Field(default=60, ge=1)
    # Failed logins and token requests, counted in the database per (username or client_id,
    # address) pair: free failures, then delays doubling from 1 s up to the cap.
    auth_free_failures: int = Field(default=5, ge=1)
    auth_free_failures_per_principal: int = Field(default=100, ge=1)
    auth_max_delay_seconds: int = Field(default=60, ge=1, le=3600)
    auth_failure_memory_seconds: int = Field(default=900, ge=60)
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (IPs or CIDRs, comma-separated).
    trusted_proxies: str = ""

    country_code: str = Field(default="FAR", min_length=3, max_length=3)
    country_dir: Path = BUILTIN_COUNTRY_DIR
    # The offices' time zone (IANA name such as Africa/Lusaka): the staff pages show times in it.
    time_zone: str = Field(default="UTC", max_length=64)
    demo_password: str = "test"

    # Where bulk exports write their NDJSON and CSV files (shared by the API and the workers).
    export_dir: Path = Path("exports")
    # How long one worker step of an export runs before it yields to other jobs (resumed at once).
    export_step_seconds: float = Field(default=2.0, gt=0, le=60)
    # How long finished export files stay available (hours), per the Bulk Data "expires".
    export_keep_hours: float = Field(default=24.0, gt=0)
    # How often a worker deletes expired exports and recounts the monthly statistics of the
    # records changed since it last did (statistics.aggregates); answers are exact either way.
    statistics_refresh_seconds: float = Field(default=60.0, gt=0)

    # How this server signs its DCI answers, callbacks and notifies: EdDSA (Ed25519, a quarter
    # of the cost) or RS256 for receivers that verify RS256 only (docs/integrations/dci.md).
    dci_signing_algorithm: Literal["EdDSA", "RS256"] = "EdDSA"

    # Insecure conveniences for a local demo; each is off unless set (`make serve` sets them).
    demo_scope: bool = False
    webhook_allow_loopback: bool = False
    public_docs: bool = False
    public_metrics: bool = False
    # DCI messages from clients that registered no signing key accepted unsigned.
    dci_allow_unsigned: bool = False
    # Bearer token Prometheus sends to scrape /metrics; empty = /metrics only with public_metrics.
    metrics_token: str = ""

    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # Caps of one notification bundle (see docs/integrations/event-notification.md).
    notification_max_entries: int = Field(default=200, ge=2)
    notification_max_sections: int = Field(default=50, ge=1)
    notification_max_extensions_per_resource: int = Field(default=100, ge=1)
    notification_max_extensions: int = Field(default=1000, ge=1)
    notification_max_repeats: int = Field(default=20, ge=1)
    notification_max_string_length: int = Field(default=10_000, ge=100)
    registration_hook_url: str = ""
    registration_number_pattern: str = "{year}{tracking_id}"
    registration_hook_max_attempts: int = Field(default=10, ge=1, le=100)
    registration_hook_timeout: float = Field(default=15.0, gt=0, le=300)
    webhook_allow_private: bool = False
    webhook_allowlist: str = ""
    outbox_poll_interval: float = Field(default=0.5, gt=0)
    # Worker liveness as `/readyz?worker=1` judges it (see docs/operations.md).
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0, le=300)
    worker_stale_seconds: float = Field(default=30.0, gt=0)
    outbox_max_due_seconds: float = Field(default=300.0, gt=0)
    # How often each process re-checks whether another process changed a location.
    location_cache_seconds: float = Field(default=1.0, ge=0, le=60)

    # Webhook delivery (see docs/integrations/webhooks.md).
    webhook_connect_timeout: float = Field(default=5.0, gt=0, le=60)
    webhook_read_timeout: float = Field(default=15.0, gt=0, le=120)
    webhook_concurrency: int = Field(default=16, ge=1, le=256)
    webhook_batch_size: int = Field(default=200, ge=1, le=5000)
    webhook_lease_seconds: float = Field(default=180.0, gt=0)
    webhook_retry_schedule: str = "5,30,120,300,1800,7200,18000,36000,50400,72000,86400"
    webhook_verify_timeout: float = Field(default=5.0, gt=0, le=30)
    webhook_verify_per_client: int = Field(default=2, ge=1, le=100)
    webhook_disable_after_failures: int = Field(default=20, ge=1)
    webhook_disable_after_hours: float = Field(default=72.0, ge=0)

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value.upper() == "UTC":
            return "UTC"
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Africa/Lusaka") from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or CIDR network") from None
        return value

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the database is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def base_url(self) -> str:
        """Return the public origin used in absolute links."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def derived_key(self, purpose: str) -> bytes:
        """Return a 32-byte key for one purpose, or raise SettingsError if its secret is weak."""
        name = KEY_SETTINGS.get(purpose)
        raw = str(getattr(self, name)) if name else ""
        if raw:
            _require_strong(name or "", raw)
            return key_from_value(raw)
        _require_strong("secret_key", self.secret_key)
        return master_derived_key(purpose, self.secret_key)

    def insecure_opt_ins(self) -> list[str]:
        """Describe, one line each, every insecure convenience these settings turn on."""
        flags = (
            (self.demo_scope, "client tokens carry the `demo` scope (CRVSHUB_DEMO_SCOPE)"),
            (self.webhook_allow_loopback,
             "webhook callbacks to this machine allowed (CRVSHUB_WEBHOOK_ALLOW_LOOPBACK)"),
            (self.webhook_allow_private,
             "webhook callbacks to private networks allowed (CRVSHUB_WEBHOOK_ALLOW_PRIVATE)"),
            (self.public_docs,
             "/documentation and /openapi.json open to everyone (CRVSHUB_PUBLIC_DOCS)"),
            (self.public_metrics, "/metrics open to everyone (CRVSHUB_PUBLIC_METRICS)"),
            (self.dci_allow_unsigned, "unsigned DCI messages accepted from clients that "
             "registered no signing key (CRVSHUB_DCI_ALLOW_UNSIGNED)"),
            (self.token_query_credentials,
             "client secrets accepted in the /token URL query (CRVSHUB_TOKEN_QUERY_CREDENTIALS)"),
        )
        return [line for enabled, line in flags if enabled]

    def check_secrets(self) -> None:
        """Raise SettingsError with one line unless every key has a strong secret behind it."""
        for purpose in KEY_SETTINGS:
            self.derived_key(purpose)


def secret_problem(value: str) -> str | None:
    """Say why a secret value is unacceptable, or return None when it is strong enough."""
    if not value:
        return "is not set"
    if value in PUBLISHED_SECRETS:
        return "is a value published in the CRVS Hub source"
    if len(value) < MIN_SECRET_CHARS or len(set(value)) < MIN_DISTINCT_CHARS:
        return f"is too weak (need {MIN_SECRET_CHARS}+ random characters)"
    return None


def _require_strong(name: str, value: str) -> None:
    problem = secret_problem(value)
    if problem:
        raise SettingsError(f"CRVSHUB_{name.upper()} {problem}; {MAKE_KEY_HINT}")


def key_from_value(raw: str) -> bytes:
    """Return the 32-byte key an explicit key setting stands for."""
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        if len(decoded) == 32:
            return decoded
    except ValueError:
        pass
    return hashlib.sha256(raw.encode()).digest()


def master_derived_key(purpose: str, secret_key: str) -> bytes:
    """Return the key for one purpose derived from the master secret key."""
    return hashlib.sha256(f"{purpose}:{secret_key}".encode()).digest()


def describe_validation_error(exc: ValidationError) -> str:
    """Turn a pydantic error into one line naming the environment variable."""
    parts = []
    for err in exc.errors():
        name = "CRVSHUB_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        parts.append(f"{name}: {err['msg']} (got {err.get('input')!r})")
    return "invalid setting " + "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Build settings, raising SettingsError with a one-line message on a bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings."""
    return load_settings()
