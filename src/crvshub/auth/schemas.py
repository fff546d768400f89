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


class PasswordChange(BaseModel):
    """A user replacing their (temporary) password."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024, description="The current password")
    new_password: str = Field(min_length=1, max_length=1024)


class UserCreate(BaseModel):
    """A new staff user; without `password` a temporary one is returned (shown once)."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=128)
    given_names: str = Field(min_length=1, max_length=255)
    family_name: str = Field(min_length=1, max_length=255)
    role: str = Field(max_length=64)
    office: str = Field(max_length=128, description="Office id or statistical id")
    mobile: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=255)


class UserUpdate(BaseModel):
    """Fields of a staff user that may change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")
    given_names: str | None = Field(default=None, min_length=1, max_length=255)
    family_name: str | None = Field(default=None, min_length=1, max_length=255)
    role: str | None = Field(default=None, max_length=64)
    office: str | None = Field(default=None, max_length=128)
    mobile: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=255)
