"""Shared pieces of the staff pages: the signed-in user, CSRF tokens, rendering, error pages."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import RedirectResponse, Response

from crvshub.auth.dependencies import SESSION_COOKIE, principal_from_token
from crvshub.auth.domain import Principal, Scope
from crvshub.context import AppContext
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.net import client_address
from crvshub.record.domain import STAFF_SCOPES
from crvshub.record.service import Actor, actor_for
from crvshub.web import i18n, labels

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
RECORD_SCOPES: tuple[str, ...] = STAFF_SCOPES
ADMIN_SCOPES: tuple[str, ...] = (Scope.NATLSYSADMIN.value,)
DECLARER_SCOPES: tuple[str, ...] = ("declare", "validate", "register")
PERFORMANCE_SCOPES: tuple[str, ...] = (Scope.PERFORMANCE.value, Scope.NATLSYSADMIN.value)


class PageExit(Exception):
    """Stop a page and answer this response instead (login redirect, 403 page)."""

    def __init__(self, response: Response) -> None:
        self.response = response
        super().__init__("page exit")


def page_exit_response(_request: Request, exc: Exception) -> Response:
    """Return the response a page stopped with (installed as an exception handler)."""
    assert isinstance(exc, PageExit)
    return exc.response


@dataclass(frozen=True)
class Page:
    """The signed-in staff user of a page, with the CSRF token of their session."""

    principal: Principal
    csrf: str
    ip: str | None

    @property
    def actor(self) -> Actor:
        """Return the record audit actor of the user."""
        return actor_for(self.principal, self.ip)


def csrf_token(ctx: AppContext, principal: Principal) -> str:
    """Return the CSRF token of a session: an HMAC of the session token's id."""
    key = ctx.settings.derived_key("csrf")
    return hmac.new(key, principal.token_id.encode(), hashlib.sha256).hexdigest()


def nav_links(principal: Principal | None) -> list[tuple[str, str]]:
    """Return the navigation entries the user's role may open."""
    if principal is None or principal.kind != "user":
        return []
    links = [("/", i18n.N_("Home"))]
    if any(s in principal.scopes for s in RECORD_SCOPES):
        links.append(("/workqueues", i18n.N_("Workqueues")))
    if any(s in principal.scopes for s in DECLARER_SCOPES):
        links.append(("/records/new", i18n.N_("New declaration")))
    if any(s in principal.scopes for s in PERFORMANCE_SCOPES):
        links.append(("/performance", i18n.N_("Performance")))
    if Scope.SYSADMIN.value in principal.scopes:
        links.append(("/users", i18n.N_("Users")))
    if any(s in principal.scopes for s in ADMIN_SCOPES):
        links.append(("/integrations", i18n.N_("Integrations")))
    return links


def when(value: str | None) -> str:
    """Format an ISO timestamp for people, in UTC: 2026-03-01 14:05 UTC (pages use the office's
    time zone through the `when` filter of `web.labels`)."""
    return labels.when_in(value, "UTC")


templates.env.globals["nav_links"] = nav_links
templates.env.globals["language_of"] = i18n.language_of
i18n.install(templates.env)
labels.install(templates.env)


def render(
    request: Request, name: str, page: Page | None, status_code: int = 200, **values: Any
) -> Response:
    """Render a template with the user, their CSRF token and the values."""
    context = {
        "principal": page.principal if page else None,
        "csrf": page.csrf if page else "",
        "error": None,
        "lang": i18n.language_of(request),
        **values,
    }
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers={"Cache-Control": "no-store"}
    )


def error_page(request: Request, page: Page | None, error: AppError) -> Response:
    """Render an error as a page with its stable code."""
    response = render(request, "error.html", page, error.status, error=error)
    response.headers.update(error.headers or {})
    return response


# The machine interfaces: their errors stay OperationOutcome / JSON, whoever asks.
API_SECTIONS = frozenset({
    "api", "fhir", "graphql", "token", "notification", "location", "locations", "webhooks",
    "confirm", "registry", "oauth2", "metrics", "healthz", "readyz", ".well-known",
    "documentation", "openapi.json", "static", "jwks"})


def wants_page(request: Request) -> bool:
    """Tell whether an error should be answered as a web page: a browser, off the APIs."""
    section = request.url.path.lstrip("/").split("/", 1)[0]
    return section not in API_SECTIONS and "text/html" in request.headers.get("accept", "")


def session_principal(request: Request, session: Any, ctx: AppContext) -> Principal | None:
    """Return the user of the session cookie, or None (the Authorization header is ignored)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return principal_from_token(ctx, session, token)
    except AppError:
        return None


def page_for(*scopes: str) -> Callable[..., Page]:
    """Return a dependency: the signed-in user holding one of the scopes, else login or 403."""

    def dependency(request: Request, session: SessionDep, ctx: ContextDep) -> Page:
        principal = session_principal(request, session, ctx)
        if principal is None:
            raise PageExit(RedirectResponse("/", status_code=303))
        page = Page(principal, csrf_token(ctx, principal), client_address(request))
        if principal.kind != "user" or not principal.has_any(scopes):
            raise PageExit(render(request, "forbidden.html", page, 403))
        return page

    return dependency


def check_csrf(request: Request, page: Page, given: str) -> None:
    """Refuse a form whose CSRF token is not the session's (403 page)."""
    if not hmac.compare_digest(page.csrf.encode(), given.encode()):
        raise PageExit(render(request, "forbidden.html", page, 403, csrf_failed=True))

