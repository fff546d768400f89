"""Per-caller choice between CRVS Hub's answers and OpenCRVS's exact status codes.

Every deliberate difference is listed in docs/integrations/compatibility.md. Integration
clients choose with their `compat_mode`; staff tokens (e.g. the admin who writes locations)
follow `CRVSHUB_COMPAT_MODE`.
"""

from __future__ import annotations

from typing import TypeVar

from crvshub.auth.domain import CompatMode, Principal
from crvshub.errors import AppError
from crvshub.settings import Settings

E = TypeVar("E", bound=AppError)


def opencrvs_strict(principal: Principal, settings: Settings) -> bool:
    """Tell whether this caller wants OpenCRVS's exact status codes."""
    mode = principal.compat if principal.kind == "client" else settings.compat_mode
    return mode == CompatMode.OPENCRVS_STRICT


def with_status(error: E, status: int) -> E:
    """Return the error answered with another HTTP status (same body and code)."""
    error.status = status  # type: ignore[misc]
    return error
