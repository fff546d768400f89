"""Typed settings for CRVS Hub: the only module that reads the environment."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BUILTIN_COUNTRY_DIR = Path(__file__).parent / "location" / "data" / "far"


class SettingsError(Exception):
    """A setting has a bad value; the message names the setting."""


class Settings(BaseSettings):
    """Every knob of CRVS Hub, read from `CRVSHUB_*` variables or a `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="CRVSHUB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///./var/crvshub.sqlite3"
    host: str = "127.0.0.1"
    port: int = Field(default=7070, ge=1, le=65535)
    public_url: str = ""
    api_workers: int = Field(default=2, ge=1, le=64)
    embedded_worker: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True

    # Secrets. In production set them; in development they derive from `secret_key`.
    secret_key: str = "crvshub-development-secret-change-me"
    client_secret_pepper: str = ""
    encryption_key: str = ""

    token_issuer: str = "opencrvs:auth-service"
    system_token_ttl_seconds: int = Field(default=600, ge=30, le=86400)
    user_token_ttl_seconds: int = Field(default=28800, ge=60, le=604800)
    record_token_ttl_seconds: int = Field(default=7 * 86400, ge=60)

    # Token endpoint and API limits (per process; see docs/integrations/authentication.md).
    token_query_credentials: bool = True
    token_rate_per_second: float = Field(default=2.0, gt=0)
    token_rate_burst: int = Field(default=30, ge=1)
    api_rate_per_second: float = Field(default=50.0, gt=0)
    api_rate_burst: int = Field(default=200, ge=1)
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
    demo_password: str = "test"
    seed_demo_users: bool = True

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
        """Return a 32-byte key for one purpose, derived from the configured secrets."""
        explicit = {"client-secret": self.client_secret_pepper, "encryption": self.encryption_key}
        raw = explicit.get(purpose, "")
        if raw:
            try:
                decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
                if len(decoded) == 32:
                    return decoded
            except ValueError:
                pass
            return hashlib.sha256(raw.encode()).digest()
        return hashlib.sha256(f"{purpose}:{self.secret_key}".encode()).digest()


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
