"""Every staff page, at desktop and phone width: no axe-core violation, no sideways scrolling.

The pages are opened as the people who use them, with data on them (a notified birth, a
potential duplicate, search results, an integration client), so that tables, banners and
forms are checked as well as empty states.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import LOCAL_REGISTRAR, NATLSYSADMIN, LiveServer, new_client
from tests.web.axe import assert_usable
from tests.web.helpers import notify_birth, sign_in
from tests.web.test_dedup_ui import _notify

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


def _registrar_pages(live: LiveServer) -> list[str]:
    record = notify_birth(live, "a11y-1")
    _notify(live, ["Tendai", "Joy"])
    duplicate = _notify(live, ["Tendia", "Joy"])
    return ["/", "/workqueues", "/workqueues/in-progress-health-system", f"/records/{record}",
            f"/records/{duplicate}", "/search?q=tendai", "/search?q=nobody-by-that-name",
            "/records/no-such-record"]


def _check(page: Any, live: LiveServer, paths: list[str]) -> None:
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in paths:
            page.goto(live.url + path)
            _keep(page, f"{label}{path}")
            assert_usable(page, f"{path} at {label} width")


def _keep(page: Any, name: str) -> None:
    """Save what was checked, for a person to look at, when CRVSHUB_A11Y_SHOTS names a folder."""
    folder = os.environ.get("CRVSHUB_A11Y_SHOTS")
    if folder:
        safe = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")
        page.screenshot(path=str(Path(folder) / f"{safe}.png"), full_page=True)


def test_sign_in_page(live_server, page) -> None:
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(live_server.url + "/")
        assert_usable(page, f"sign-in at {label} width")


def test_registrar_pages(live_server, page) -> None:
    paths = _registrar_pages(live_server)
    sign_in(page, live_server, LOCAL_REGISTRAR)
    _check(page, live_server, paths)


def test_integration_pages(live_server, page) -> None:
    creds, _token = new_client(live_server.ctx, "HEALTH", name="Harambo District Hospital")
    hook, _token = new_client(live_server.ctx, "WEBHOOK", name="Events bus", webhook_permissions=[
        {"event": "birth", "permissions": ["child-details"]}])
    search, _token = new_client(live_server.ctx, "RECORD_SEARCH", name="Statistics office")
    sign_in(page, live_server, NATLSYSADMIN)
    cid = creds.client.client_id
    _check(page, live_server, [
        "/", "/integrations", "/workqueues", f"/integrations/{cid}",
        f"/integrations/{hook.client.client_id}", f"/integrations/{search.client.client_id}",
        f"/integrations/{cid}/deactivate", f"/integrations/{cid}/refresh-secret",
        f"/integrations/{cid}/delete", f"/integrations/{cid}/secrets"])


def test_user_pages(live_server, page) -> None:
    sign_in(page, live_server, "e.dalindo")  # local system administrator of Harambo
    _check(page, live_server, ["/", "/users", "/users?q=nobody", f"/users/{LOCAL_REGISTRAR}",
                               f"/users/{LOCAL_REGISTRAR}/deactivate",
                               f"/users/{LOCAL_REGISTRAR}/reset-password",
                               f"/users/{LOCAL_REGISTRAR}/password"])
