"""Verify a certificate's signed payload offline, with the published keys only.

Used by `crvshub verify-certificate`: the argument is the text of the QR code (the
verification URL or the bare JWS), a text file holding it, or a certificate PDF (whose
document keywords hold the same text). The keys are a JWKS document, read from a file or
fetched once from a server's /.well-known/jwks.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

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


def verify(code: str, jwks: dict[str, Any]) -> OfflineResult:
    """Check a payload's ES256 signature against the keys of a JWKS document."""
    token = token_of(code)
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
    match = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    if not match:
        return OfflineResult(False, kid, "signed by a key that is not published", facts)
    try:
        key = jwt.PyJWK(match[0]).key
        jwt.decode(token, key, algorithms=["ES256"])
    except jwt.PyJWTError:
        return OfflineResult(False, kid, "the signature does not match the content", facts)
    return OfflineResult(True, kid, "signature valid", facts)
