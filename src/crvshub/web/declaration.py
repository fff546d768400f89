"""The declaration of a stored record, read for people: sections, rows and documents.

The web pages only present: which fields are required, and which are missing, comes from the
country's rule in `notification.completeness` (the same rule the notification API applies).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crvshub.location.domain import LocationView
from crvshub.notification import domain as notification_domain
from crvshub.notification import fhir_mapping as notification_mapping
from crvshub.notification.completeness import StoredDeclaration, index
from crvshub.notification.validation import first_code
from crvshub.record.search_columns import name_parts
from crvshub.web.i18n import N_

JSON = dict[str, Any]
Find = Callable[[str], LocationView | None]
ROLE_TITLES = {
    "child": N_("Child"), "deceased": N_("Deceased"), "mother": N_("Mother"),
    "father": N_("Father"), "spouse": N_("Spouse"), "informant": N_("Informant"),
}
ROLES = {"birth": ("child", "mother", "father", "informant"),
         "death": ("deceased", "spouse", "mother", "father", "informant")}
# Roles always shown (even when absent) because a declaration of the event needs them.
SHOWN_EMPTY = {"birth": ("child", "mother", "father"), "death": ("deceased",)}
FACT_LABELS = {
    "name": N_("Name"), "gender": N_("Sex"), "birthDate": N_("Date of birth"),
    "deathDate": N_("Date of death"), "identifier": N_("Identifiers"),
    "nationality": N_("Nationality"), "maritalStatus": N_("Marital status"),
    "phone": N_("Phone"), "address": N_("Address"),
}
EVENT_LABELS = {
    "placeOfBirth": N_("Place of birth"), "birthType": N_("Type of birth"),
    "weightAtBirth": N_("Weight at birth"), "attendantAtBirth": N_("Attendant at birth"),
    "placeOfDeath": N_("Place of death"), "mannerOfDeath": N_("Manner of death"),
    "causeOfDeathEstablished": N_("Cause of death established"),
    "causeOfDeathMethod": N_("Source of cause of death"),
}
EVENT_TITLES = {"birth": N_("Place and details of the birth"),
                "death": N_("Place and details of the death")}
OBSERVATIONS = notification_mapping.OBSERVATION_FACTS
MARITAL = {"M": N_("Married"), "S": N_("Single"), "D": N_("Divorced"), "W": N_("Widowed"),
           "U": N_("Not stated"), "L": N_("Legally separated"), "A": N_("Annulled")}
SEX = {"male": N_("Male"), "female": N_("Female"), "other": N_("Other"),
       "unknown": N_("Unknown")}
NOT_GIVEN = N_("Not given in the declaration.")
# Row values that are words of CRVS Hub (not the declaration's own text), translated on pages.
WORD_VALUES = frozenset({*MARITAL.values(), *SEX.values(), *ROLE_TITLES.values(), N_("Yes"),
                         N_("No"), N_("Given")})
VIEWABLE = frozenset({"image/png", "image/jpeg", "application/pdf"})


@dataclass
class Row:
    """One labelled value of a section; `missing` when the country requires it and it is empty."""

    label: str
    value: str | None
    field: str = ""
    missing: bool = False


@dataclass
class Section:
    """One part of the declaration (a person, the event, the contact, identifiers)."""

    key: str
    title: str
    rows: list[Row] = field(default_factory=list)
    note: str | None = None

    @property
    def missing(self) -> int:
        """Return how many required fields of this section are empty."""
        return sum(1 for r in self.rows if r.missing)


@dataclass(frozen=True)
class Document:
    """A supporting document attached to the declaration."""

    index: int
    title: str
    content_type: str
    size: int
    data: str | None  # base64, when the bundle carries the file itself
    url: str | None

    @property
    def image(self) -> bool:
        """Tell whether the page can show the file as an image."""
        return self.data is not None and self.content_type in ("image/png", "image/jpeg")

    @property
    def viewable(self) -> bool:
        """Tell whether the file can be opened from CRVS Hub."""
        return self.data is not None and self.content_type in VIEWABLE


def _words(code: str | None) -> str | None:
    if not code:
        return None
    return code.replace("_", " ").replace("-", " ").capitalize()


def _place_name(find: Find, location_id: str | None) -> str | None:
    if not location_id:
        return None
    found = find(location_id)
    return found.name if found else location_id


def address_text(address: JSON, find: Find) -> str:
    """Return an address on one line, with the admin areas named from the location tree."""
    lines = [str(p) for p in address.get("line") or [] if str(p).strip()
             and str(p) not in ("URBAN", "RURAL")]
    parts = [*lines, address.get("city")]
    for key in ("district", "state"):
        value = address.get(key)
        parts.append(_place_name(find, value) if isinstance(value, str) else None)
    parts.append(address.get("country"))
    return ", ".join(str(p) for p in parts if p)


def _identifiers(patient: JSON) -> str | None:
    found = []
    for item in patient.get("identifier") or []:
        if not isinstance(item, dict) or not item.get("value"):
            continue
        code = first_code(item.get("type")) or "ID"
        found.append(f"{_words(code)}: {item['value']}")
    return "; ".join(found) or None


def _nationality(patient: JSON) -> str | None:
    for ext in patient.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == notification_domain.NATIONALITY:
            inner = [e for e in ext.get("extension") or [] if isinstance(e, dict)]
            for item in inner:
                code = first_code(item.get("valueCodeableConcept"))
                if code:
                    return code
            return first_code(ext.get("valueCodeableConcept")) or N_("Given")
    return None


def _phone(patient: JSON) -> str | None:
    for telecom in patient.get("telecom") or []:
        if isinstance(telecom, dict) and telecom.get("system") == "phone":
            return str(telecom.get("value") or "") or None
    return None


def _person_value(fact: str, patient: JSON, find: Find) -> str | None:
    if fact == "name":
        given, family = name_parts(patient)
        return " ".join(p for p in (given, family) if p) or None
    if fact == "gender":
        return SEX.get(str(patient.get("gender")))
    if fact == "birthDate":
        return patient.get("birthDate")
    if fact == "deathDate":
        value = patient.get("deceasedDateTime")
        return str(value).replace("T", " ").replace("Z", " UTC") if value else None
    if fact == "identifier":
        return _identifiers(patient)
    if fact == "nationality":
        return _nationality(patient)
    if fact == "maritalStatus":
        status = patient.get("maritalStatus")
        code = first_code(status)
        return MARITAL.get(code or "", (status or {}).get("text") if status else None)
    if fact == "phone":
        return _phone(patient)
    addresses = [a for a in patient.get("address") or [] if isinstance(a, dict)]
    return "; ".join(address_text(a, find) for a in addresses) or None


def _person(role: str, patient: JSON | None, missing: set[str], find: Find) -> Section:
    facts = ["name", "gender", "birthDate"]
    if role == "deceased":
        facts.append("deathDate")
    facts += ["identifier", "nationality", "maritalStatus", "phone", "address"]
    section = Section(role, ROLE_TITLES[role])
    if patient is None:
        section.note = NOT_GIVEN
    for fact in facts:
        name = f"{role}.{fact}"
        value = _person_value(fact, patient, find) if patient is not None else None
        if value is None and name not in missing and (
            fact in ("maritalStatus", "phone") or patient is None
        ):
            continue  # optional facts are listed only when given; an absent person's not at all
        section.rows.append(Row(FACT_LABELS[fact], value, name, name in missing and not value))
    return section


def _observation_value(resource: JSON) -> str | None:
    if "valueQuantity" in resource:
        quantity = resource["valueQuantity"] or {}
        value, unit = quantity.get("value"), quantity.get("unit")
        if isinstance(value, str):
            return _words(value)
        return f"{value} {unit}".strip() if value is not None else None
    if "valueCodeableConcept" in resource:
        concept = resource["valueCodeableConcept"] or {}
        return _words(first_code(concept)) or concept.get("text")
    for key in ("valueString", "valueBoolean", "valueInteger", "valueDateTime"):
        if key in resource:
            value = resource[key]
            if isinstance(value, bool):
                return N_("Yes") if value else N_("No")
            return _words(str(value)) if key == "valueString" else str(value)
    return None


def _event_place(declaration: StoredDeclaration, find: Find) -> str | None:
    for entry in declaration.parsed.of_type("Encounter"):
        for item in entry.resource.get("location") or []:
            ref = str(((item or {}).get("location") or {}).get("reference") or "")
            inside = declaration.parsed.by_url.get(ref)
            if inside is not None and inside.type == "Location":
                loc = inside.resource
                kind = _words(first_code(loc.get("type"))) or loc.get("name") or "Address"
                address = loc.get("address")
                where = address_text(address, find) if isinstance(address, dict) else ""
                return f"{kind}: {where}" if where else str(kind)
            if ref.startswith("Location/"):
                return _place_name(find, ref.removeprefix("Location/"))
    return None


def _event(declaration: StoredDeclaration, missing: set[str], find: Find) -> Section:
    event = declaration.event
    section = Section("event", EVENT_TITLES[event])
    place_field = "placeOfBirth" if event == "birth" else "placeOfDeath"
    place = _event_place(declaration, find)
    section.rows.append(Row(EVENT_LABELS[place_field], place, place_field,
                            place is None and place_field in missing))
    values: dict[str, str | None] = {}
    extra: list[Row] = []
    for entry in declaration.parsed.of_type("Observation"):
        code = first_code(entry.resource.get("code")) or ""
        fact = OBSERVATIONS.get(code)
        if fact:
            values[fact] = _observation_value(entry.resource)
        else:
            label = ((entry.resource.get("code") or {}).get("coding") or [{}])[0].get("display")
            extra.append(Row(str(label or _words(code) or "Observation"),
                             _observation_value(entry.resource)))
    for fact in notification_domain.EVENT_FACTS[event][1:]:
        value = values.get(fact)
        section.rows.append(Row(EVENT_LABELS[fact], value, fact, value is None and fact in missing))
    section.rows += extra
    return section


def _task_string(bundle: JSON, url: str) -> str | None:
    entries = bundle.get("entry") or []
    task = entries[1].get("resource", {}) if len(entries) > 1 else {}
    for ext in task.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == url and ext.get("valueString"):
            return str(ext["valueString"])
    return None


def _informant_type(declaration: StoredDeclaration) -> str | None:
    for entry in declaration.sections.get("informant-details", []):
        code = first_code(entry.resource.get("relationship"))
        if code:
            return _words(code)
    return _words(_task_string(declaration.parsed.bundle, notification_domain.CONTACT_PERSON))


def _contact(declaration: StoredDeclaration, missing: set[str]) -> Section:
    bundle = declaration.parsed.bundle
    section = Section("contact", N_("Informant and contact"))
    informant = _informant_type(declaration)
    phone = _task_string(bundle, notification_domain.CONTACT_PHONE)
    email = _task_string(bundle, notification_domain.CONTACT_EMAIL)
    for label, value, name in ((N_("Informant"), informant, "informant.type"),
                               (N_("Contact phone"), phone, "contact.phone"),
                               (N_("Contact email"), email, "contact.email")):
        if value is None and name not in missing and name == "contact.email":
            continue
        section.rows.append(Row(label, value, name, value is None and name in missing))
    return section


def documents(bundle: JSON) -> list[Document]:
    """Return the supporting documents (DocumentReference attachments) of a bundle."""
    found: list[Document] = []
    for raw in bundle.get("entry") or []:
        resource = raw.get("resource") if isinstance(raw, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "DocumentReference":
            continue
        title = (resource.get("type") or {}).get("text") or _words(first_code(
            resource.get("type"))) or resource.get("description") or "Document"
        for content in resource.get("content") or []:
            attachment = (content or {}).get("attachment") or {}
            data = attachment.get("data") if isinstance(attachment.get("data"), str) else None
            size = attachment.get("size")
            if data is not None and not isinstance(size, int):
                size = len(data) * 3 // 4
            found.append(Document(len(found), str(attachment.get("title") or title),
                                  str(attachment.get("contentType") or "unknown"),
                                  int(size or 0), data,
                                  str(attachment["url"]) if attachment.get("url") else None))
    return found


def document_bytes(document: Document) -> bytes | None:
    """Return the decoded file of a document carried in the bundle, or None."""
    if document.data is None:
        return None
    try:
        return base64.b64decode(document.data, validate=True)
    except (binascii.Error, ValueError):
        return None


def sections(bundle: JSON, event: str, missing: list[str], find: Find) -> list[Section]:
    """Return every section of the declaration, the missing required fields marked."""
    declaration = index(bundle, event)
    gaps = set(missing)
    people = notification_mapping.people(declaration) if len(declaration.parsed.entries) > 1 \
        else {}
    result = []
    for role in ROLES[event]:
        patient = people.get(role)
        wanted = role in SHOWN_EMPTY[event] or any(m.startswith(f"{role}.") for m in gaps)
        if patient is None and not wanted:
            continue
        if role == "informant" and patient is not None and any(
            patient is people.get(other) for other in ROLES[event] if other != "informant"
        ):
            continue  # the informant is one of the people above
        result.append(_person(role, patient, gaps, find))
    result.append(_event(declaration, gaps, find))
    result.append(_contact(declaration, gaps))
    return result


def _same(message: str) -> str:
    return message


def field_label(name: str, gettext: Callable[[str], str] = _same) -> str:
    """Return a required-field name for people: mother.address -> Mother: address."""
    if "." in name:
        role, fact = name.split(".", 1)
        if role in ROLE_TITLES:
            return f"{gettext(ROLE_TITLES[role])}: {gettext(FACT_LABELS.get(fact, fact)).lower()}"
        if role == "contact":
            label = {"phone": N_("Contact phone"), "email": N_("Contact email")}.get(fact)
            return gettext(label) if label else f"Contact {fact}"
        return gettext(N_("Informant type")) if name == "informant.type" else name
    return gettext(EVENT_LABELS[name]) if name in EVENT_LABELS else name


def translated(found: list[Section], gettext: Callable[[str], str]) -> list[Section]:
    """Return the sections with CRVS Hub's own words in a language (the declaration's text and
    the country's names stay as they are)."""
    result = []
    for section in found:
        rows = [Row(gettext(r.label), gettext(r.value) if r.value in WORD_VALUES else r.value,
                    r.field, r.missing) for r in section.rows]
        result.append(Section(section.key, gettext(section.title), rows,
                              gettext(section.note) if section.note else None))
    return result


def person(bundle: JSON, event: str, role: str) -> JSON | None:
    """Return the Patient of one role (child, mother, ...) in a bundle, or None."""
    declaration = index(bundle, event)
    if len(declaration.parsed.entries) < 2:
        return None
    return notification_mapping.people(declaration).get(role)
