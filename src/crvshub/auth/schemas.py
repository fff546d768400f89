"""Request bodies of the auth routes: staff login and integration client management."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LoginRequest(BaseModel):
    """Staff credentials."""

    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)


class WebhookPermission(BaseModel):
    """Composition sections a webhook client receives for one event."""

    model_config = ConfigDict(extra="forbid")
    event: str = Field(max_length=16)
    permissions: list[str] = Field(max_length=32)


class ClientCreate(BaseModel):
    """A new integration client."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    type: str = Field(max_length=32,
                      description="HEALTH, RECORD_SEARCH, WEBHOOK, NATIONAL_ID or STATISTICS")
    integrating_system_type: str | None = Field(default=None, max_length=16)
    daily_quota: int | None = Field(default=None, ge=0)
    webhook_permissions: list[WebhookPermission] | None = Field(default=None, max_length=8)
    compat_mode: str | None = Field(
        default=None, max_length=16,
        description="crvshub (default) or opencrvs-strict: OpenCRVS's exact status codes",
    )


class ClientUpdate(BaseModel):
    """Fields of a client that may change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    integrating_system_type: str | None = Field(default=None, max_length=16)
    daily_quota: int | None = Field(default=None, ge=0)
    webhook_permissions: list[WebhookPermission] | None = Field(default=None, max_length=8)
    compat_mode: str | None = Field(default=None, max_length=16,
                                    description="crvshub or opencrvs-strict")
