"""Certificate templates: one JSON file per event in the country folder's `certificates/`.

A country replaces the default templates by putting its own `birth.json` and `death.json`
(and the emblem they name) in `<CRVSHUB_COUNTRY_DIR>/certificates/`; docs/certificates.md
describes the format. Templates are read once per process and folder.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crvshub.settings import BUILTIN_COUNTRY_DIR

FOLDER = "certificates"


class TemplateError(Exception):
    """A certificate template cannot be read or lacks a required part."""


Text = dict[str, str]


@dataclass(frozen=True)
class Field:
    """One line of a section: a label and the fact it shows."""

    label: Text
    value: str
    strong: bool = False
    format: str | None = None


@dataclass(frozen=True)
class Section:
    """A titled group of fields."""

    heading: Text
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Template:
    """A parsed certificate template."""

    name: str
    languages: tuple[str, ...]
    colour: str
    emblem: Path | None
    country: Text
    authority: Text
    title: Text
    sections: tuple[Section, ...]
    statement: Text
    signature: Text
    issued: Text
    verify: Text
    raw: dict[str, Any]


def _text(data: dict[str, Any], key: str, languages: tuple[str, ...]) -> Text:
    value = data.get(key)
    if not isinstance(value, dict) or languages[0] not in value:
        raise TemplateError(f"'{key}' must give the text in {languages[0]!r}")
    return {k: str(v) for k, v in value.items()}


def parse(data: dict[str, Any], folder: Path) -> Template:
    """Return the template of a parsed JSON document (emblem path relative to `folder`)."""
    languages = tuple(str(x) for x in data.get("languages") or ["en"])[:2]
    sections = []
    for raw in data.get("sections") or []:
        fields = tuple(
            Field(_text(f, "label", languages), str(f["value"]), bool(f.get("strong")),
                  f.get("format"))
            for f in raw.get("fields") or []
        )
        sections.append(Section(_text(raw, "heading", languages), fields))
    emblem = data.get("emblem")
    emblem_path = folder / str(emblem) if emblem else None
    if emblem_path is not None and not emblem_path.is_file():
        raise TemplateError(f"The emblem {emblem_path} does not exist")
    return Template(
        name=str(data.get("name") or "template"), languages=languages,
        colour=str(data.get("colour") or "#1f4e79"), emblem=emblem_path,
        country=_text(data, "country", languages), authority=_text(data, "authority", languages),
        title=_text(data, "title", languages), sections=tuple(sections),
        statement=_text(data, "statement", languages),
        signature=_text(data, "signature", languages), issued=_text(data, "issued", languages),
        verify=_text(data, "verify", languages), raw=data,
    )


@functools.cache
def load(country_dir: Path, event: str) -> Template:
    """Return the country's template for an event, or the built-in one if it has none."""
    for folder in (country_dir / FOLDER, BUILTIN_COUNTRY_DIR / FOLDER):
        path = folder / f"{event}.json"
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise TemplateError(f"{path}: {exc}") from None
            return parse(data, folder)
    raise TemplateError(f"No certificate template for {event}")
