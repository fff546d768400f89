"""A registration as an SD-JWT VC for wallets: claims, disclosures and their checks (pure).

The format is the IETF SD-JWT VC (draft-ietf-oauth-sd-jwt-vc on SD-JWT, RFC 9901): an ES256
JWS of `typ` dc+sd-jwt whose payload holds the claims everyone sees (`iss`, `iat`, `vct`,
`jti`, the event and its registration number) and, under `_sd`, the SHA-256 digests of the
claims the holder chooses to show: each such claim travels as a disclosure, the base64url of
the JSON array `[salt, name, value]`, after the JWS, every part followed by `~`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crvshub.certificate.domain import Facts, Person

CREDENTIAL_TYPE = "dc+sd-jwt"
# Earlier drafts' typ: credentials from other issuers may carry it; ours never do.
ACCEPTED_TYPES = frozenset({CREDENTIAL_TYPE, "vc+sd-jwt"})
SD_ALG = "sha-256"
MEDIA_TYPE = "application/dc+sd-jwt"
VCT_PATH = "/credentials/types/"
# Claims everyone sees: a disclosure may not name them (nor the SD-JWT's own).
RESERVED = frozenset({"iss", "iat", "nbf", "exp", "vct", "jti", "cnf", "status", "sub", "_sd",
                      "_sd_alg", "...", "event", "registration_number", "registration_office"})
# Selectively disclosable claims, in the order a wallet lists them.
DISCLOSABLE = ("name", "gender", "event_date", "event_place", "mother", "father",
               "registered_at")
MAX_DISCLOSURES = 32


class DisclosureInvalid(Exception):
    """A disclosure is malformed, repeated or not one the issuer signed."""


def _b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vct_of(base_url: str, event: str) -> str:
    """Return the credential type of an event's registration (`vct`), under the issuer."""
    return f"{base_url}{VCT_PATH}{event}-registration"


def digest(disclosure: str) -> str:
    """Return the `_sd` digest of a disclosure: base64url SHA-256 of its ASCII text."""
    return _b64u(hashlib.sha256(disclosure.encode("ascii")).digest())


def disclosure(name: str, value: Any, salt: str | None = None) -> str:
    """Return the disclosure of one claim (a fresh 128-bit salt unless given)."""
    array = [salt or _b64u(secrets.token_bytes(16)), name, value]
    return _b64u(json.dumps(array, ensure_ascii=False, separators=(",", ":")).encode())


def _person(p: Person | None) -> dict[str, Any] | None:
    if p is None or not p.name:
        return None
    found = {"name": p.name, "nationality": p.nationality}
    return {k: v for k, v in found.items() if v}


def disclosable_claims(facts: Facts) -> dict[str, Any]:
    """Return the claims of a registration that the holder may show or keep back."""
    found = {
        "name": facts.subject.name or None, "gender": facts.gender,
        "event_date": facts.event_date, "event_place": facts.event_place,
        "mother": _person(facts.mother), "father": _person(facts.father),
        "registered_at": (facts.registered_at or "")[:10] or None,
    }
    return {k: found[k] for k in DISCLOSABLE if found[k] is not None}


@dataclass(frozen=True)
class Issued:
    """The claims to sign and the disclosures to append."""

    claims: dict[str, Any]
    disclosures: list[str]


def build(credential_id: str, facts: Facts, base_url: str, issued_at: datetime) -> Issued:
    """Return the issuer-signed claims and the disclosures of a registration's credential."""
    disclosures = [disclosure(name, value) for name, value in disclosable_claims(facts).items()]
    claims: dict[str, Any] = {
        "iss": base_url, "iat": int(issued_at.timestamp()), "vct": vct_of(base_url, facts.event),
        "jti": credential_id, "event": facts.event,
        "registration_number": facts.registration_number,
        "_sd": sorted(digest(d) for d in disclosures), "_sd_alg": SD_ALG,
    }
    if facts.office:
        claims["registration_office"] = facts.office
    return Issued(claims, disclosures)


def serialize(issuer_jwt: str, disclosures: list[str]) -> str:
    """Return the SD-JWT: the JWS, then each disclosure, each part followed by `~`."""
    return "~".join([issuer_jwt, *disclosures]) + "~"


def is_credential(code: str) -> bool:
    """Tell whether a code is an SD-JWT (a JWS followed by `~`) rather than a QR payload."""
    return "~" in code


@dataclass(frozen=True)
class Parts:
    """An SD-JWT split: the issuer-signed JWT, the disclosures, the key-binding JWT if any."""

    issuer_jwt: str
    disclosures: list[str]
    key_binding: str


def split(code: str) -> Parts:
    """Split an SD-JWT into its parts (raise DisclosureInvalid when it has too many)."""
    parts = code.split("~")
    if len(parts) - 2 > MAX_DISCLOSURES:
        raise DisclosureInvalid("too many disclosures")
    return Parts(parts[0], [d for d in parts[1:-1] if d], parts[-1])


def disclosed(claims: dict[str, Any], disclosures: list[str]) -> dict[str, Any]:
    """Return the claims the disclosures reveal, each checked against the signed `_sd`."""
    if claims.get("_sd_alg", SD_ALG) != SD_ALG:
        raise DisclosureInvalid("unsupported _sd_alg")
    signed = claims.get("_sd", [])
    if not isinstance(signed, list):
        raise DisclosureInvalid("_sd is not a list")
    revealed: dict[str, Any] = {}
    seen: set[str] = set()
    for text in disclosures:
        found = digest(text) if text.isascii() else ""
        if found not in signed or found in seen:
            raise DisclosureInvalid("a disclosure was not signed by the issuer, or repeats")
        seen.add(found)
        try:
            array = json.loads(_unb64u(text))
        except ValueError:
            raise DisclosureInvalid("a disclosure is not base64url JSON") from None
        if not (isinstance(array, list) and len(array) == 3 and isinstance(array[0], str)
                and isinstance(array[1], str)):
            raise DisclosureInvalid("a disclosure is not [salt, name, value]")
        _salt, name, value = array
        if name in RESERVED or name in revealed:
            raise DisclosureInvalid(f"a disclosure may not set {name!r}")
        revealed[name] = value
    return revealed


def described(claims: dict[str, Any], revealed: dict[str, Any]) -> dict[str, Any]:
    """Return a credential's claims under the readable names /verify shows, disclosed only."""
    iat = claims.get("iat")
    shown: dict[str, Any] = {
        "credentialId": claims.get("jti"), "format": CREDENTIAL_TYPE,
        "event": claims.get("event"), "registrationNumber": claims.get("registration_number"),
        "issuedOn": datetime.fromtimestamp(iat, UTC).date().isoformat()
        if isinstance(iat, int) else None,
    }
    names = {"name": "name", "gender": "gender", "event_date": "eventDate",
             "event_place": "eventPlace", "mother": "mother", "father": "father",
             "registered_at": "registeredOn"}
    for claim, label in names.items():
        if claim in revealed:
            shown[label] = revealed[claim]
    shown["disclosed"] = [names.get(k, k) for k in revealed]
    return shown
