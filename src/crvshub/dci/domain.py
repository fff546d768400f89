"""DCI registry API rules with no I/O: actions, codes, event types and query criteria.

A DCI query (`idtype-value`, `predicate`, `expression`) becomes one `Criteria`: what the
record search engine is asked, or what a subscription filter checks against a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

VERSION = "1.0.0"
MAX_BATCH = 1000
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10
MAX_SKIP = 10_000
MESSAGE_MAX_AGE_SECONDS = 24 * 3600  # a message_ts older than this is expired
MESSAGE_MAX_SKEW_SECONDS = 300  # ... or this far in the future
REG_TYPE = "ns:org:RegistryType:Civil"
RECORD_TYPE = "spdci-extensions-dci:CRVSPerson"
EVENT_TYPES = {"birth": "spdci-common:RegistryEventType:LiveBirth",
               "death": "spdci-common:RegistryEventType:Death"}
DEFAULT_LOCALE = "eng"

# The request actions of each path and the action of its answer or callback.
CALLBACK_ACTION = {"search": "on-search", "subscribe": "on-subscribe",
                   "unsubscribe": "on-unsubscribe", "txn-status": "txn-on-status"}
CALLBACK_ACTIONS = frozenset({*CALLBACK_ACTION.values(), "notify"})

# Identifier types of `idtype-value` queries (the standard's and common aliases).
ID_BRN = frozenset({"BRN"})
ID_DRN = frozenset({"DRN"})
ID_NATIONAL = frozenset({"UIN", "NID", "NATIONAL_ID"})
ID_RECORD = frozenset({"RECORD_ID", "CRVSHUB_RECORD_ID", "OPENCRVS_RECORD_ID"})
ID_TRACKING = frozenset({"TRACKING_ID"})
ID_TYPES = ID_BRN | ID_DRN | ID_NATIONAL | ID_RECORD | ID_TRACKING

# Subscription events: the domain-event topic each one listens to.
SUBSCRIBE_TOPICS: dict[str, tuple[str, ...]] = {
    "birth": ("BIRTH_REGISTERED",),
    "death": ("DEATH_REGISTERED",),
    "birth_corrected": ("BIRTH_CORRECTED",),
    "death_corrected": ("DEATH_CORRECTED",),
    # A registered death reversed (the person is alive): record action `reverse-death`.
    "death_reversed": ("DEATH_REVERSED",),
}
OPERATORS = frozenset({"eq", "lt", "le", "gt", "ge", "in"})


class CriteriaError(ValueError):
    """A query or filter cannot be understood; `reason` is the standard's `rjct.*` code."""

    def __init__(self, message: str, reason: str = "rjct.search_criteria.invalid") -> None:
        super().__init__(message)
        self.reason = reason


def event_of(reg_event_type: object, *, default: tuple[str, ...]) -> tuple[str, ...]:
    """Return the events (`birth`, `death`) a `reg_event_type` names.

    Accepts the standard's namespaced values (`...:LiveBirth`, `...:Death`), the vital-event
    codes (`live_birth`, `death`) and the short names; `REGISTER` or none means `default`.
    """
    if reg_event_type in (None, ""):
        return default
    if not isinstance(reg_event_type, str):
        raise CriteriaError("reg_event_type must be a string")
    key = reg_event_type.rsplit(":", 1)[-1].replace("_", "").replace("-", "").lower()
    if key in ("livebirth", "birth", "birthregistered"):
        return ("birth",)
    if key in ("death", "deathregistered"):
        return ("death",)
    if key in ("register", "registered", "any", "all"):
        return default
    raise CriteriaError(f"reg_event_type {reg_event_type[:60]!r} is not supported: use "
                        f"{EVENT_TYPES['birth']} or {EVENT_TYPES['death']}")


def subscription_event(reg_event_type: object) -> str:
    """Return the subscribed event (`birth`, `death`, `birth_corrected`, `death_corrected`,
    `death_reversed`)."""
    if not isinstance(reg_event_type, str) or not reg_event_type:
        raise CriteriaError("reg_event_type is required", "rjct.notify_types.invalid")
    key = reg_event_type.rsplit(":", 1)[-1].replace("_", "").replace("-", "").lower()
    names = {"livebirth": "birth", "birth": "birth", "birthregistered": "birth",
             "death": "death", "deathregistered": "death",
             "birthcorrected": "birth_corrected", "deathcorrected": "death_corrected",
             "deathreversal": "death_reversed", "deathreversed": "death_reversed"}
    if key not in names:
        raise CriteriaError(
            f"reg_event_type {reg_event_type[:60]!r} cannot be subscribed to: use LiveBirth, "
            "Death, BIRTH_REGISTERED, DEATH_REGISTERED, BIRTH_CORRECTED, DEATH_CORRECTED or "
            "DEATH_REVERSAL", "rjct.notify_types.invalid")
    return names[key]


@dataclass(frozen=True)
class Range:
    """An inclusive day range; either end may be open."""

    start: date | None = None
    end: date | None = None

    def narrowed(self, operator: str, day: date) -> Range:
        """Return this range narrowed by one comparison."""
        from datetime import timedelta

        start, end = self.start, self.end
        if operator in ("eq", "ge", "gt"):
            low = day + timedelta(days=1) if operator == "gt" else day
            start = low if start is None else max(start, low)
        if operator in ("eq", "le", "lt"):
            high = day - timedelta(days=1) if operator == "lt" else day
            end = high if end is None else min(end, high)
        return Range(start, end)

    def empty(self) -> bool:
        """Tell whether no day fits."""
        return self.start is not None and self.end is not None and self.start > self.end

    def holds(self, day: date | None) -> bool:
        """Tell whether a day is in the range (an unknown day is not)."""
        if self.start is None and self.end is None:
            return True
        if day is None:
            return False
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Criteria:
    """What a DCI query asks for, in the record search engine's terms."""

    events: tuple[str, ...]
    registration_number: str | None = None
    record_id: str | None = None
    tracking_id: str | None = None
    subject_identifier: str | None = None
    name: str | None = None
    birth: Range = Range()
    death: Range = Range()
    sex: str | None = None
    places: tuple[str, ...] | None = None
    offices: tuple[str, ...] | None = None
    mother_identifier: str | None = None
    father_identifier: str | None = None
    mother_name: str | None = None
    father_name: str | None = None
    age: Range = field(default_factory=Range)  # age in years, for subscription filters

    def impossible(self) -> bool:
        """Tell whether the criteria contradict themselves (nothing can match)."""
        return not self.events or self.birth.empty() or self.death.empty()


def _day(value: object, attribute: str) -> date:
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) > 10:
                return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise CriteriaError(f"{attribute} needs an ISO 8601 date (YYYY-MM-DD), got {value!r}"[:300])


def _text(value: object, attribute: str, *, limit: int = 255) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise CriteriaError(f"{attribute} needs a non-empty text of at most {limit} characters")
    return value.strip()


SEXES = {"male": "male", "female": "female", "other": "other", "unknown": "unknown",
         "m": "male", "f": "female", "1": "male", "2": "female", "3": "other", "4": "unknown"}
NAME_ATTRIBUTES = frozenset({"name", "given_name", "givenname", "first_name", "firstname",
                             "surname", "sur_name", "family_name", "familyname", "last_name"})
BIRTH_ATTRIBUTES = frozenset({"birthdate", "birth_date", "dob", "date_of_birth"})
DEATH_ATTRIBUTES = frozenset({"deathdate", "death_date", "dod", "date_of_death"})
PLACE_ATTRIBUTES = frozenset({"birthplace", "birth_place", "deathplace", "death_place",
                              "place", "event_location"})
OFFICE_ATTRIBUTES = frozenset({"registration_office", "jurisdiction", "office"})
ATTRIBUTES = (NAME_ATTRIBUTES | BIRTH_ATTRIBUTES | DEATH_ATTRIBUTES | PLACE_ATTRIBUTES
              | OFFICE_ATTRIBUTES | {"sex", "gender", "age", "mother_name", "father_name",
                                     "parent1_identifier", "parent2_identifier",
                                     "mother_identifier", "father_identifier"}
              | {t.lower() for t in ID_TYPES})


def _values(value: object, attribute: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > 100:
        raise CriteriaError(f"{attribute} in needs a list of 1 to 100 values")
    return tuple(_text(v, attribute) for v in items)


def _age(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise CriteriaError("age needs a whole number of years")
    try:
        years = int(value)
    except ValueError:
        raise CriteriaError("age needs a whole number of years") from None
    if not 0 <= years <= 150:
        raise CriteriaError("age must be between 0 and 150")
    return years


def _identifier(criteria: Criteria, kind: str, value: str) -> Criteria:
    if kind in ID_BRN:
        return replace(criteria, registration_number=value,
                       events=tuple(e for e in criteria.events if e == "birth"))
    if kind in ID_DRN:
        return replace(criteria, registration_number=value,
                       events=tuple(e for e in criteria.events if e == "death"))
    if kind in ID_NATIONAL:
        return replace(criteria, subject_identifier=value)
    if kind in ID_RECORD:
        return replace(criteria, record_id=value)
    return replace(criteria, tracking_id=value)


def apply_predicate(criteria: Criteria, attribute: object, operator: object,
                    value: object) -> Criteria:
    """Return the criteria narrowed by one `{attribute_name, operator, attribute_value}`."""
    if not isinstance(attribute, str) or attribute.lower() not in ATTRIBUTES:
        known = "birthdate, deathdate, name, sex, birthplace, deathplace, age, " \
                "parent1_identifier, parent2_identifier, UIN, BRN, DRN"
        raise CriteriaError(f"attribute_name {str(attribute)[:60]!r} is not supported "
                            f"(supported: {known})")
    name = attribute.lower()
    if operator not in OPERATORS:
        raise CriteriaError(f"operator {str(operator)[:20]!r} is not one of "
                            f"{', '.join(sorted(OPERATORS))}")
    op = str(operator)
    if name in BIRTH_ATTRIBUTES | DEATH_ATTRIBUTES | {"age"}:
        if op == "in":
            raise CriteriaError(f"{attribute} takes eq, lt, le, gt or ge")
        if name == "age":
            return replace(criteria, age=criteria.age.narrowed(
                op, date(2000, 1, 1).replace(year=2000 + _age(value))))
        day = _day(value, attribute)
        if name in BIRTH_ATTRIBUTES:
            return replace(criteria, birth=criteria.birth.narrowed(op, day))
        return replace(criteria, death=criteria.death.narrowed(op, day))
    if name in PLACE_ATTRIBUTES | OFFICE_ATTRIBUTES:
        if op not in ("eq", "in"):
            raise CriteriaError(f"{attribute} takes eq or in")
        ids = _values(value, attribute)
        if name in OFFICE_ATTRIBUTES:
            return replace(criteria, offices=ids)
        return replace(criteria, places=ids)
    if op != "eq":
        raise CriteriaError(f"{attribute} takes eq only")
    return _equal(criteria, attribute, name, value)


def _equal(criteria: Criteria, attribute: str, name: str, value: object) -> Criteria:
    if name in ("sex", "gender"):
        sex = SEXES.get(str(value).strip().lower())
        if sex is None:
            raise CriteriaError("sex must be male, female, other or unknown")
        return replace(criteria, sex=sex)
    text = _text(value, attribute)
    if name in NAME_ATTRIBUTES:
        joined = f"{criteria.name} {text}" if criteria.name else text
        return replace(criteria, name=joined)
    if name == "mother_name":
        return replace(criteria, mother_name=text)
    if name == "father_name":
        return replace(criteria, father_name=text)
    if name in ("parent1_identifier", "mother_identifier"):
        return replace(criteria, mother_identifier=text)
    if name in ("parent2_identifier", "father_identifier"):
        return replace(criteria, father_identifier=text)
    return _identifier(criteria, name.upper(), text)


def _predicate(criteria: Criteria, expression: object, where: str) -> Criteria:
    if not isinstance(expression, dict):
        raise CriteriaError(f"{where} must be an object {{attribute_name, operator, "
                            "attribute_value}")
    missing = [k for k in ("attribute_name", "operator", "attribute_value")
               if k not in expression]
    if missing:
        raise CriteriaError(f"{where} lacks {', '.join(missing)}")
    return apply_predicate(criteria, expression["attribute_name"], expression["operator"],
                           expression["attribute_value"])


def predicate_criteria(criteria: Criteria, query: object) -> Criteria:
    """Apply an `ExpPredicateWithConditionList` (every predicate must hold: `and` only)."""
    items = query if isinstance(query, list) else [query]
    if not items or len(items) > 20:
        raise CriteriaError("a predicate query needs 1 to 20 items")
    ordered = sorted(enumerate(items), key=lambda pair: (
        pair[1].get("seq_num", pair[0]) if isinstance(pair[1], dict)
        and isinstance(pair[1].get("seq_num"), int | float) else pair[0], pair[0]))
    for index, item in ordered:
        where = f"query[{index}]"
        if not isinstance(item, dict) or "expression1" not in item:
            raise CriteriaError(f"{where} must be an object with expression1")
        criteria = _predicate(criteria, item["expression1"], f"{where}.expression1")
        condition = item.get("condition")
        if item.get("expression2") not in (None, "", {}):
            if condition not in (None, "and"):
                raise CriteriaError(f"{where}.condition {str(condition)[:10]!r} is not "
                                    "supported: predicates are combined with and")
            criteria = _predicate(criteria, item["expression2"], f"{where}.expression2")
        elif condition not in (None, "", "and"):
            raise CriteriaError(f"{where}.condition {str(condition)[:10]!r} needs expression2")
    return criteria


_CLAUSE = re.compile(r"^\s*([A-Za-z_0-9]+)\s+(eq|lt|le|gt|ge|in)\s+(.+?)\s*$")


def expression_criteria(criteria: Criteria, query: object) -> Criteria:
    """Apply an `expression` query.

    CRVS Hub's template language (`ExpTemplate.type` `crvshub:QueryType:Simple`) is clauses
    `attribute operator value` joined by ` and `, e.g. `birthdate ge 2020-01-01 and sex eq
    female`; `in` takes comma-separated values. A predicate list sent as an expression (as
    the standard's CRVS samples do) is read as a predicate query.
    """
    if isinstance(query, list):
        return predicate_criteria(criteria, query)
    if not isinstance(query, dict):
        raise CriteriaError("an expression query must be {type, value: {expression}}")
    value = query.get("value")
    expression = value.get("expression") if isinstance(value, dict) else value
    if not isinstance(expression, str) or not expression.strip() or len(expression) > 2000:
        raise CriteriaError("query.value.expression must be a text of at most 2000 characters")
    for clause in re.split(r"\s+and\s+", expression.strip(), flags=re.IGNORECASE):
        found = _CLAUSE.match(clause)
        if found is None:
            raise CriteriaError(f"cannot read the clause {clause[:80]!r}: write "
                                "`attribute operator value` (operators eq lt le gt ge in)")
        attribute, operator, raw = found.groups()
        text = raw.strip().strip("'\"")
        value_of: object = [v.strip().strip("'\"") for v in text.split(",")] \
            if operator == "in" else text
        criteria = apply_predicate(criteria, attribute, operator, value_of)
    return criteria


def idtype_criteria(criteria: Criteria, query: object) -> Criteria:
    """Apply an `idtype-value` query `{type, value}`."""
    if not isinstance(query, dict):
        raise CriteriaError("an idtype-value query must be an object {type, value}")
    kind = query.get("type")
    if not isinstance(kind, str) or kind.upper() not in ID_TYPES:
        raise CriteriaError(f"identifier type {str(kind)[:40]!r} is not supported (supported: "
                            "UIN, BRN, DRN, RECORD_ID, TRACKING_ID)")
    return _identifier(criteria, kind.upper(), _text(query.get("value"), "query.value"))


def query_criteria(query_type: object, query: object, events: tuple[str, ...]) -> Criteria:
    """Return the criteria of one search item's `query_type` and `query`."""
    criteria = Criteria(events=events)
    if query_type == "idtype-value":
        return idtype_criteria(criteria, query)
    if query_type == "predicate":
        return predicate_criteria(criteria, query)
    if query_type == "expression":
        return expression_criteria(criteria, query)
    raise CriteriaError(f"query_type {str(query_type)[:40]!r} is not one of idtype-value, "
                        "expression, predicate")


@dataclass(frozen=True)
class RecordFacts:
    """What a subscription filter looks at in a record."""

    event: str
    event_date: date | None
    subject_birth: date | None
    sex: str | None
    place: str | None
    office: str | None


def _age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def matches(criteria: Criteria, facts: RecordFacts, today: date) -> bool:
    """Tell whether a record meets a subscription filter (place, sex, dates and age)."""
    event = facts.event.split("_", maxsplit=1)[0]
    if event not in criteria.events:
        return False
    birth = facts.event_date if event == "birth" else facts.subject_birth
    death = facts.event_date if event == "death" else None
    if not criteria.birth.holds(birth) or not criteria.death.holds(death):
        return False
    if criteria.sex and criteria.sex != facts.sex:
        return False
    if criteria.places is not None and facts.place not in criteria.places:
        return False
    if criteria.offices is not None and facts.office not in criteria.offices:
        return False
    if criteria.age.start is not None or criteria.age.end is not None:
        age = _age_on(birth, death or today)
        years = None if age is None else date(2000 + age, 1, 1)
        return criteria.age.holds(years)
    return True


def parse_timestamp(value: object) -> datetime | None:
    """Return an ISO 8601 instant with its offset (a naive one is read as UTC), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment


def callback_url(sender_uri: str, action: str) -> str:
    """Return where a callback goes: `{sender_uri}/{action}`, or the URI itself when it
    already ends in a callback action (its last segment is then replaced by `action`)."""
    base = sender_uri.rstrip("/")
    head, _, last = base.rpartition("/")
    if last in CALLBACK_ACTIONS and head and "//" in head + "/":
        return f"{head}/{action}"
    return f"{base}/{action}"


def total_count(value: object) -> int | None:
    """Return a header `total_count` (an integer, or a numeric text as in the samples)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def as_json(value: Any) -> Any:
    """Return a value as plain JSON (dates as ISO text)."""
    if isinstance(value, date):
        return value.isoformat()
    return value
