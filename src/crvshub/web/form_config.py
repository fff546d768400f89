"""The country's declaration forms, read from its data (`declaration-forms.json`), not code.

The file lists, per event, the sections of the staff form and their fields: label (one per
language), input type, options, which required-field rule (`fact`, the names of
`notification-required-fields.json`) marks a field required, and which fields or sections
depend on another field's answer (`showWhen`). Which bundle element a field fills is fixed by
its name (`web.form_bundle`), so the loader refuses names it cannot map.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from crvshub.notification import domain as notification_domain
from crvshub.notification.config import required_fields

CONFIG_FILE = "declaration-forms.json"
EVENTS = ("birth", "death")
PERSON_ROLES = {"birth": ("child", "mother", "father", "informant"),
                "death": ("deceased", "spouse", "informant")}
PERSON_FIELDS = ("given", "family", "gender", "birthDate", "deathDate", "nationality",
                 "nationalId", "maritalStatus", "phone", "addressDistrict", "addressLine",
                 "addressCity")
PLACE_FIELDS = ("place.type", "place.facility", "place.addressDistrict", "place.addressLine",
                "place.addressCity")
COMMON_FIELDS = ("informant.type", "contact.phone", "contact.email")
TYPES = frozenset({"text", "date", "select", "radio", "number", "tel", "email", "district",
                   "facility"})
Labels = dict[str, str]


class FormConfigError(ValueError):
    """The country's form file is unreadable or names fields CRVS Hub cannot map."""


@dataclass(frozen=True)
class Condition:
    """Show a field or section only when another field's value is (not) in a list."""

    field: str
    values: frozenset[str]
    negate: bool = False

    def holds(self, values: dict[str, str]) -> bool:
        """Tell whether the condition holds for the submitted (or stored) values.

        An unanswered field satisfies neither: "not in" needs an answer too.
        """
        value = values.get(self.field, "")
        if self.negate:
            return bool(value) and value not in self.values
        return value in self.values


@dataclass(frozen=True)
class Option:
    """One choice of a select or radio field."""

    value: str
    label: Labels


@dataclass(frozen=True)
class Field:
    """One input of the form."""

    name: str
    type: str
    label: Labels
    fact: str | None = None
    options: tuple[Option, ...] = ()
    show_when: Condition | None = None
    hint: Labels | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    """One part of the form (a person, the event, the contact)."""

    key: str
    title: Labels
    fields: tuple[Field, ...]
    show_when: Condition | None = None


@dataclass(frozen=True)
class Documents:
    """What may be attached: document kinds, file types and the largest file."""

    max_bytes: int
    content_types: frozenset[str]
    kinds: tuple[Option, ...]


@dataclass(frozen=True)
class Form:
    """The declaration form of one event."""

    event: str
    title: Labels
    sections: tuple[Section, ...]
    documents: Documents
    required: frozenset[str]

    def fields(self) -> list[Field]:
        """Return every field of the form, in order."""
        return [f for s in self.sections for f in s.fields]

    def is_required(self, item: Field) -> bool:
        """Tell whether the country's completeness rule requires a field."""
        return item.fact is not None and item.fact in self.required


def known_names(event: str) -> frozenset[str]:
    """Return the field names the bundle mapping knows for an event."""
    people = {f"{role}.{name}" for role in PERSON_ROLES[event] for name in PERSON_FIELDS}
    facts = set(notification_domain.EVENT_FACTS[event][1:])
    return frozenset(people | facts | set(PLACE_FIELDS) | set(COMMON_FIELDS))


def label(labels: Labels | None, language: str) -> str:
    """Return a label in a language, else English, else any."""
    if not labels:
        return ""
    return labels.get(language) or labels.get("en") or next(iter(labels.values()))


def _labels(raw: Any, where: str) -> Labels:
    if isinstance(raw, str):
        return {"en": raw}
    if not isinstance(raw, dict) or not raw or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise FormConfigError(f"{where}: a label is a string or {{\"en\": ..., \"fr\": ...}}")
    return dict(raw)


def _condition(raw: Any, where: str) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("field"), str):
        raise FormConfigError(f"{where}.showWhen: needs a field and an 'in' or 'notIn' list")
    negate = "notIn" in raw
    values = raw.get("notIn" if negate else "in")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise FormConfigError(f"{where}.showWhen: 'in' or 'notIn' must be a list of strings")
    return Condition(raw["field"], frozenset(values), negate)


def _options(raw: Any, where: str) -> tuple[Option, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise FormConfigError(f"{where}.options: must be a list")
    return tuple(Option(str(o.get("value", "")), _labels(o.get("label"), f"{where}.options"))
                 for o in raw if isinstance(o, dict))


def _field(raw: Any, where: str, event: str) -> Field:
    if not isinstance(raw, dict):
        raise FormConfigError(f"{where}: a field is an object")
    name, kind, fact = raw.get("name"), raw.get("type"), raw.get("fact")
    if name not in known_names(event):
        raise FormConfigError(f"{where}: unknown field {name!r} for {event}; known: "
                              f"{sorted(known_names(event))}")
    if kind not in TYPES:
        raise FormConfigError(f"{where}: unknown type {kind!r}; use one of {sorted(TYPES)}")
    if fact is not None and fact not in notification_domain.known_fields(event):
        raise FormConfigError(f"{where}: unknown fact {fact!r} (see notification-required-"
                              "fields.json)")
    extra = {k: raw[k] for k in ("pattern", "min", "max", "step") if k in raw}
    hint = _labels(raw["hint"], where) if "hint" in raw else None
    return Field(str(name), str(kind), _labels(raw.get("label"), where), fact,
                 _options(raw.get("options"), where), _condition(raw.get("showWhen"), where),
                 hint, extra)


def _form(raw: Any, event: str, documents: Any, required: tuple[str, ...]) -> Form:
    if not isinstance(raw, dict) or not isinstance(raw.get("sections"), list):
        raise FormConfigError(f"{event}: needs a list of sections")
    sections = []
    for i, section in enumerate(raw["sections"]):
        where = f"{event}.sections[{i}]"
        if not isinstance(section, dict) or not isinstance(section.get("fields"), list):
            raise FormConfigError(f"{where}: a section has a key, a title and fields")
        fields = tuple(_field(f, f"{where}.fields[{j}]", event)
                       for j, f in enumerate(section["fields"]))
        sections.append(Section(str(section.get("key", i)), _labels(section.get("title"), where),
                                fields, _condition(section.get("showWhen"), where)))
    docs = documents if isinstance(documents, dict) else {}
    kinds = _options((docs.get("types") or {}).get(event), f"documents.types.{event}")
    limits = Documents(int(docs.get("maxBytes", 1024 * 1024)),
                       frozenset(docs.get("contentTypes") or ("image/png", "image/jpeg",
                                                              "application/pdf")), kinds)
    return Form(event, _labels(raw.get("title", event), event), tuple(sections), limits,
                frozenset(required))


@lru_cache(maxsize=8)
def forms(country_dir: Path) -> dict[str, Form]:
    """Return the declaration form of each event from the country's data."""
    path = country_dir / CONFIG_FILE
    if not path.exists():
        path = Path(__file__).resolve().parents[1] / "location" / "data" / "far" / CONFIG_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FormConfigError(f"{path}: not readable JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise FormConfigError(f"{path}: must be an object with birth and death forms")
    required = required_fields(country_dir)
    return {event: _form(raw.get(event), event, raw.get("documents"), required[event])
            for event in EVENTS}
