"""Staff web UI: server-rendered pages with a session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crvshub.auth import service
from crvshub.auth.dependencies import SESSION_COOKIE, bearer_token, principal_from_token
from crvshub.auth.errors import InvalidLogin, LoginThrottled
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.net import client_address
from crvshub.web.pages import Page, check_csrf, csrf_token, session_principal, templates

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, session: SessionDep, ctx: ContextDep) -> Response:
    """Show the staff home page, or the login form."""
    token = bearer_token(request)
    principal = None
    if token:
        try:
            principal = principal_from_token(ctx, session, token)
        except AppError:
            principal = None
    csrf = csrf_token(ctx, principal) if principal else ""
    return templates.TemplateResponse(
        request, "home.html", {"principal": principal, "error": None, "csrf": csrf}
    )


@router.post("/login")
def login(
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    """Log in from the web form and set the session cookie."""
    try:
        user = service.login(ctx, username, password, client_address(request))
    except (InvalidLogin, LoginThrottled) as exc:
        return templates.TemplateResponse(
            request,
            "home.html",
            {"principal": None, "error": exc.message},
            status_code=exc.status,
            headers=exc.headers,
        )
    token, ttl = service.issue_user_token(ctx.settings, ctx.keys, user)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ttl,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.base_url.startswith("https") or request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Clear the session cookie (a live session must send its CSRF token)."""
    principal = session_principal(request, session, ctx)
    if principal is not None:
        check_csrf(request, Page(principal, csrf_token(ctx, principal), None), csrf)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
