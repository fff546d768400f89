"""Managing staff users: create, edit, deactivate, reactivate, reset passwords; all audited.

A local system administrator manages the users of their own office and may not give or manage
national roles; a national system administrator manages every user. The command line acts
with national reach. New users and users whose password was reset must set their own password
before they get a token (`must_change_password`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crvshub.auth import domain, passwords, repository
from crvshub.auth.cutoff import forget_now_and_after_commit
from crvshub.auth.domain import Principal, Role, Scope
from crvshub.auth.errors import (
    InvalidUserSettings,
    OwnAccount,
    RoleNotAllowed,
    UnknownOffice,
    UnknownRole,
    UserExists,
    UserNotFound,
    WeakPassword,
)
from crvshub.auth.models import User as User  # noqa: PLC0414  (the row type handed out)
from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.errors import Forbidden, Issue, OutOfJurisdiction
from crvshub.location import service as location_service
from crvshub.record import service as record_service

NAME_MAX = 255
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
AUDIT_LIMIT = 200


@dataclass(frozen=True)
class Manager:
    """Who manages users: the audit reference, address, own user id and reach."""

    ref: str
    ip: str | None = None
    user_id: str | None = None
    office_id: str | None = None
    national: bool = True


def manager_of(session: Session, principal: Principal, ip: str | None) -> Manager:
    """Return the manager acting through a staff token; refuse anyone but system admins."""
    if principal.kind != "user" or Scope.SYSADMIN not in principal.scopes:
        raise Forbidden("Only system administrators manage staff users")
    user = repository.user_by_id(session, principal.subject)
    who = f"user:{user.username}" if user else f"user:{principal.subject}"
    return Manager(who, ip, principal.subject, principal.office_id,
                   Scope.NATLSYSADMIN in principal.scopes)


def cli_manager(account: str) -> Manager:
    """Return the manager of the command line (national reach)."""
    return Manager(f"cli:{account}")


@dataclass(frozen=True)
class UserChanges:
    """Fields a creation or an edit may set; None means "leave as is"."""

    given_names: str | None = None
    family_name: str | None = None
    role: str | None = None
    office: str | None = None
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class NewPassword:
    """A user and the temporary password to hand over (shown once)."""

    user: User
    temporary_password: str


def user_view(user: User) -> dict[str, Any]:
    """Return the public description of a user (never a password)."""
    return {
        "id": user.id,
        "username": user.username,
        "given_names": user.given_names,
        "family_name": user.family_name,
        "name": f"{user.given_names} {user.family_name}",
        "role": user.role,
        "office_id": user.office_id,
        "status": user.status,
        "must_change_password": user.must_change_password,
        "mobile": user.mobile,
        "email": user.email,
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
    }


def _check_reach(manager: Manager, office_id: str, role: str | None) -> None:
    if manager.national:
        return
    if office_id != manager.office_id:
        raise OutOfJurisdiction("This user belongs to another office")
    if role is not None and Role(role) in domain.NATIONAL_ROLES:
        raise RoleNotAllowed(f"Only a national system administrator manages {role} users")


def roles_for(manager: Manager) -> list[str]:
    """Return the roles a manager may give."""
    return [r.value for r in Role if manager.national or r not in domain.NATIONAL_ROLES]


def offices_for(session: Session, manager: Manager) -> list[tuple[str, str]]:
    """Return (id, name) of the offices a manager may put users in."""
    offices = location_service.offices(session)
    return offices if manager.national else [o for o in offices if o[0] == manager.office_id]


PAGE_MAX = 200


def list_users(session: Session, manager: Manager, *, text: str | None = None,
               count: int = 50, skip: int = 0) -> tuple[int, list[User]]:
    """Return how many users a manager may see match, and one page of them by username.

    A local administrator sees their office's users, a national one everyone's.
    """
    total, rows = repository.users_of_office(
        session, None if manager.national else manager.office_id, text=(text or "").strip(),
        limit=min(max(count, 1), PAGE_MAX), offset=max(skip, 0))
    return total, list(rows)


def get(session: Session, manager: Manager, user_id: str) -> User:
    """Return a user within the manager's reach (404 unknown, 403 another office)."""
    user = repository.user_by_id(session, user_id) or repository.user_by_username(session, user_id)
    if user is None:
        raise UserNotFound(f"No staff user {user_id!r}")
    _check_reach(manager, user.office_id, user.role)
    return user


def _check_fields(changes: UserChanges, *, creating: bool) -> list[Issue]:
    issues: list[Issue] = []

    def bad(where: str, message: str, kind: str = "value") -> None:
        issues.append(Issue(InvalidUserSettings.code, message, where, kind))

    for where in ("given_names", "family_name"):
        value = getattr(changes, where)
        if value is None:
            if creating:
                bad(where, "is required", "required")
        elif not value.strip() or len(value) > NAME_MAX:
            bad(where, f"must be 1 to {NAME_MAX} characters, not blank")
    if changes.role is not None and changes.role not in Role.__members__:
        issues.append(Issue(UnknownRole.code, f"must be one of {', '.join(Role)}", "role",
                            "value"))
    if creating and not changes.role:
        bad("role", "is required", "required")
    if creating and not changes.office:
        bad("office", "is required", "required")
    if changes.mobile and (len(changes.mobile) > 32 or
                           not changes.mobile.lstrip("+").replace(" ", "").isdigit()):
        bad("mobile", "must be a phone number (digits, optional leading +)")
    if changes.email and ("@" not in changes.email or len(changes.email) > NAME_MAX):
        bad("email", "must be an email address")
    return issues


def _office_id(session: Session, ref: str) -> str:
    row = location_service.office_by_ref(session, ref)
    if row is None:
        raise UnknownOffice(f"No CRVS office with id or statistical id {ref!r}")
    return row.id


def _audit(session: Session, manager: Manager, action: str, user: User, **details: Any) -> None:
    repository.audit(session, actor=manager.ref, action=f"user.{action}", target_type="user",
                     target_id=user.id, ip=manager.ip,
                     details={"username": user.username, **details})


def temporary_password() -> str:
    """Return a random one-time password to hand to a user (they replace it at sign-in)."""
    return secrets.token_urlsafe(12)


def create(session: Session, manager: Manager, username: str, changes: UserChanges,
           password: str | None = None) -> NewPassword:
    """Create a user; they must set their own password at first sign-in.

    Without `password` a temporary one is generated and returned (shown once).
    """
    username = username.strip().lower()
    issues = _check_fields(changes, creating=True)
    if not username or len(username) > 128 or not set(username) <= USERNAME_CHARS:
        issues.append(Issue(InvalidUserSettings.code, "must be 1 to 128 of a-z, 0-9, '.', "
                            "'_' or '-'", "username", "value"))
    if issues:
        raise InvalidUserSettings(issues=issues)
    office, role = changes.office or "", changes.role or ""
    given, family = (changes.given_names or "").strip(), (changes.family_name or "").strip()
    office_id = _office_id(session, office)
    _check_reach(manager, office_id, role)
    if repository.user_by_username(session, username) is not None:
        raise UserExists(f"The username {username!r} is taken")
    secret = password or temporary_password()
    now = utcnow()
    user = User(
        username=username, given_names=given, family_name=family, role=role,
        office_id=office_id,
        password_hash=passwords.hash_password(secret), mobile=changes.mobile or None,
        email=changes.email or None, status="active", must_change_password=True,
        created_at=now, updated_at=now,
    )
    repository.add(session, user)
    session.flush()
    _audit(session, manager, "create", user, role=user.role, office_id=office_id)
    return NewPassword(user, secret)


def update(session: Session, ctx: AppContext, manager: Manager, user_id: str,
           changes: UserChanges) -> User:
    """Change a user's names, role, office or contact details."""
    user = get(session, manager, user_id)
    issues = _check_fields(changes, creating=False)
    if issues:
        raise InvalidUserSettings(issues=issues)
    changed: dict[str, Any] = {}
    for field in ("given_names", "family_name"):
        value = getattr(changes, field)
        if value is not None and value.strip() != getattr(user, field):
            changed[field] = value.strip()
    if changes.role is not None and changes.role != user.role:
        if user.id == manager.user_id:
            raise OwnAccount("You cannot change your own role")
        _check_reach(manager, user.office_id, changes.role)
        changed["role"] = changes.role
    if changes.office is not None:
        office_id = _office_id(session, changes.office)
        if office_id != user.office_id:
            _check_reach(manager, office_id, changes.role or user.role)
            changed["office_id"] = office_id
    for field in ("mobile", "email"):
        value = getattr(changes, field)
        if value is not None and (value or None) != getattr(user, field):
            changed[field] = value or None
    if changed:
        for field, value in changed.items():
            setattr(user, field, value)
        user.updated_at = utcnow()
        _audit(session, manager, "update", user, changed=changed)
        session.flush()
        forget_now_and_after_commit(session, ctx, "user", user.id)
    return user


def deactivate(session: Session, ctx: AppContext, manager: Manager, user_id: str) -> User:
    """Deactivate a user: they cannot sign in and their tokens stop working at once."""
    user = get(session, manager, user_id)
    if user.id == manager.user_id:
        raise OwnAccount("You cannot deactivate your own account")
    if user.status != "deactivated":
        user.status, user.updated_at = "deactivated", utcnow()
        _audit(session, manager, "deactivate", user)
        session.flush()
    forget_now_and_after_commit(session, ctx, "user", user.id)
    return user


def reactivate(session: Session, ctx: AppContext, manager: Manager, user_id: str) -> User:
    """Reactivate a user; they sign in again with their password."""
    user = get(session, manager, user_id)
    if user.status != "active":
        user.status, user.updated_at = "active", utcnow()
        _audit(session, manager, "reactivate", user)
        session.flush()
    forget_now_and_after_commit(session, ctx, "user", user.id)
    return user


def reset_password(session: Session, ctx: AppContext, manager: Manager,
                   user_id: str) -> NewPassword:
    """Give a user a temporary password; they must set a new one at next sign-in.

    Their current tokens stop working at once.
    """
    user = get(session, manager, user_id)
    if user.id == manager.user_id:
        raise OwnAccount("You cannot reset your own password here: sign in and change it")
    secret = temporary_password()
    user.password_hash = passwords.hash_password(secret)
    user.must_change_password, user.updated_at = True, utcnow()
    _audit(session, manager, "reset-password", user)
    session.flush()
    forget_now_and_after_commit(session, ctx, "user", user.id)
    return NewPassword(user, secret)


def password_problem(new_password: str, confirmation: str | None, user: User,
                     old_password: str | None = None) -> str | None:
    """Say why a new password cannot be taken, or return None."""
    if confirmation is not None and new_password != confirmation:
        return "the two new passwords differ"
    if old_password is not None and new_password == old_password:
        return "the new password must differ from the temporary one"
    return passwords.password_problem(new_password, user.username)


def set_own_password(session: Session, ctx: AppContext, user_id: str, new_password: str,
                     confirmation: str | None = None, old_password: str | None = None,
                     ip: str | None = None, only_if_required: bool = False) -> User:
    """Let a user replace their (temporary) password; their identity was proven by the caller.

    `only_if_required`: refuse unless a reset is pending (the web's set-password step, where
    the temporary password was proven earlier, not in this request).
    """
    user = repository.user_by_id(session, user_id)
    if user is None or user.status != "active":
        raise UserNotFound("No active staff user")
    if only_if_required and not user.must_change_password:
        raise UserNotFound("No new password is expected for this user: sign in")
    problem = password_problem(new_password, confirmation, user, old_password)
    if problem:
        raise WeakPassword(f"The new password is not acceptable: {problem}",
                           expression="new_password")
    user.password_hash = passwords.hash_password(new_password)
    user.must_change_password, user.updated_at = False, utcnow()
    repository.audit(session, actor=f"user:{user.username}", action="user.set-password",
                     target_type="user", target_id=user.id, ip=ip,
                     details={"username": user.username})
    session.flush()
    forget_now_and_after_commit(session, ctx, "user", user.id)
    return user


@dataclass(frozen=True)
class AuditEntry:
    """One line of a user audit: what was done by or to the user."""

    at: datetime
    kind: str  # "record", "management" (by the user) or "account" (to the user)
    what: str
    actor: str
    target: str
    ip: str | None
    record_id: str | None = None

    def view(self) -> dict[str, Any]:
        """Return the entry as JSON."""
        return {"at": self.at.isoformat(), "kind": self.kind, "what": self.what,
                "actor": self.actor, "target": self.target, "ip": self.ip,
                "record_id": self.record_id}


ACTION_WORDS = {
    "user.create": "Account created", "user.update": "Account changed",
    "user.deactivate": "Account deactivated", "user.reactivate": "Account reactivated",
    "user.reset-password": "Password reset", "user.set-password": "New password set",
    "user.disable": "Account deactivated",
    "client.create": "Registered integration client", "client.update": "Changed integration client",
    "client.deactivate": "Deactivated integration client",
    "client.reactivate": "Reactivated integration client",
    "client.refresh-secret": "Refreshed the secret of integration client",
    "client.reveal-sha-secret": "Revealed the sha secret of integration client",
    "client.delete": "Deleted integration client",
}


def audit(session: Session, manager: Manager, user_id: str,
          limit: int = AUDIT_LIMIT) -> list[AuditEntry]:
    """Return what a user did (record actions, management) and what was done to the account."""
    user = get(session, manager, user_id)
    ref = f"user:{user.username}"
    entries: list[AuditEntry] = []
    for row in repository.audit_by_or_for(session, ref, user.id, limit):
        details = row.details or {}
        if row.target_id == user.id and row.target_type == "user":
            kind, target = "account", user.username
        else:
            kind = "management"
            target = str(details.get("name") or details.get("username") or row.target_id)
        what = ACTION_WORDS.get(row.action, row.action)
        if row.action == "user.update" and isinstance(details.get("changed"), dict):
            what += ": " + ", ".join(sorted(details["changed"]))
        entries.append(AuditEntry(row.at, kind, what, row.actor, target, row.ip))
    for action in record_service.actions_by(session, user.id, limit):
        entries.append(AuditEntry(action["at"], "record", action["what"], ref,
                                  action["tracking_id"] or action["record_id"], action["ip"],
                                  action["record_id"]))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
