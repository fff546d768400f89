"""`crvshub user ...`: update, reset-password, deactivate, reactivate and audit, as the API."""

from __future__ import annotations

import json

from tests.test_cli import run


def test_user_commands_manage_a_user_and_show_the_audit(database_url: str) -> None:
    created = run("user", "create", "c.mwale", "--role", "FIELD_AGENT", "--office",
                  "f4t3tGolUB", "--given-names", "Chanda", "--family-name", "Mwale",
                  "--password", "first-pass-2031", database_url=database_url)
    assert created.returncode == 0, created.stderr
    updated = run("user", "update", "c.mwale", "--role", "REGISTRATION_AGENT",
                  "--mobile", "+260977123456", database_url=database_url)
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["role"] == "REGISTRATION_AGENT"
    bad = run("user", "update", "c.mwale", "--role", "KING", database_url=database_url)
    assert bad.returncode == 2 and "role" in bad.stderr

    reset = run("user", "reset-password", "c.mwale", database_url=database_url)
    assert reset.returncode == 0, reset.stderr
    assert "temporary password for c.mwale: " in reset.stdout
    refused = run("user", "token", "c.mwale", database_url=database_url)
    assert refused.returncode == 2 and "new password" in refused.stderr

    assert run("user", "deactivate", "c.mwale", database_url=database_url).returncode == 0
    assert run("user", "reactivate", "c.mwale", database_url=database_url).returncode == 0
    audit = run("user", "audit", "c.mwale", "--json", database_url=database_url)
    assert audit.returncode == 0, audit.stderr
    whats = [entry["what"] for entry in json.loads(audit.stdout)]
    assert whats[:3] == ["Account reactivated", "Account deactivated", "Password reset"]
    assert "Account changed: mobile, role" in whats
    missing = run("user", "deactivate", "nobody", database_url=database_url)
    assert missing.returncode == 2 and "nobody" in missing.stderr
