"""Request bodies of the staff record API (/api/records)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ActionBody(BaseModel):
    """Reason and comment of an action (OpenCRVS asks for them when rejecting, archiving...)."""

    reason: str | None = Field(default=None, max_length=2000)
    comment: str | None = Field(default=None, max_length=4000)
    duplicate_of: str | None = Field(default=None, alias="duplicateOf", max_length=64)
    bundle: dict[str, Any] | None = None
