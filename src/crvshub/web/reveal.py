"""One-time reveal of secrets after a POST-redirect-GET: an encrypted, short-lived cookie.

A form that issues a secret (a new client secret, a temporary password) stores it here and
redirects; the page it redirects to reads it back. Reloading that page or going Back never
posts the form again, so nothing is rotated twice. The cookie is encrypted with the server's
key (AES-GCM), bound to the signed-in session and to one kind of secret, HTTP-only,
`SameSite=Strict`, limited to the page's path and gone after a few minutes or when the
administrator says they have copied it. It works with any number of server processes.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from cryptography.exceptions import InvalidTag
from fastapi import Request
from starlette.responses import Response

from crvshub.auth import crypto
from crvshub.context import AppContext
from crvshub.web.pages import Page

REVEAL_COOKIE = "crvshub_reveal"
REVEAL_SECONDS = 600


def _context(page: Page, slot: str) -> bytes:
    return f"reveal:{page.principal.token_id}:{slot}".encode()


def stash(response: Response, ctx: AppContext, page: Page, slot: str, path: str,
          values: dict[str, Any]) -> Response:
    """Keep values for the page at `path` (this session and slot only) for a few minutes."""
    payload = json.dumps({"exp": int(time.time()) + REVEAL_SECONDS, "values": values}).encode()
    blob = crypto.encrypt(payload, ctx.settings.derived_key("web-reveal"),
                          context=_context(page, slot))
    response.set_cookie(
        REVEAL_COOKIE, base64.urlsafe_b64encode(blob).decode(), max_age=REVEAL_SECONDS,
        path=path, httponly=True, samesite="strict",
        secure=ctx.settings.base_url.startswith("https"),
    )
    return response


def read(request: Request, ctx: AppContext, page: Page, slot: str) -> dict[str, Any] | None:
    """Return the values kept for this page, or None when absent, expired or not this session's."""
    raw = request.cookies.get(REVEAL_COOKIE)
    if not raw or len(raw) > 8192:
        return None
    try:
        blob = base64.urlsafe_b64decode(raw.encode())
        payload = json.loads(crypto.decrypt(blob, ctx.settings.derived_key("web-reveal"),
                                            context=_context(page, slot)))
    except (InvalidTag, ValueError):
        return None
    if not isinstance(payload, dict) or int(payload.get("exp", 0)) < time.time():
        return None
    values = payload.get("values")
    return values if isinstance(values, dict) else None


def forget(response: Response, path: str) -> Response:
    """Drop the kept values (the administrator has copied them)."""
    response.delete_cookie(REVEAL_COOKIE, path=path)
    return response
