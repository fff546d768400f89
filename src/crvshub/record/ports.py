"""What the record workflow asks of the registration hook, without importing it.

The record feature owns this port; `registration_hook.service.EXTERNAL_VALIDATION` fills it in
and the composition attaches it to the session factory (as it does the event listeners), so a
staff action finds it on the session it is given and `record` never imports `registration_hook`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crvshub.record.models import Record
from crvshub.record.service import Actor
from crvshub.settings import Settings

_SESSION_KEY = "crvshub.record.external_validation"

# What 'In external validation' shows of a record's hook call (None: no call).
ValidationState = dict[str, Any] | None


class PortNotWired(RuntimeError):
    """A session reached for the registration hook but its database was not composed."""


@dataclass(frozen=True)
class ExternalValidation:
    """The registration hook as the record workflow sees it."""

    # Hand a record that now waits for validation to the hook (in the caller's transaction).
    request: Callable[[Session, Settings, Record, Actor], object]
    # The state of one record's latest hook call, and of several records' at once.
    state: Callable[[Session, str], ValidationState]
    states: Callable[[Session, Iterable[str]], Mapping[str, ValidationState]]

    def attach(self, sessions: sessionmaker[Session]) -> None:
        """Make every session of this factory reach the hook through this port."""
        info = dict(sessions.kw.get("info") or {})
        info[_SESSION_KEY] = self
        sessions.configure(info=info)


def external_validation(session: Session) -> ExternalValidation:
    """Return the port wired to a session, or raise if its process wired none."""
    found = session.info.get(_SESSION_KEY)
    if not isinstance(found, ExternalValidation):
        raise PortNotWired(
            "this session's database was not built by crvshub.composition.build_context, "
            "so records cannot reach the registration hook"
        )
    return found
