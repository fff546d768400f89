"""The country's "complete declaration" rule: which fields make a notification DECLARED."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from crvshub.notification import domain

CONFIG_FILE = "notification-required-fields.json"


class RequiredFieldsError(ValueError):
    """The country's required-field file is unreadable or names unknown fields."""


@lru_cache(maxsize=8)
def required_fields(country_dir: Path) -> dict[str, tuple[str, ...]]:
    """Return the required fields per event: the country file if present, else the default."""
    path = country_dir / CONFIG_FILE
    if not path.exists():
        return dict(domain.DEFAULT_REQUIRED_FIELDS)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RequiredFieldsError(f"{path}: not readable JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RequiredFieldsError(f"{path}: must be an object {{\"birth\": [...], ...}}")
    result = dict(domain.DEFAULT_REQUIRED_FIELDS)
    for event, names in raw.items():
        if event not in result:
            raise RequiredFieldsError(f"{path}: unknown event {event!r}; use birth or death")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise RequiredFieldsError(f"{path}: {event} must be a list of field names")
        unknown = sorted(set(names) - domain.known_fields(event))
        if unknown:
            raise RequiredFieldsError(f"{path}: unknown {event} fields {unknown}; "
                                      f"known: {sorted(domain.known_fields(event))}")
        result[event] = tuple(names)
    return result
