"""Documents attached to a declaration form that was sent back with an error.

The browser cannot put a file back into a file input, so the form carries each file it
already sent as a sealed hidden value: the file encrypted with the server's key (AES-GCM),
bound to the signed-in session and to the form (a new declaration of an event, or one
record), for an hour. The page shows it as attached with a button to remove it; the next
submission reads it back as if it had been sent again. Nothing is stored on the server and
it works with any number of server processes.
"""

from __future__ import annotations

import base64
import json
import time

from cryptography.exceptions import InvalidTag

from crvshub.auth import crypto
from crvshub.context import AppContext
from crvshub.web.form_checks import Upload
from crvshub.web.pages import Page

PENDING_SECONDS = 3600
MAX_PENDING = 4


def _context(page: Page, form_key: str) -> bytes:
    return f"pending-document:{page.principal.token_id}:{form_key}".encode()


def seal(ctx: AppContext, page: Page, form_key: str, upload: Upload) -> str:
    """Return a file as a hidden value only this session's same form can read back."""
    payload = json.dumps({
        "exp": int(time.time()) + PENDING_SECONDS, "filename": upload.filename,
        "contentType": upload.content_type, "kind": upload.kind,
        "data": base64.b64encode(upload.data).decode()}).encode()
    blob = crypto.encrypt(payload, ctx.settings.derived_key("web-pending-document"),
                          context=_context(page, form_key))
    return base64.urlsafe_b64encode(blob).decode()


def unseal(ctx: AppContext, page: Page, form_key: str, sealed: str) -> Upload | None:
    """Return the file of a hidden value, or None when altered, expired or another form's."""
    try:
        blob = base64.urlsafe_b64decode(sealed.encode())
        payload = json.loads(crypto.decrypt(
            blob, ctx.settings.derived_key("web-pending-document"),
            context=_context(page, form_key)))
        if not isinstance(payload, dict) or int(payload["exp"]) < time.time():
            return None
        return Upload(str(payload["filename"]), str(payload["contentType"]),
                      base64.b64decode(payload["data"]), str(payload["kind"]))
    except (InvalidTag, ValueError, KeyError, TypeError):
        return None
