"""Verify a certificate's signed payload offline, with the published keys only.

Used by `crvshub verify-certificate`: the argument is the text of the QR code (the
verification URL or the bare JWS), a wallet credential (SD-JWT VC), a text file holding
either, or a certificate PDF (whose document keywords hold the QR text). The keys are a
JWKS document, read from a file or fetched once from a server's /.well-known/jwks.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from crvshub.certificate import credential
from crvshub.certificate.domain import PAYLOAD_TYPE, described, token_of

KEYWORDS = re.compile(rb"/Keywords\s*\(([^)]*)\)")
JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class OfflineError(Exception):
    """The payload or the keys cannot be read."""


@dataclass(frozen=True)
class OfflineResult:
    """A checked payload: whether the signature holds, with which key, and what it says."""

    valid: bool
    kid: str
    reason: str
    facts: dict[str, Any]


def code_from(argument: str) -> str:
    """Return the QR text of an argument: a PDF, a text file, or the text itself."""
    path = Path(argument)
    try:
        is_file = path.is_file()
    except OSError:  # a payload longer than a file name
        is_file = False
    if is_file:
        raw = path.read_bytes()
        if raw.startswith(b"%PDF"):
            found = KEYWORDS.search(raw)
            if found is None:
                raise OfflineError(f"{path} holds no certificate payload")
            return found.group(1).decode("latin-1")
        return raw.decode("utf-8").strip()
    return argument


def load_jwks(source: str) -> dict[str, Any]:
    """Return a JWKS document from a file or a URL."""
    if source.startswith(("http://", "https://")):
        response = httpx.get(source, timeout=10)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document
    try:
        loaded: dict[str, Any] = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OfflineError(f"cannot read the keys from {source}: {exc}") from None
    return loaded


def _signature(token: str, jwks: dict[str, Any], kid: str) -> str | None:
    """Return why an ES256 JWS does not verify with the JWKS, or None when it does."""
    match = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    if not match:
        return "signed by a key that is not published"
    try:
        key = jwt.PyJWK(match[0]).key
        jwt.decode(token, key, algorithms=["ES256"], options={"verify_iat": False})
    except jwt.PyJWTError:
        return "the signature does not match the content"
    return None


def verify_credential(code: str, jwks: dict[str, Any]) -> OfflineResult:
    """Check an SD-JWT VC: the issuer's signature, then every disclosure against `_sd`."""
    try:
        parts = credential.split(token_of(code))
    except credential.DisclosureInvalid as exc:
        raise OfflineError(f"this is not a credential: {exc}") from None
    if not JWS.fullmatch(parts.issuer_jwt):
        raise OfflineError("this is not a credential (an SD-JWT starts with a JWS)")
    try:
        header = jwt.get_unverified_header(parts.issuer_jwt)
        unverified = jwt.decode(parts.issuer_jwt, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise OfflineError(f"this is not a credential: {exc}") from None
    kid = str(header.get("kid", ""))
    if header.get("typ") not in credential.ACCEPTED_TYPES or header.get("alg") != "ES256":
        return OfflineResult(False, kid, "not an SD-JWT VC signed with ES256", {})
    failed = _signature(parts.issuer_jwt, jwks, kid)
    try:
        revealed = credential.disclosed(unverified, parts.disclosures)
    except credential.DisclosureInvalid as exc:
        return OfflineResult(False, kid, f"a disclosure was altered: {exc}",
                             credential.described(unverified, {}))
    facts = credential.described(unverified, revealed)
    if failed:
        return OfflineResult(False, kid, failed, facts)
    return OfflineResult(True, kid, "signature and disclosures valid", facts)


def verify(code: str, jwks: dict[str, Any]) -> OfflineResult:
    """Check a payload's ES256 signature (or a credential's) against a JWKS document's keys."""
    token = token_of(code)
    if credential.is_credential(token):
        return verify_credential(token, jwks)
    if not JWS.fullmatch(token):
        raise OfflineError("this is not a signed certificate payload")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise OfflineError(f"this is not a signed certificate payload: {exc}") from None
    kid = str(header.get("kid", ""))
    facts = described(unverified)
    if header.get("typ") != PAYLOAD_TYPE or header.get("alg") != "ES256":
        return OfflineResult(False, kid, "not a certificate payload", facts)
    failed = _signature(token, jwks, kid)
    if failed:
        return OfflineResult(False, kid, failed, facts)
    return OfflineResult(True, kid, "signature valid", facts)


def online(server: str, code: str) -> dict[str, Any]:
    """Ask a server's /api/verify whether a code is current (revoked or superseded since?)."""
    token = token_of(code)
    response = httpx.get(f"{server.rstrip('/')}/api/verify/{token}", timeout=10)
    if response.status_code != 200:
        raise OfflineError(f"{server} answered {response.status_code}: {response.text[:200]}")
    answer: dict[str, Any] = response.json()
    return answer
