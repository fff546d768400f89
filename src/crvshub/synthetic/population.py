"""Generate a realistic population of births and deaths, with planted duplicates and labels.

Deterministic for a given seed. Families share mothers (siblings, twins), names come from
several cultures and scripts, and a share of events is declared twice with the errors real
declarations carry: typos, swapped names, other spellings or scripts, a left-out middle
name, a date a day off or with day and month swapped. Each planted duplicate is labelled
with the event it duplicates, so deduplication can be measured (precision and recall).
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import islice

from crvshub.synthetic.names import CULTURES, SCRIPTS, Culture, variants_of

STATUSES = (
    ("REGISTERED", 50), ("CERTIFIED", 12), ("ISSUED", 8), ("DECLARED", 10), ("VALIDATED", 6),
    ("IN_PROGRESS", 5), ("REJECTED", 3), ("WAITING_VALIDATION", 2), ("ARCHIVED", 2),
    ("CORRECTION_REQUESTED", 2),
)
MUTATIONS = ("typo", "swap", "variant", "middle", "day", "monthday")


@dataclass(frozen=True)
class Person:
    """A generated person."""

    given: str
    family: str
    gender: str
    birth_date: date
    national_id: str | None = None


@dataclass(frozen=True)
class Place:
    """Where an event may happen: a health facility and the office that registers it."""

    facility_id: str | None
    office_id: str


@dataclass(frozen=True)
class Event:
    """A generated birth or death, possibly a labelled duplicate of an earlier one."""

    key: str
    event: str
    subject: Person
    event_date: date
    status: str
    place: Place
    mother: Person | None
    father: Person | None
    contact_number: str
    duplicate_of: str | None = None
    mutations: tuple[str, ...] = ()


class Generator:
    """Draws people, families and events from one seeded random source."""

    def __init__(self, seed: int, places: Sequence[Place], *, first_year: int = 2016,
                 last_year: int = 2025, first_key: int = 0) -> None:
        self.rnd = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
        self.places = places
        self.start = date(first_year, 1, 1)
        self.end = date(last_year, 12, 31)
        self.days = (self.end - self.start).days
        self._n = first_key  # event keys are numbered from first_key + 1
        self._status_pool = [s for s, w in STATUSES for _ in range(w)]

    def _key(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:09d}"

    def _nid(self) -> str:
        return "".join(self.rnd.choice(string.digits) for _ in range(10))

    def person(self, culture: Culture, gender: str, born: date, family: str | None = None,
               ) -> Person:
        """Return a person of a culture, with a national id for most adults."""
        pool = culture.female if gender == "female" else culture.male
        given = self.rnd.choice(pool)
        if self.rnd.random() < 0.15:
            given = f"{given} {self.rnd.choice(pool)}" if given.count(" ") == 0 else given
        nid = self._nid() if self.rnd.random() < 0.8 else None
        return Person(given, family or self.rnd.choice(culture.family), gender, born, nid)

    def _date(self) -> date:
        return self.start + timedelta(days=self.rnd.randrange(self.days))

    def births(self, count: int) -> Iterator[Event]:
        """Yield births: families of one to four children, some twins."""
        made = 0
        while made < count:
            culture = self.rnd.choice(CULTURES)
            first = self._date()
            mother_born = first - timedelta(days=self.rnd.randint(17 * 365, 42 * 365))
            mother = self.person(culture, "female", mother_born)
            father = self.person(culture, "male", mother_born - timedelta(
                days=self.rnd.randint(0, 3650)), family=mother.family) \
                if self.rnd.random() < 0.7 else None
            place = self.rnd.choice(self.places)
            when, names = first, set[str]()
            for _ in range(self.rnd.choice((1, 1, 2, 2, 3, 4))):
                if made >= count or when > self.end:
                    break
                for _ in range(2 if self.rnd.random() < 0.02 else 1):  # twins
                    child = self._child(culture, when, mother.family, names)
                    yield self._event("birth", child, when, place, mother, father)
                    made += 1
                when += timedelta(days=self.rnd.randint(400, 1500))

    def _child(self, culture: Culture, born: date, family: str, taken: set[str]) -> Person:
        """Return a child whose first given name differs from its siblings' (as parents do)."""
        child = self.person(culture, self.rnd.choice(("female", "male")), born, family=family)
        for _ in range(20):
            if child.given.split(" ")[0] not in taken:
                break
            child = self.person(culture, child.gender, born, family=family)
        taken.add(child.given.split(" ")[0])
        return replace(child, national_id=None)

    def deaths(self, count: int) -> Iterator[Event]:
        """Yield deaths of adults and children."""
        for _ in range(count):
            culture = self.rnd.choice(CULTURES)
            when = self._date()
            born = when - timedelta(days=self.rnd.randint(0, 95 * 365))
            deceased = self.person(culture, self.rnd.choice(("female", "male")), born)
            yield self._event("death", deceased, when, self.rnd.choice(self.places), None, None)

    def _event(self, kind: str, subject: Person, when: date, place: Place,
               mother: Person | None, father: Person | None) -> Event:
        phone = "+2607" + "".join(self.rnd.choice(string.digits) for _ in range(8))
        return Event(self._key("B" if kind == "birth" else "D"), kind, subject, when,
                     self.rnd.choice(self._status_pool), place, mother, father, phone)

    def duplicate(self, original: Event) -> Event:
        """Return a second declaration of the same event, with one or two realistic errors."""
        chosen = self.rnd.sample(MUTATIONS, self.rnd.choice((1, 1, 2)))
        subject, when, applied = original.subject, original.event_date, []
        for mutation in chosen:
            changed = self._mutate(mutation, subject, when)
            if changed is not None:
                subject, when = changed
                applied.append(mutation)
        if not applied:
            subject = replace(subject, given=_typo(self.rnd, subject.given))
            applied.append("typo")
        place = original.place if self.rnd.random() < 0.8 else self.rnd.choice(self.places)
        return replace(original, key=self._key("X"), subject=subject, event_date=when,
                       status=self.rnd.choice(("DECLARED", "IN_PROGRESS", "VALIDATED")),
                       place=place, duplicate_of=original.key, mutations=tuple(applied))

    def _mutate(self, mutation: str, person: Person, when: date,
                ) -> tuple[Person, date] | None:
        rnd = self.rnd
        if mutation == "typo":
            if rnd.random() < 0.5:
                return replace(person, given=_typo(rnd, person.given)), when
            return replace(person, family=_typo(rnd, person.family)), when
        if mutation == "swap":
            return replace(person, given=person.family, family=person.given), when
        if mutation == "variant":
            return _respell(rnd, person), when
        if mutation == "middle" and " " in person.given:
            return replace(person, given=person.given.split(" ")[0]), when
        if mutation == "day":
            return person, when + timedelta(days=rnd.choice((-1, 1)))
        if mutation == "monthday" and when.day <= 12 and when.day != when.month:
            return person, date(when.year, when.day, when.month)
        return None


def _typo(rnd: random.Random, name: str) -> str:
    """Return a name with one keyboard-style error: a letter changed, added, lost or swapped."""
    letters = list(name)
    spots = [i for i, c in enumerate(letters) if c.isalpha()]
    if len(spots) < 3:
        return name + rnd.choice("aeiou")
    i = rnd.choice(spots[1:])
    kind = rnd.choice(("sub", "ins", "del", "swap"))
    if kind == "sub":
        letters[i] = rnd.choice(string.ascii_lowercase)
    elif kind == "ins":
        letters.insert(i, rnd.choice(string.ascii_lowercase))
    elif kind == "del":
        del letters[i]
    elif i + 1 < len(letters) and letters[i + 1].isalpha():
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    else:
        letters[i] = rnd.choice(string.ascii_lowercase)
    return "".join(letters)


def _respell(rnd: random.Random, person: Person) -> Person:
    """Return the person with one name in another spelling or script, when it has one."""
    for part in ("given", "family"):
        words = getattr(person, part).split(" ")
        for i, word in enumerate(words):
            options = list(variants_of(word)) + ([SCRIPTS[word]] if word in SCRIPTS else [])
            if options:
                words[i] = rnd.choice(options)
                if part == "given":
                    return replace(person, given=" ".join(words))
                return replace(person, family=" ".join(words))
    return replace(person, given=_typo(rnd, person.given))


def population(seed: int, places: Sequence[Place], births: int, deaths: int,
               duplicate_share: float = 0.02) -> Iterator[Event]:
    """Yield births, then deaths, with a share of them declared a second time (labelled)."""
    gen = Generator(seed, places)
    for source in (gen.births(births), gen.deaths(deaths)):
        yield from _declared_again(gen, source, duplicate_share)


def declarations(seed: int, places: Sequence[Place], births: int, deaths: int,
                 duplicate_share: float = 0.02, *, first_key: int = 0) -> Iterator[Event]:
    """Yield exactly `births` birth and then `deaths` death declarations, duplicates included.

    A share of the events is declared a second time (labelled, counted in the totals). Event
    keys are numbered from `first_key + 1` to `first_key + births + deaths`, so that several
    populations numbered apart never share a key.
    """
    gen = Generator(seed, places, first_key=first_key)
    for source, count in ((gen.births(births), births), (gen.deaths(deaths), deaths)):
        yield from islice(_declared_again(gen, source, duplicate_share), count)


def _declared_again(gen: Generator, source: Iterator[Event], share: float) -> Iterator[Event]:
    for event in source:
        yield event
        if gen.rnd.random() < share:
            yield gen.duplicate(event)
