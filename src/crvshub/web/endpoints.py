"""Staff web UI: server-rendered pages with a session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from crvshub.auth import service, user_admin
from crvshub.auth.dependencies import SESSION_COOKIE
from crvshub.auth.errors import InvalidLogin, LoginThrottled
from crvshub.auth.user_admin import User
from crvshub.context import AppContext
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.net import client_address
from crvshub.web import error_messages, i18n
from crvshub.web.errors import LoginFormExpired, UnknownLanguage
from crvshub.web.pages import Page, check_csrf, csrf_token, session_principal, templates
from crvshub.web.security import (
    LOGIN_CSRF_COOKIE,
    PASSWORD_PENDING_COOKIE,
    SET_PASSWORD_PATH,
    WebRoute,
    login_csrf,
    login_csrf_ok,
    pending_form_ok,
    pending_form_token,
    pending_user,
    set_login_csrf_cookie,
    set_password_pending,
)

router = APIRouter(include_in_schema=False, route_class=WebRoute)
# Roles whose work is not on the home page land on their own page.
LANDING = {"PERFORMANCE_MANAGER": "/performance", "LOCAL_SYSTEM_ADMIN": "/users"}


def _sign_in_form(
    request: Request, ctx: AppContext, error: AppError | None = None
) -> Response:
    """Render the sign-in form with its CSRF token (and the cookie it is tied to)."""
    nonce, token = login_csrf(request, ctx)
    response = templates.TemplateResponse(
        request,
        "home.html",
        {"principal": None, "login_csrf": token,
         "error": error_messages.message_of(error, i18n.gettext_for(i18n.language_of(request)))
         if error else None},
        status_code=error.status if error else 200,
        headers=error.headers if error else None,
    )
    return set_login_csrf_cookie(response, ctx, nonce)


@router.get("/")
def home(request: Request, session: SessionDep, ctx: ContextDep) -> Response:
    """Show the staff home page, or the sign-in form (session cookie only, never a bearer)."""
    principal = session_principal(request, session, ctx)
    if principal is None:
        return _sign_in_form(request, ctx)
    landing = LANDING.get(principal.role or "")
    if landing is not None:
        return RedirectResponse(landing, status_code=303)
    return templates.TemplateResponse(
        request,
        "home.html",
        {"principal": principal, "error": None, "csrf": csrf_token(ctx, principal)},
    )


@router.post("/login")
def login(
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Log in from the web form and set the session cookie."""
    try:
        user = service.login(ctx, username, password, client_address(request))
    except (InvalidLogin, LoginThrottled) as exc:
        return _sign_in_form(request, ctx, exc)
    if not login_csrf_ok(request, ctx, csrf):
        # Login CSRF: another site must not sign this browser in to an account of its choice.
        return _sign_in_form(request, ctx, LoginFormExpired())
    if user.must_change_password:
        # The temporary password was right: the user must now choose their own.
        response = RedirectResponse(SET_PASSWORD_PATH, status_code=303)
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return set_password_pending(response, ctx, user.id)
    response = RedirectResponse("/", status_code=303)
    _start_session(request, ctx, response, user)
    response.delete_cookie(LOGIN_CSRF_COOKIE)  # the next sign-in form gets a fresh nonce
    return response


def _start_session(request: Request, ctx: AppContext, response: Response, user: User) -> None:
    token, ttl = service.issue_user_token(ctx.settings, ctx.keys, user)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ttl,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.base_url.startswith("https") or request.url.scheme == "https",
    )


def _set_password_form(request: Request, ctx: AppContext, pending: str,
                       error: AppError | None = None) -> Response:
    return templates.TemplateResponse(
        request, "set_password.html",
        {"principal": None, "error": error, "form_token": pending_form_token(ctx, pending)},
        status_code=error.status if error else 200, headers={"Cache-Control": "no-store"},
    )


@router.get(SET_PASSWORD_PATH)
def set_password_page(request: Request, ctx: ContextDep) -> Response:
    """Ask a user whose password was reset (or who is new) to choose their own."""
    pending = request.cookies.get(PASSWORD_PENDING_COOKIE, "")
    user_id = pending_user(ctx, pending)
    if user_id is None:
        return RedirectResponse("/", status_code=303)
    return _set_password_form(request, ctx, pending)


@router.post(SET_PASSWORD_PATH)
def set_password(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirmation: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """Save the user's new password and sign them in."""
    pending = request.cookies.get(PASSWORD_PENDING_COOKIE, "")
    user_id = pending_user(ctx, pending)
    if user_id is None or not pending_form_ok(ctx, pending, csrf):
        return RedirectResponse("/", status_code=303)
    try:
        with session.begin_nested():
            user = user_admin.set_own_password(session, ctx, user_id, new_password,
                                               confirmation, ip=client_address(request),
                                               only_if_required=True)
    except AppError as exc:
        return _set_password_form(request, ctx, pending, exc)
    response = RedirectResponse("/", status_code=303)
    _start_session(request, ctx, response, user)
    response.delete_cookie(PASSWORD_PENDING_COOKIE, path=SET_PASSWORD_PATH)
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


@router.post("/language")
def choose_language(
    lang: Annotated[str, Form(max_length=16)] = "",
    back: Annotated[str, Form(alias="next", max_length=2048)] = "/",
) -> Response:
    """Remember the language a person chose for the pages (a cookie), and go back."""
    if lang not in i18n.LANGUAGES:
        raise UnknownLanguage(f"Unknown language {lang!r}; choose one of "
                              f"{', '.join(sorted(i18n.LANGUAGES))}.")
    target = back if back.startswith("/") and not back.startswith("//") and "\\" not in back \
        else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(i18n.LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax",
                        httponly=True)
    return response
