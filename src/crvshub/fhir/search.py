"""FHIR search-parameter parsing and keyset paging, independent of any resource type."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import orjson

from crvshub.errors import InvalidParameter

T = TypeVar("T")
SortSpec = list[tuple[str, bool]]
DATE_PREFIXES = ("eq", "gt", "lt", "ge", "le")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def split_modifier(name: str) -> tuple[str, str | None]:
    """Split `name:modifier` into its parts."""
    base, _, modifier = name.partition(":")
    return base, modifier or None


def split_values(value: str) -> list[str]:
    """Split a comma-separated list of alternatives (`\\,` is a literal comma)."""
    parts = re.split(r"(?<!\\),", value)
    return [p.replace("\\,", ",") for p in parts if p != ""]


def parse_token(value: str) -> tuple[str | None, str]:
    """Return (system, code) of a token: `s|c`, `|c` (no system) or `c` (any system)."""
    if "|" not in value:
        return None, value
    system, _, code = value.partition("|")
    return system, code


def key_timestamp(moment: datetime) -> str:
    """Return a sortable, fixed-width text form of a UTC datetime."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _interval(text: str, parameter: str) -> tuple[datetime, datetime]:
    if _DATE.match(text):
        parts = [int(p) for p in text.split("-")]
        start_date = date(
            parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1
        )
        if len(parts) == 3:
            end_date = start_date + timedelta(days=1)
        elif len(parts) == 2:
            end_date = (start_date.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            end_date = start_date.replace(year=start_date.year + 1)
        start = datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC)
        end = datetime(end_date.year, end_date.month, end_date.day, tzinfo=UTC)
        return start, end
    if _DATETIME.match(text):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
        step = timedelta(microseconds=1) if "." in text else timedelta(seconds=1)
        return moment, moment + step
    raise InvalidParameter(
        f"{parameter}: {text!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime "
        "with a time zone)",
        expression=parameter,
    )


def date_predicate(value: str, parameter: str) -> Callable[[datetime], bool]:
    """Return a test for a date parameter with an optional prefix (eq, gt, lt, ge, le)."""
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    try:
        start, end = _interval(value[2:] if value[:2] in DATE_PREFIXES else value, parameter)
    except ValueError:
        raise InvalidParameter(
            f"{parameter}: {value!r} is not a valid date", expression=parameter
        ) from None
    tests: dict[str, Callable[[datetime], bool]] = {
        "eq": lambda m: start <= m < end,
        "gt": lambda m: m >= end,
        "lt": lambda m: m < start,
        "ge": lambda m: m >= start,
        "le": lambda m: m < end,
    }
    return tests[prefix]


def date_bounds(value: str, parameter: str) -> list[tuple[str, datetime]]:
    """Return a date parameter as bounds: [(">=", start)], [("<", end)] or both."""
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    try:
        start, end = _interval(value[2:] if value[:2] in DATE_PREFIXES else value, parameter)
    except ValueError:
        raise InvalidParameter(
            f"{parameter}: {value!r} is not a valid date", expression=parameter
        ) from None
    return {
        "eq": [(">=", start), ("<", end)],
        "gt": [(">=", end)],
        "lt": [("<", start)],
        "ge": [(">=", start)],
        "le": [("<", end)],
    }[prefix]


def parse_count(value: str | None, default: int, maximum: int, parameter: str = "_count") -> int:
    """Return a page size from `_count` (0 allowed), capped at `maximum`."""
    if value is None:
        return default
    if not value.isdigit():
        raise InvalidParameter(f"{parameter} must be a whole number >= 0", expression=parameter)
    return min(int(value), maximum)


def parse_sort(value: str, allowed: Sequence[str]) -> SortSpec:
    """Return [(field, descending)] from `_sort=a,-b`."""
    spec: SortSpec = []
    for item in split_values(value):
        name = item.lstrip("-")
        if name not in allowed:
            raise InvalidParameter(
                f"_sort: cannot sort by {name!r}; use {', '.join(allowed)} (prefix - for "
                "descending)",
                expression="_sort",
            )
        spec.append((name, item.startswith("-")))
    return spec


def sort_items(items: Sequence[T], key: Callable[[T], list[str]], spec: SortSpec) -> list[T]:
    """Sort by the spec's fields (each ascending or descending), ties broken by the last key."""
    result = sorted(items, key=lambda item: key(item)[-1])
    for index in reversed(range(len(spec))):
        result.sort(key=lambda item, i=index: key(item)[i], reverse=spec[index][1])  # type: ignore[misc]
    return result


def _is_after(item_key: list[str], cursor: list[str], spec: SortSpec) -> bool:
    directions = [desc for _, desc in spec] + [False]
    for mine, theirs, descending in zip(item_key, cursor, directions, strict=False):
        if mine != theirs:
            return mine < theirs if descending else mine > theirs
    return False


def encode_cursor(key: list[str]) -> str:
    """Return an opaque page token for the position after the item with this key."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(token: str, parameter: str = "_page") -> list[str]:
    """Return the key inside a page token; 400 if it was not made by us."""
    try:
        data: Any = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        data = None
    if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
        raise InvalidParameter(
            f"{parameter}: not a page token from this server (follow the Bundle's next link)",
            expression=parameter,
        )
    return data


def page(
    items: list[T],
    key: Callable[[T], list[str]],
    spec: SortSpec,
    cursor: list[str] | None,
    count: int | None,
) -> tuple[list[T], str | None]:
    """Return one page of sorted items after the cursor, and the token of the next page."""
    start = 0
    if cursor is not None:
        start = next(
            (i for i, item in enumerate(items) if _is_after(key(item), cursor, spec)), len(items)
        )
    if count is None:
        return items[start:], None
    chunk = items[start : start + count]
    more = start + count < len(items) and count > 0
    return chunk, encode_cursor(key(chunk[-1])) if more and chunk else None
