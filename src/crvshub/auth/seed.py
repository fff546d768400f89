"""Load demo staff users from a country's employees.csv (idempotent, matched by username)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from crvshub.auth import repository, service
from crvshub.location.seed import CountryDataError, read_rows


def load_users(
    session: Session,
    country_dir: Path,
    password: str,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[str, str, str]]:
    """Create the users of employees.csv that do not exist yet; return (username, role, office)."""
    path = country_dir / "employees.csv"
    if not path.exists():
        return []
    rows = list(read_rows(path))
    seeded: list[tuple[str, str, str]] = []
    for index, row in enumerate(rows, start=1):
        try:
            username, role, office = row["username"], row["role"], row["office_statistical_id"]
        except KeyError as exc:
            raise CountryDataError(f"employees.csv: missing column {exc}") from None
        if repository.user_by_username(session, username) is None:
            service.create_user(
                session,
                username=username,
                given_names=row.get("given_names", ""),
                family_name=row.get("family_name", ""),
                role=role,
                office=office,
                password=password,
                mobile=row.get("mobile") or None,
                email=row.get("email") or None,
            )
        seeded.append((username, role, office))
        if progress:
            progress(index, len(rows))
    return seeded
