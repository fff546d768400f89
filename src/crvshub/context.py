"""Process-wide objects shared by requests and workers: settings, database, key ring."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from crvshub import models as _all_models  # noqa: F401  (complete metadata for FKs)
from crvshub.auth.keys import KeyRing
from crvshub.db import Database
from crvshub.settings import Settings


@dataclass
class AppContext:
    """Everything a request handler or worker needs besides its session."""

    settings: Settings
    db: Database
    keys: KeyRing
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        """Create the context for the given settings (does not touch the database)."""
        pool = 10 if not settings.is_sqlite else 5
        return cls(
            settings=settings,
            db=Database(settings.database_url, pool_size=pool),
            keys=KeyRing(settings.derived_key("encryption")),
        )


def get_context(request: Request) -> AppContext:
    """Return the application context of the current request."""
    ctx: AppContext = request.app.state.ctx
    return ctx
