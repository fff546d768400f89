"""Browser protections of the staff pages: security headers and the sign-in form's CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from crvshub.context import AppContext
from crvshub.web.pages import PageExit

LOGIN_CSRF_COOKIE = "crvshub_login_csrf"
# Pages load only their own stylesheet: no inline script or style, no frames, no plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: Response) -> Response:
    """Set the staff pages' security headers on a response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class WebRoute(APIRoute):
    """A staff page route: every answer, redirects and refusals included, has the headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap the handler so that page exits are answered here, with the headers."""
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            try:
                response = await handler(request)
            except PageExit as stop:
                response = stop.response
            return add_security_headers(response)

        return secured


def _login_token(ctx: AppContext, nonce: str) -> str:
    key = ctx.settings.derived_key("login-csrf")
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def login_csrf(request: Request, ctx: AppContext) -> tuple[str, str]:
    """Return the sign-in form's (cookie nonce, form token), keeping the browser's nonce."""
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not 16 <= len(nonce) <= 128:
        nonce = secrets.token_urlsafe(32)
    return nonce, _login_token(ctx, nonce)


def set_login_csrf_cookie(response: Response, ctx: AppContext, nonce: str) -> Response:
    """Give the browser the pre-session nonce the sign-in form's token is tied to."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        nonce,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.base_url.startswith("https"),
    )
    return response


def login_csrf_ok(request: Request, ctx: AppContext, given: str) -> bool:
    """Tell whether a sign-in form carries the token of this browser's pre-session nonce."""
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not nonce or not given:
        return False
    return hmac.compare_digest(_login_token(ctx, nonce).encode(), given.encode())


PASSWORD_PENDING_COOKIE = "crvshub_password_pending"
SET_PASSWORD_PATH = "/set-password"
PASSWORD_PENDING_SECONDS = 600


def _pending_mac(ctx: AppContext, value: str) -> str:
    key = ctx.settings.derived_key("password-pending")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def set_password_pending(response: Response, ctx: AppContext, user_id: str) -> Response:
    """Remember, for ten minutes, that this browser proved a user's temporary password."""
    value = f"{user_id}.{int(time.time()) + PASSWORD_PENDING_SECONDS}"
    response.set_cookie(
        PASSWORD_PENDING_COOKIE, f"{value}.{_pending_mac(ctx, value)}",
        max_age=PASSWORD_PENDING_SECONDS, path=SET_PASSWORD_PATH, httponly=True,
        samesite="strict", secure=ctx.settings.base_url.startswith("https"),
    )
    return response


def pending_user(ctx: AppContext, cookie: str) -> str | None:
    """Return the user id of a valid, unexpired set-password cookie, or None."""
    value, _, mac = cookie.rpartition(".")
    user_id, _, expires = value.rpartition(".")
    if not (user_id and expires.isdigit() and mac) or int(expires) < time.time():
        return None
    if not hmac.compare_digest(_pending_mac(ctx, value).encode(), mac.encode()):
        return None
    return user_id


def pending_form_token(ctx: AppContext, cookie: str) -> str:
    """Return the set-password form's CSRF token, tied to the set-password cookie."""
    return _pending_mac(ctx, "form:" + cookie)


def pending_form_ok(ctx: AppContext, cookie: str, given: str) -> bool:
    """Tell whether the set-password form carries the token of this browser's cookie."""
    return bool(given) and hmac.compare_digest(pending_form_token(ctx, cookie).encode(),
                                               given.encode())
