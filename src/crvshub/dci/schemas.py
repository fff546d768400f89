"""The DCI message envelope as the standard's YAML defines it (registry core API v1.0.0).

`MsgHeader_V1.0.0` (requests) and `MsgCallbackHeader_V1.0.0` (answers and callbacks): the
same field names, required fields and enums. The YAML sets no `additionalProperties`, so
unknown header fields are allowed and kept.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RequestStatus = Literal["rcvd", "pdng", "succ", "rjct"]
HeaderReason = Literal[
    "rjct.version.invalid", "rjct.message_id.duplicate", "rjct.message_ts.invalid",
    "rjct.action.invalid", "rjct.action.not_supported", "rjct.total_count.invalid",
    "rjct.total_count.limit_exceeded", "rjct.errors.too_many",
]


class MsgHeader(BaseModel):
    """`MsgHeader_V1.0.0`: required message_id, message_ts, action, sender_id, total_count."""

    model_config = ConfigDict(extra="allow")

    version: str = "1.0.0"
    message_id: str = Field(min_length=1, max_length=128)
    message_ts: str = Field(min_length=1, max_length=64)
    action: str = Field(min_length=1, max_length=32)
    sender_id: str = Field(min_length=1, max_length=255)
    sender_uri: str | None = Field(default=None, max_length=2048)
    receiver_id: str | None = None
    # An integer; the standard's own CRVS samples send it as a numeric text ("1").
    total_count: int | str
    is_msg_encrypted: bool = False
    meta: Any = None


class MsgCallbackHeader(BaseModel):
    """`MsgCallbackHeader_V1.0.0`: required message_id, message_ts, action, status."""

    model_config = ConfigDict(extra="allow")

    version: str = "1.0.0"
    message_id: str
    message_ts: str
    action: str
    status: RequestStatus
    status_reason_code: HeaderReason | None = None
    status_reason_message: str | None = Field(default=None, max_length=999)
    total_count: int | None = None
    completed_count: int | None = None
    sender_id: str | None = None
    receiver_id: str | None = None
    is_msg_encrypted: bool = False


class Envelope(BaseModel):
    """`{signature?, header, message}`: what every registry endpoint takes."""

    model_config = ConfigDict(extra="allow")

    signature: str | None = None
    header: dict[str, Any]
    message: dict[str, Any] | list[Any]
