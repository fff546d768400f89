"""JSON API for system administrators to manage staff users (logic in auth.user_admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session

from crvshub.auth import user_admin
from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal, Scope
from crvshub.auth.schemas import UserCreate, UserUpdate
from crvshub.deps import ContextDep, SessionDep
from crvshub.fhir.responses import FastJSONResponse
from crvshub.net import client_address

router = APIRouter(prefix="/api/users", tags=["staff users"])

Admin = Annotated[Principal, Depends(require(Scope.SYSADMIN, kinds=("user",)))]
UserId = Annotated[str, Path(min_length=1, max_length=128, description="User id or username")]
NO_STORE = {"Cache-Control": "no-store"}


def _manager(session: Session, principal: Principal, request: Request) -> user_admin.Manager:
    return user_admin.manager_of(session, principal, client_address(request))


def _changes(body: UserCreate | UserUpdate) -> user_admin.UserChanges:
    return user_admin.UserChanges(
        given_names=body.given_names, family_name=body.family_name, role=body.role,
        office=body.office, mobile=body.mobile, email=body.email,
    )


def _issued(issued: user_admin.NewPassword) -> dict[str, Any]:
    return {"user": user_admin.user_view(issued.user),
            "temporary_password": issued.temporary_password}


@router.get("", summary="List the staff users of your jurisdiction")
def list_users(
    admin: Admin, request: Request, session: SessionDep,
    q: Annotated[str | None, Query(max_length=128, description="Part of a name")] = None,
    count: Annotated[int, Query(ge=1, le=user_admin.PAGE_MAX)] = 50,
    skip: Annotated[int, Query(ge=0)] = 0,
) -> FastJSONResponse:
    """List users by username: your office's (local admin) or everyone's (national admin)."""
    total, users = user_admin.list_users(session, _manager(session, admin, request), text=q,
                                         count=count, skip=skip)
    return FastJSONResponse({"total": total,
                             "users": [user_admin.user_view(u) for u in users]})


@router.post("", status_code=201, summary="Create a staff user")
def create(body: UserCreate, admin: Admin, request: Request,
           session: SessionDep) -> FastJSONResponse:
    """Create a user with a temporary password (returned once); they set their own at sign-in."""
    issued = user_admin.create(session, _manager(session, admin, request), body.username,
                               _changes(body))
    return FastJSONResponse(_issued(issued), status_code=201, headers=NO_STORE)


@router.get("/{user_id}", summary="Show a staff user")
def show(user_id: UserId, admin: Admin, request: Request, session: SessionDep) -> FastJSONResponse:
    """Show one user of your jurisdiction."""
    user = user_admin.get(session, _manager(session, admin, request), user_id)
    return FastJSONResponse(user_admin.user_view(user))


@router.patch("/{user_id}", summary="Change a staff user's names, role, office or contact")
def update(user_id: UserId, body: UserUpdate, admin: Admin, request: Request,
           session: SessionDep, ctx: ContextDep) -> FastJSONResponse:
    """Change a user; absent fields stay as they are."""
    user = user_admin.update(session, ctx, _manager(session, admin, request), user_id,
                             _changes(body))
    return FastJSONResponse(user_admin.user_view(user))


@router.post("/{user_id}/deactivate", summary="Deactivate a staff user")
def deactivate(user_id: UserId, admin: Admin, request: Request, session: SessionDep,
               ctx: ContextDep) -> FastJSONResponse:
    """Deactivate a user: their tokens stop working at once."""
    user = user_admin.deactivate(session, ctx, _manager(session, admin, request), user_id)
    return FastJSONResponse(user_admin.user_view(user))


@router.post("/{user_id}/reactivate", summary="Reactivate a staff user")
def reactivate(user_id: UserId, admin: Admin, request: Request, session: SessionDep,
               ctx: ContextDep) -> FastJSONResponse:
    """Reactivate a user."""
    user = user_admin.reactivate(session, ctx, _manager(session, admin, request), user_id)
    return FastJSONResponse(user_admin.user_view(user))


@router.post("/{user_id}/reset-password", summary="Reset a staff user's password")
def reset_password(user_id: UserId, admin: Admin, request: Request, session: SessionDep,
                   ctx: ContextDep) -> FastJSONResponse:
    """Give the user a temporary password (returned once); they must set a new one."""
    issued = user_admin.reset_password(session, ctx, _manager(session, admin, request), user_id)
    return FastJSONResponse(_issued(issued), headers=NO_STORE)


@router.get("/{user_id}/audit", summary="What a staff user did, and what was done to the account")
def audit(user_id: UserId, admin: Admin, request: Request, session: SessionDep,
          limit: Annotated[int, Query(ge=1, le=user_admin.AUDIT_LIMIT)] = 100
          ) -> FastJSONResponse:
    """Return the user's record actions, management actions and account changes, newest first."""
    entries = user_admin.audit(session, _manager(session, admin, request), user_id, limit)
    return FastJSONResponse({"user_id": user_id, "entries": [e.view() for e in entries]})
