"""Pages for system administrators to manage the staff users of their jurisdiction.

Local system administrators see and manage their office's users; national system
administrators everyone. All logic is in `auth.user_admin`, as for the JSON API and the CLI.
A temporary password is shown once after a POST-redirect-GET (`web.reveal`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from crvshub.auth import user_admin
from crvshub.auth.domain import Scope
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.location import service as location_service
from crvshub.web import i18n, labels, reveal
from crvshub.web.i18n import N_
from crvshub.web.pages import Page, check_csrf, error_page, page_for, render
from crvshub.web.security import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
USER_ADMIN_SCOPES: tuple[str, ...] = (Scope.SYSADMIN.value,)
SysAdminPage = Annotated[Page, Depends(page_for(*USER_ADMIN_SCOPES))]
UserId = Annotated[str, Path(min_length=1, max_length=128)]
Csrf = Annotated[str, Form(max_length=128)]
Text = Annotated[str, Form(max_length=255)]
Done = Annotated[str | None, Query(max_length=32)]
DONE = {
    "saved": N_("The changes were saved."),
    "deactivated": N_("The user was deactivated: they can no longer sign in."),
    "reactivated": N_("The user was reactivated: they can sign in again."),
}
ROLE_LABELS = labels.ROLES


def _manager(session: Session, page: Page) -> user_admin.Manager:
    return user_admin.manager_of(session, page.principal, page.ip)


def _choices(session: Session, manager: user_admin.Manager, language: str) -> dict[str, Any]:
    offices = user_admin.offices_for(session, manager)
    if language != i18n.DEFAULT_LANGUAGE:  # the country data may name offices in it
        find = labels.localized(location_service.lookup(session), language)
        offices = [(office_id, getattr(find(office_id), "name", name))
                   for office_id, name in offices]
    return {"roles": [(r, ROLE_LABELS.get(r, r)) for r in user_admin.roles_for(manager)],
            "offices": offices, "office_names": dict(offices), "role_labels": ROLE_LABELS}


PAGE_SIZE = 50


def _list_page(request: Request, session: Session, page: Page, *,
               error: AppError | None = None, done: str | None = None,
               form: dict[str, Any] | None = None, q: str = "", number: int = 1) -> Response:
    manager = _manager(session, page)
    total, rows = user_admin.list_users(session, manager, text=q, count=PAGE_SIZE,
                                        skip=(number - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "users.html", page, error.status if error else 200,
                  users=[user_admin.user_view(u) for u in rows], total=total, q=q,
                  number=number, pages=pages, error=error, done=DONE.get(done or ""),
                  form=form or {}, national=manager.national,
                  **_choices(session, manager, i18n.language_of(request)))


@router.get("/users")
def users(request: Request, session: SessionDep, page: SysAdminPage, done: Done = None,
          q: Annotated[str, Query(max_length=128)] = "",
          number: Annotated[str, Query(alias="page", max_length=8)] = "1") -> Response:
    """List the users of the administrator's jurisdiction, with the form to create one."""
    wanted = int(number) if number.isdigit() and int(number) > 0 else 1
    return _list_page(request, session, page, done=done, q=q, number=wanted)


def _password_path(user_id: str) -> str:
    return f"/users/{user_id}/password"


def _to_password(ctx: Any, page: Page, issued: user_admin.NewPassword, title: str) -> Response:
    path = _password_path(issued.user.id)
    response = RedirectResponse(path, status_code=303)
    return reveal.stash(response, ctx, page, f"user:{issued.user.id}", path,
                        {"title": title, "password": issued.temporary_password})


def _changes(given_names: str, family_name: str, role: str, office: str, mobile: str,
             email: str) -> user_admin.UserChanges:
    return user_admin.UserChanges(given_names=given_names, family_name=family_name,
                                  role=role or None, office=office or None, mobile=mobile,
                                  email=email)


@router.post("/users")
def create_user(
    request: Request, session: SessionDep, ctx: ContextDep, page: SysAdminPage,
    csrf: Csrf = "", username: Annotated[str, Form(max_length=128)] = "",
    given_names: Text = "", family_name: Text = "", role: Text = "", office: Text = "",
    mobile: Text = "", email: Text = "",
) -> Response:
    """Create a user with a temporary password, shown once on the next page."""
    check_csrf(request, page, csrf)
    try:
        with session.begin_nested():
            issued = user_admin.create(session, _manager(session, page), username,
                                       _changes(given_names, family_name, role, office, mobile,
                                                email))
    except AppError as exc:
        form = {"username": username, "given_names": given_names, "family_name": family_name,
                "role": role, "office": office, "mobile": mobile, "email": email}
        return _list_page(request, session, page, error=exc, form=form)
    return _to_password(ctx, page, issued, N_("User created"))


def _detail_page(request: Request, session: Session, page: Page, user_id: str, *,
                 error: AppError | None = None, done: str | None = None) -> Response:
    manager = _manager(session, page)
    try:
        user = user_admin.get(session, manager, user_id)
        entries = user_admin.audit(session, manager, user.id)
    except AppError as exc:
        return error_page(request, page, exc)
    return render(request, "user.html", page, error.status if error else 200,
                  user=user_admin.user_view(user), audit=entries, error=error,
                  done=DONE.get(done or ""), own=user.id == manager.user_id,
                  **_choices(session, manager, i18n.language_of(request)))


@router.get("/users/{user_id}")
def user(user_id: UserId, request: Request, session: SessionDep, page: SysAdminPage,
         done: Done = None) -> Response:
    """Show a user: details, the edit form, actions and the audit of what they did."""
    return _detail_page(request, session, page, user_id, done=done)


def _change(request: Request, session: Session, page: Page, csrf: str, user_id: str,
            done: str, work: Callable[[user_admin.Manager], Any]) -> Response:
    check_csrf(request, page, csrf)
    try:
        with session.begin_nested():
            work(_manager(session, page))
    except AppError as exc:
        return _detail_page(request, session, page, user_id, error=exc)
    return RedirectResponse(f"/users/{user_id}?done={done}", status_code=303)


@router.post("/users/{user_id}")
def update_user(
    user_id: UserId, request: Request, session: SessionDep, ctx: ContextDep,
    page: SysAdminPage, csrf: Csrf = "", given_names: Text = "", family_name: Text = "",
    role: Text = "", office: Text = "", mobile: Text = "", email: Text = "",
) -> Response:
    """Save the edit form."""
    changes = _changes(given_names, family_name, role, office, mobile, email)
    return _change(request, session, page, csrf, user_id, "saved",
                   lambda m: user_admin.update(session, ctx, m, user_id, changes))


CONFIRM = {
    "deactivate": (N_("Deactivate %(name)s?"),
                   N_("%(name)s (%(username)s) will no longer be able to sign in, and their "
                      "current session stops working at once. Their records and history stay."),
                   N_("Deactivate %(name)s")),
    "reset-password": (N_("Reset the password of %(name)s?"),
                       N_("%(name)s (%(username)s) gets a temporary password, shown once on the "
                          "next page; their current session stops working at once and they must "
                          "set a new password when they next sign in."),
                       N_("Reset the password of %(name)s")),
}
Step = Annotated[str, Path(pattern="^(deactivate|reset-password)$")]


@router.post("/users/{user_id}/deactivate")
def deactivate_user(user_id: UserId, request: Request, session: SessionDep, ctx: ContextDep,
                    page: SysAdminPage, csrf: Csrf = "") -> Response:
    """Deactivate a user (after the confirmation page)."""
    return _change(request, session, page, csrf, user_id, "deactivated",
                   lambda m: user_admin.deactivate(session, ctx, m, user_id))


@router.post("/users/{user_id}/reactivate")
def reactivate_user(user_id: UserId, request: Request, session: SessionDep, ctx: ContextDep,
                    page: SysAdminPage, csrf: Csrf = "") -> Response:
    """Reactivate a user."""
    return _change(request, session, page, csrf, user_id, "reactivated",
                   lambda m: user_admin.reactivate(session, ctx, m, user_id))


@router.post("/users/{user_id}/reset-password")
def reset_user_password(user_id: UserId, request: Request, session: SessionDep,
                        ctx: ContextDep, page: SysAdminPage, csrf: Csrf = "") -> Response:
    """Give the user a temporary password (after the confirmation page), shown once."""
    check_csrf(request, page, csrf)
    try:
        with session.begin_nested():
            issued = user_admin.reset_password(session, ctx, _manager(session, page), user_id)
    except AppError as exc:
        return _detail_page(request, session, page, user_id, error=exc)
    return _to_password(ctx, page, issued, N_("Password reset"))


@router.get("/users/{user_id}/password")
def user_password(user_id: UserId, request: Request, session: SessionDep, ctx: ContextDep,
                  page: SysAdminPage) -> Response:
    """Show the temporary password just issued (for a few minutes, in this session only)."""
    try:
        view = user_admin.user_view(user_admin.get(session, _manager(session, page), user_id))
    except AppError as exc:
        return error_page(request, page, exc)
    values = reveal.read(request, ctx, page, f"user:{view['id']}")
    return render(request, "user_password.html", page, user=view, issued=values,
                  title=(values or {}).get("title", N_("Temporary password")))


@router.post("/users/{user_id}/password/done")
def user_password_done(user_id: UserId, request: Request, page: SysAdminPage,
                       csrf: Csrf = "") -> Response:
    """Forget the shown password and go to the user's page."""
    check_csrf(request, page, csrf)
    response = RedirectResponse(f"/users/{user_id}", status_code=303)
    return reveal.forget(response, _password_path(user_id))


@router.get("/users/{user_id}/{step}")
def confirm_user_step(user_id: UserId, step: Step, request: Request, session: SessionDep,
                      page: SysAdminPage) -> Response:
    """Ask for confirmation before deactivating a user or resetting their password."""
    try:
        view = user_admin.user_view(user_admin.get(session, _manager(session, page), user_id))
    except AppError as exc:
        return error_page(request, page, exc)
    gettext = i18n.gettext_for(i18n.language_of(request))
    title, text, button = (gettext(part) % view for part in CONFIRM[step])
    return render(request, "admin_confirm.html", page, title=title, text=text, button=button,
                  action=f"/users/{user_id}/{step}", cancel=f"/users/{user_id}", danger=True)
