"""Certificate facts, collectors and the compact signed payload (pure: standard library only)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Certificate ids: 12 characters of an alphabet without look-alikes, printed on the paper.
ID_ALPHABET = "".join(c for c in string.digits + string.ascii_uppercase if c not in "01IO")
ID_LENGTH = 12
# The JWS "typ" of a certificate payload, so it is never mistaken for an access token; a new
# payload layout would get a new typ.
PAYLOAD_TYPE = "crvs-cert"
VERIFY_PATH = "/verify/"


class CertificateStatus(StrEnum):
    """Whether a printed certificate still stands for the record."""

    CURRENT = "current"
    SUPERSEDED = "superseded"  # the record was corrected after it was printed
    REVOKED = "revoked"


class Collector(StrEnum):
    """Who collected the certificate at the office."""

    MOTHER = "MOTHER"
    FATHER = "FATHER"
    INFORMANT = "INFORMANT"
    OTHER = "OTHER"


ID_DOCUMENT_TYPES = ("NATIONAL_ID", "PASSPORT", "BIRTH_REGISTRATION_NUMBER", "DRIVING_LICENSE",
                     "OTHER")
PAPER_SIZES = ("A4", "Letter")


def new_certificate_id() -> str:
    """Return a new certificate id: 12 random characters, no 0/O/1/I."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


@dataclass(frozen=True)
class Person:
    """A person named on a certificate."""

    name: str
    birth_date: str | None = None
    nationality: str | None = None


@dataclass(frozen=True)
class Facts:
    """What a certificate states, fixed at print time (from the record's bundle)."""

    event: str
    registration_number: str
    tracking_id: str
    subject: Person
    gender: str | None
    event_date: str | None
    event_place: str | None
    mother: Person | None
    father: Person | None
    office: str | None
    registrar: str | None
    registered_at: str | None

    def as_json(self) -> dict[str, Any]:
        """Return the facts as JSON (stored with the certificate)."""
        def person(p: Person | None) -> dict[str, Any] | None:
            return None if p is None else {"name": p.name, "birthDate": p.birth_date,
                                            "nationality": p.nationality}
        return {
            "event": self.event, "registrationNumber": self.registration_number,
            "trackingId": self.tracking_id, "subject": person(self.subject),
            "gender": self.gender, "eventDate": self.event_date, "eventPlace": self.event_place,
            "mother": person(self.mother), "father": person(self.father), "office": self.office,
            "registrar": self.registrar, "registeredAt": self.registered_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        """Return facts stored by `as_json`."""
        def person(p: Any) -> Person | None:
            if not isinstance(p, dict):
                return None
            return Person(str(p.get("name") or ""), p.get("birthDate"), p.get("nationality"))
        return cls(
            event=str(data["event"]), registration_number=str(data["registrationNumber"]),
            tracking_id=str(data["trackingId"]),
            subject=person(data.get("subject")) or Person(""), gender=data.get("gender"),
            event_date=data.get("eventDate"), event_place=data.get("eventPlace"),
            mother=person(data.get("mother")), father=person(data.get("father")),
            office=data.get("office"), registrar=data.get("registrar"),
            registered_at=data.get("registeredAt"),
        )


def claims(certificate_id: str, facts: Facts, issued_on: str) -> dict[str, Any]:
    """Return the compact claims a certificate's QR code carries (short names keep it small).

    The layout's version is the JWS `typ` (crvs-cert). id: certificate id, t: b(irth) or
    d(eath), rn: registration number, n: name of the child or deceased, d: date of the event,
    p: place of the event, i: date of issue.
    """
    found: dict[str, Any] = {
        "id": certificate_id,
        "t": facts.event[:1],
        "rn": facts.registration_number,
        "n": facts.subject.name[:80],
        "d": facts.event_date,
        "p": (facts.event_place or "")[:60],
        "i": issued_on,
    }
    return {k: v for k, v in found.items() if v not in (None, "")}


EVENT_NAMES = {"b": "birth", "d": "death"}


def described(payload: dict[str, Any]) -> dict[str, Any]:
    """Return the claims of a payload under readable names (what a verifier is shown)."""
    return {
        "certificateId": payload.get("id"),
        "event": EVENT_NAMES.get(str(payload.get("t")), payload.get("t")),
        "registrationNumber": payload.get("rn"),
        "name": payload.get("n"),
        "eventDate": payload.get("d"),
        "eventPlace": payload.get("p"),
        "issuedOn": payload.get("i"),
    }


def token_of(text: str) -> str:
    """Return the JWS of a QR text: the text itself, or the end of a verification URL."""
    value = text.strip()
    if VERIFY_PATH in value:
        value = value.split(VERIFY_PATH, 1)[1]
    return value.split("?", 1)[0].split("#", 1)[0].strip("/")


def is_reprint(previous_prints: int) -> bool:
    """Tell whether a print is a reprint (the record already has a certificate)."""
    return previous_prints > 0
