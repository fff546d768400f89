"""Size limits of a notification bundle, checked before any other work.

A real notification has a dozen entries and a few extensions each; these caps refuse bundles
built to make the server (and every later reader of the stored bundle) do unbounded work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crvshub.errors import IssueCollector
from crvshub.notification.errors import LimitExceeded
from crvshub.settings import Settings

# Elements of a resource whose repeats are capped by `Limits.repeats`.
REPEATED = ("identifier", "name", "address", "telecom")
EXTENSION_KEYS = ("extension", "modifierExtension")


@dataclass(frozen=True)
class Limits:
    """The caps of one bundle (settings `CRVSHUB_NOTIFICATION_MAX_*`)."""

    entries: int = 200
    sections: int = 50
    extensions_per_resource: int = 100
    extensions: int = 1000
    repeats: int = 20
    string_length: int = 10_000

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """Return the limits an operator configured."""
        return cls(
            entries=settings.notification_max_entries,
            sections=settings.notification_max_sections,
            extensions_per_resource=settings.notification_max_extensions_per_resource,
            extensions=settings.notification_max_extensions,
            repeats=settings.notification_max_repeats,
            string_length=settings.notification_max_string_length,
        )


def check_limits(
    entries: list[Any], limits: Limits, issues: IssueCollector, serialized: bytes | None = None
) -> None:
    """Record a problem for each cap the bundle's entries go over.

    `serialized` is the bundle as the caller serialised it: one no longer than the string limit
    cannot hold an over-long string, so its strings are not measured.
    """
    if len(entries) > limits.entries:
        issues.add(LimitExceeded, f"The bundle has {len(entries)} entries; at most "
                   f"{limits.entries} are accepted (CRVSHUB_NOTIFICATION_MAX_ENTRIES)",
                   "Bundle.entry")
        return
    measure_strings = serialized is None or len(serialized) > limits.string_length
    total = 0
    for index, item in enumerate(entries):
        resource = item.get("resource") if isinstance(item, dict) else None
        if isinstance(resource, dict):
            path = f"Bundle.entry[{index}].resource"
            total += _check_resource(resource, path, limits, issues)
            if measure_strings:
                _report_long_strings(resource, path, limits.string_length, issues)
    if total > limits.extensions:
        issues.add(LimitExceeded, f"The bundle has {total} extensions; at most "
                   f"{limits.extensions} are accepted (CRVSHUB_NOTIFICATION_MAX_EXTENSIONS)",
                   "Bundle.entry")


def _check_resource(
    resource: dict[str, Any], path: str, limits: Limits, issues: IssueCollector
) -> int:
    for key in REPEATED:
        value = resource.get(key)
        if isinstance(value, list) and len(value) > limits.repeats:
            issues.add(LimitExceeded, f"{key} has {len(value)} items; at most {limits.repeats} "
                       "are accepted (CRVSHUB_NOTIFICATION_MAX_REPEATS)", f"{path}.{key}")
    sections = resource.get("section") if resource.get("resourceType") == "Composition" else None
    if isinstance(sections, list) and len(sections) > limits.sections:
        issues.add(LimitExceeded, f"The Composition has {len(sections)} sections; at most "
                   f"{limits.sections} are accepted (CRVSHUB_NOTIFICATION_MAX_SECTIONS)",
                   f"{path}.section")
    count = _count_extensions(resource)
    if count > limits.extensions_per_resource:
        issues.add(LimitExceeded, f"The resource has {count} extensions; at most "
                   f"{limits.extensions_per_resource} are accepted "
                   "(CRVSHUB_NOTIFICATION_MAX_EXTENSIONS_PER_RESOURCE)", path)
    return count


def _count_extensions(value: Any) -> int:
    """Return how many extensions a dict or list holds at any depth."""
    # Exact class checks and recursion: about four times faster than isinstance and a stack.
    count = 0
    items: Any = value
    if value.__class__ is dict:
        for key in EXTENSION_KEYS:
            found = value.get(key)
            if found.__class__ is list:
                count += len(found)
        items = value.values()
    for item in items:
        kind = item.__class__
        if kind is dict or kind is list:
            count += _count_extensions(item)
    return count


def _report_long_strings(value: Any, path: str, limit: int, issues: IssueCollector) -> None:
    """Record each string over the length limit, with its FHIRPath."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        where = f"{path}.{key}" if isinstance(value, dict) else f"{path}[{key}]"
        if isinstance(item, str) and len(item) > limit:
            issues.add(LimitExceeded, f"{where} has {len(item)} characters; at most {limit} "
                       "are accepted (CRVSHUB_NOTIFICATION_MAX_STRING_LENGTH)", where)
        elif isinstance(item, dict | list):
            _report_long_strings(item, where, limit, issues)
