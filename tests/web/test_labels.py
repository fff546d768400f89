"""Words for codes, times in the office's time zone and the folded history, without a server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from crvshub.auth.domain import Role
from crvshub.auth.user_admin import ACTION_WORDS
from crvshub.record import domain, views
from crvshub.record.domain import Status
from crvshub.settings import Settings
from crvshub.web import i18n, labels
from crvshub.web.records import readable_history

FRENCH = i18n.gettext_for("fr")


def test_every_status_role_queue_and_audit_action_has_words_in_both_languages() -> None:
    french = i18n.catalogue("fr")
    assert {s.value for s in Status} <= set(labels.STATUSES)
    assert {r.value for r in Role} <= set(labels.ROLES)
    assert set(domain.WORKQUEUES) <= set(labels.WORKQUEUES)
    assert set(views.VERBS) <= set(labels.VERBS)
    assert set(ACTION_WORDS.values()) <= set(french)
    for table in (labels.STATUSES, labels.ROLES, labels.WORKQUEUES, labels.VERBS):
        assert all(words in french for words in table.values())
    assert labels.status_in("REGISTERED", FRENCH) == "Enregistré"
    assert labels.role_in("LOCAL_REGISTRAR", str) == "Local registrar"
    assert labels.role_in("LOCAL_REGISTRAR", FRENCH) == "Officier d'état civil local"
    assert labels.status_in("SOMETHING_NEW", FRENCH) == "SOMETHING_NEW"  # shown, never hidden


def test_times_are_shown_in_the_offices_time_zone_with_its_name() -> None:
    assert labels.when_in("2026-03-01T14:05:00+00:00", "Africa/Lusaka") == "2026-03-01 16:05 CAT"
    assert labels.when_in("2026-03-01T14:05:00+00:00", "UTC") == "2026-03-01 14:05 UTC"
    assert labels.when_in("2026-03-01", "Africa/Lusaka") == "2026-03-01"  # a date stays a date
    assert labels.when_in("not a time", "UTC") == "not a time"
    # 23:30 UTC is already the next day in Lusaka: the history's days follow the office.
    assert labels.day_in("2026-03-01T23:30:00+00:00", "Africa/Lusaka") == "2026-03-02"
    assert Settings(time_zone="Africa/Lusaka").time_zone == "Africa/Lusaka"
    with pytest.raises(ValidationError, match="IANA time zone"):
        Settings(time_zone="Mars/Olympus")


def test_the_age_of_a_record_reads_in_minutes_hours_then_days() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert labels.age_in("2026-03-10T11:58:00+00:00", "en", now) == "2 minutes"
    assert labels.age_in("2026-03-10T07:00:00+00:00", "en", now) == "5 hours"
    assert labels.age_in("2026-03-01T12:00:00+00:00", "fr", now) == "9 jours"
    assert labels.age_in("2026-03-10T11:59:30+00:00", "fr", now) == "0 minute"


def _item(action: str, at: str, name: str, role: str = "LOCAL_REGISTRAR") -> dict[str, object]:
    return {"action": action, "at": at, "reason": None, "statusAfter": "DECLARED",
            "actor": {"type": "user", "id": name, "name": name, "role": role}}


def test_views_fold_into_one_line_per_day_and_other_actions_keep_theirs() -> None:
    items = [
        {"action": "sent-notification", "at": "2026-03-01T08:00:00+00:00", "reason": None,
         "statusAfter": "IN_PROGRESS", "actor": {"type": "client", "name": "Harambo Hospital",
                                                 "role": "HEALTH"}},
        _item("viewed", "2026-03-01T09:00:00+00:00", "Ruth Olusinde"),
        _item("viewed", "2026-03-01T09:05:00+00:00", "Jonas Mbeluke", "REGISTRATION_AGENT"),
        _item("assigned", "2026-03-01T09:06:00+00:00", "Ruth Olusinde"),
        _item("viewed", "2026-03-01T10:00:00+00:00", "Ruth Olusinde"),
        _item("viewed", "2026-03-02T09:00:00+00:00", "Ruth Olusinde"),
    ]
    english = [h["line"] for h in readable_history(items, "en", "UTC")]
    assert english == [
        "Sent by Harambo Hospital (health system)",
        "Viewed 3 times by Ruth Olusinde (Local registrar), Jonas Mbeluke (Registration agent)",
        "Assigned by Ruth Olusinde (Local registrar)",
        "Viewed once by Ruth Olusinde (Local registrar)",
    ]
    french = [h["line"] for h in readable_history(items, "fr", "UTC")]
    assert french[1] == ("Consulté 3 fois par Ruth Olusinde (Officier d'état civil local), "
                         "Jonas Mbeluke (Agent d'enregistrement)")
    assert french[2] == "Attribué par Ruth Olusinde (Officier d'état civil local)"
    assert french[0] == "Envoyé par Harambo Hospital (système de santé)"
