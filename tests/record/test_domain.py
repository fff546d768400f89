"""The status machine, exhaustively: every status x every action."""

from __future__ import annotations

import itertools

import pytest

from crvshub.record import domain
from crvshub.record.domain import Action, IllegalTransition, Status

S = Status
EXPECTED: dict[Action, dict[Status, Status]] = {
    Action.NOTIFY: {},
    Action.DECLARE: {S.IN_PROGRESS: S.DECLARED, S.REJECTED: S.DECLARED},
    Action.VALIDATE: dict.fromkeys((S.IN_PROGRESS, S.DECLARED, S.VALIDATED, S.REJECTED), S.VALIDATED),
    Action.REGISTER: dict.fromkeys((S.IN_PROGRESS, S.DECLARED, S.VALIDATED, S.REJECTED), S.REGISTERED),
    Action.CONFIRM_REGISTRATION: {S.WAITING_VALIDATION: S.REGISTERED},
    Action.REJECT_REGISTRATION: {S.WAITING_VALIDATION: S.REJECTED},
    Action.CERTIFY: dict.fromkeys((S.REGISTERED, S.CERTIFIED, S.ISSUED), S.CERTIFIED),
    Action.ISSUE: {S.CERTIFIED: S.ISSUED},
    Action.REJECT: dict.fromkeys((S.IN_PROGRESS, S.DECLARED, S.VALIDATED), S.REJECTED),
    Action.ARCHIVE: dict.fromkeys((S.IN_PROGRESS, S.DECLARED, S.VALIDATED, S.REJECTED), S.ARCHIVED),
    Action.REINSTATE: {S.ARCHIVED: S.DECLARED},
    Action.ASSIGN: {s: s for s in Status},
    Action.UNASSIGN: {s: s for s in Status},
    Action.VIEW: {s: s for s in Status},
    Action.DOWNLOAD: {s: s for s in Status},
    Action.UPDATE: {s: s for s in (S.IN_PROGRESS, S.DECLARED, S.VALIDATED, S.REJECTED)},
    Action.REQUEST_CORRECTION: dict.fromkeys((S.REGISTERED, S.CERTIFIED, S.ISSUED), S.CORRECTION_REQUESTED),
    Action.APPROVE_CORRECTION: {S.CORRECTION_REQUESTED: S.REGISTERED},
    Action.REJECT_CORRECTION: {S.CORRECTION_REQUESTED: S.CERTIFIED},
    Action.MARK_AS_DUPLICATE: dict.fromkeys((S.IN_PROGRESS, S.DECLARED, S.VALIDATED), S.ARCHIVED),
    Action.MARK_AS_NOT_DUPLICATE: {s: s for s in (S.IN_PROGRESS, S.DECLARED, S.VALIDATED)},
    Action.REVERSE_DEATH: dict.fromkeys((S.REGISTERED, S.CERTIFIED, S.ISSUED), S.ARCHIVED),
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status, Action)))
def test_every_status_and_action(status: Status, action: Action) -> None:
    # `previous` is what reinstate / reject-correction return to (from the audit trail).
    previous = S.DECLARED if action is Action.REINSTATE else S.CERTIFIED
    expected = EXPECTED[action].get(status)
    if expected is None:
        with pytest.raises(IllegalTransition) as caught:
            domain.next_status(status, action, previous=previous)
        assert caught.value.status == status and caught.value.action is action
        assert status in str(caught.value) and action.value in str(caught.value)
        assert action not in domain.allowed_actions(status)
    else:
        assert domain.next_status(status, action, previous=previous) == expected
        assert action in domain.allowed_actions(status)


def test_every_action_has_scopes_audit_name_and_table_entry() -> None:
    for action in Action:
        assert domain.ACTION_SCOPES[action]
        assert domain.AUDIT_NAMES[action]
        assert action in domain.SOURCES


def test_register_waits_for_the_hook_when_one_is_configured() -> None:
    assert domain.next_status(S.VALIDATED, Action.REGISTER, hook=True) == S.WAITING_VALIDATION
    assert domain.audit_name(Action.REGISTER, S.WAITING_VALIDATION) == "waiting-validation"
    assert domain.event_topic("birth", Action.REGISTER, S.WAITING_VALIDATION) == (
        "BIRTH_WAITING_VALIDATION"
    )
    assert domain.event_topic("death", Action.REGISTER, S.REGISTERED) == "DEATH_REGISTERED"


def test_returning_actions_without_history_fall_back_safely() -> None:
    assert domain.next_status(S.ARCHIVED, Action.REINSTATE) == S.IN_PROGRESS
    assert domain.next_status(S.ARCHIVED, Action.REINSTATE, previous="REGISTERED") == S.IN_PROGRESS
    assert domain.next_status(S.CORRECTION_REQUESTED, Action.REJECT_CORRECTION) == S.REGISTERED


def test_role_scopes() -> None:
    field_agent = frozenset({"declare"})
    registrar = frozenset({"register", "performance", "certify"})
    clerk = frozenset({"validate", "performance", "certify"})
    assert domain.may_perform(field_agent, Action.DECLARE)
    assert not domain.may_perform(field_agent, Action.VALIDATE)
    assert not domain.may_perform(clerk, Action.REGISTER)
    assert domain.may_perform(registrar, Action.REGISTER)
    assert domain.may_perform(clerk, Action.CERTIFY)
    assert not domain.may_perform(registrar, Action.CONFIRM_REGISTRATION)


def test_tracking_id_and_registration_number_format() -> None:
    from datetime import date

    tracking = domain.new_tracking_id(domain.Event.BIRTH)
    assert len(tracking) == 7 and tracking[0] == "B"
    assert set(tracking[1:]) <= set(domain.TRACKING_ALPHABET)
    assert domain.registration_number("{year}{tracking_id}", tracking_id="B1", today=date(2026, 1, 2)) == "2026B1"
