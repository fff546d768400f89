"""Public verification of a QR payload or a wallet credential, and the log of every check."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crvshub.certificate import credential, domain, repository
from crvshub.certificate.cache import OVERLAP_SECONDS, PendingCheck, VerifyCache
from crvshub.certificate.errors import PayloadUnreadable
from crvshub.certificate.keys import CertificateKeys, PayloadInvalid
from crvshub.db import Database, new_id, utcnow

MAX_PAYLOAD = 2000
MAX_CREDENTIAL = 8000


@dataclass(frozen=True)
class Verification:
    """The answer of /verify: genuine or not, current or not, and what to compare."""

    outcome: str  # valid | superseded | revoked | unknown | invalid
    genuine: bool
    current: bool
    message: str
    facts: dict[str, Any] | None
    status_at: str | None = None
    kind: str = "certificate"  # or "credential" (an SD-JWT VC)

    def as_json(self) -> dict[str, Any]:
        """Return the machine form."""
        return {"outcome": self.outcome, "genuine": self.genuine, "current": self.current,
                "kind": self.kind, "message": self.message, "certificate": self.facts,
                "statusChangedAt": self.status_at}


MESSAGES = {
    "valid": "Genuine certificate, and the record still says this.",
    "superseded": "Genuine certificate, but the record was corrected since it was printed: "
                  "ask for a new certificate.",
    "revoked": "Genuine certificate, but it was revoked by the civil registration office.",
    "unknown": "Signed by this office, but no such certificate was ever printed here.",
    "invalid": "Not a genuine certificate: the code was altered or not signed by this office.",
}
CREDENTIAL_MESSAGES = {
    "valid": "Genuine credential, and the record still says this.",
    "superseded": "Genuine credential, but the record was corrected since it was issued: "
                  "ask for a new one.",
    "revoked": "Genuine credential, but it was revoked by the civil registration office.",
    "unknown": "Signed by this office, but no such credential was ever issued here.",
    "invalid": "Not a genuine credential: it was altered or not signed by this office.",
}


def token_of(code: str) -> str:
    """Return the payload or SD-JWT of a code, or raise PayloadUnreadable when it is neither."""
    token = domain.token_of(code)
    if credential.is_credential(token):
        if len(token) > MAX_CREDENTIAL or token.split("~", 1)[0].count(".") != 2:
            raise PayloadUnreadable("This is not a credential (an SD-JWT starts with a JWS)")
    elif token.count(".") != 2 or len(token) > MAX_PAYLOAD:
        raise PayloadUnreadable("This is not a certificate code (a signed payload has 3 parts)")
    return token


def from_memory(cache: VerifyCache, token: str,
                ip: str | None) -> tuple[Verification, list[PendingCheck]] | None:
    """Answer a check seen within the cache's TTL with no database at all, logging it.

    Returns the answer and the queued checks now due for writing (usually none), or None when
    the answer must be looked up (`verify`).
    """
    remembered = cache.get(token)
    if remembered is None:
        return None
    result, certificate_id = remembered
    assert isinstance(result, Verification)
    return result, cache.log(PendingCheck(certificate_id, utcnow(), ip, result.outcome))


def answer(db: Database, keys: CertificateKeys, cache: VerifyCache, token: str,
           ip: str | None) -> Verification:
    """Answer a check memory cannot: read the status feed when due, then look the code up.

    Reads run on a read-only snapshot (on SQLite: no write lock, so checks never queue behind
    each other or behind writers); the check log, when due, is written in its own short
    transaction.
    """
    with db.read_sessionmaker() as session:
        if cache.poll_due():
            started = time.monotonic()
            since = utcnow() - timedelta(seconds=OVERLAP_SECONDS)
            cache.apply(repository.status_changes(session, since), started)
        remembered = cache.get(token)
        if remembered is None:
            check = _verify_credential if credential.is_credential(token) else _verify_payload
            remembered = check(session, keys, cache, token)
            cache.put(token, *remembered)
        session.rollback()
    result, certificate_id = remembered
    due = cache.log(PendingCheck(certificate_id, utcnow(), ip, result.outcome))
    if due:
        with db.transaction() as session:
            write_checks(session, due)
    assert isinstance(result, Verification)
    return result


def write_checks(session: Session, checks: list[PendingCheck]) -> None:
    """Write queued verification checks to the log table, in one INSERT."""
    repository.add_checks(session, [
        {"id": new_id(), "certificate_id": c.certificate_id, "at": c.at, "ip": c.ip,
         "outcome": c.outcome} for c in checks])


def _answer(found: tuple[str, str, datetime | None] | None, signed: str, shown: dict[str, Any],
            messages: dict[str, str], kind: str) -> Verification:
    if found is None or found[0] != signed:
        return Verification("unknown", True, False, messages["unknown"], None, kind=kind)
    _signed, status, status_at = found
    outcome = {"current": "valid"}.get(status, status)
    return Verification(outcome, True, outcome == "valid", messages.get(outcome, outcome), shown,
                        status_at.isoformat() if status_at else None, kind)


def _verify_payload(session: Session, keys: CertificateKeys, cache: VerifyCache,
                    token: str) -> tuple[Verification, str | None]:
    try:
        claims = cache.signed(token, lambda: keys.verify(session, token))
    except PayloadInvalid:
        return Verification("invalid", False, False, MESSAGES["invalid"], None), None
    certificate_id = str(claims.get("id"))
    result = _answer(repository.certificate_status(session, certificate_id), token,
                     domain.described(claims), MESSAGES, "certificate")
    return result, certificate_id if result.outcome != "unknown" else None


def _verify_credential(session: Session, keys: CertificateKeys, cache: VerifyCache,
                       token: str) -> tuple[Verification, str | None]:
    invalid = Verification("invalid", False, False, CREDENTIAL_MESSAGES["invalid"], None,
                           kind="credential")
    try:
        parts = credential.split(token)
        claims = cache.signed(parts.issuer_jwt, lambda: keys.verify(
            session, parts.issuer_jwt, types=credential.ACCEPTED_TYPES, required="jti"))
        revealed = credential.disclosed(claims, parts.disclosures)
    except (PayloadInvalid, credential.DisclosureInvalid):
        return invalid, None
    credential_id = str(claims.get("jti"))
    result = _answer(repository.credential_status(session, credential_id), parts.issuer_jwt,
                     credential.described(claims, revealed), CREDENTIAL_MESSAGES, "credential")
    return result, credential_id if result.outcome != "unknown" else None
