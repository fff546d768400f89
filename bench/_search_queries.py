"""The ten query types of bench/search.py: samples taken from the data, and raw-SQL baselines."""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, text

from crvshub.search.indexing import pair_key
from crvshub.search.names import terms

QUERY_TYPES = (
    "tracking id", "registration number", "national id", "exact name", "fuzzy name (typo)",
    "name + date range", "mother + child DoB", "jurisdiction + status + dates",
    "event location", "contact number",
)
PICK = """
SELECT r.id, r.tracking_id, r.registration_number, r.subject_given, r.subject_family,
       r.event_date, r.event_location_id, r.contact_number, r.status, r.office_id,
       m.given AS mother_given, m.family AS mother_family, o.part_of_id AS area,
       (SELECT t.term FROM search_terms t WHERE t.record_id = r.id AND t.role = 'mother'
          AND t.term LIKE '=%' LIMIT 1) AS mother_nid
FROM records r JOIN search_persons m ON m.record_id = r.id AND m.role = 'mother'
JOIN locations o ON o.id = r.office_id
WHERE r.event = 'birth' AND r.registration_number IS NOT NULL
  AND r.event_location_id IS NOT NULL AND r.contact_number IS NOT NULL
  AND r.id >= :start ORDER BY r.id LIMIT 1
"""


@dataclass(frozen=True)
class Sample:
    """One question: its searchEvents parameters, its raw SQL, and the record it came from."""

    record_id: str
    params: dict[str, Any]
    sql: str
    binds: dict[str, Any]


def _typo(rnd: random.Random, word: str) -> str:
    i = rnd.randrange(1, max(2, len(word) - 1))
    return word[:i] + word[i + 1:] if len(word) > 4 else word + "a"


def _terms_sql(words: list[str], role: str | None, binds: dict[str, Any]) -> str:
    """One person of the record has every word: looked up by the pair keys of neighbours
    (the postings the engine reads for the exact words, without their variants)."""
    unique = list(dict.fromkeys(words))
    keys = [pair_key(a, b) for a, b in itertools.pairwise(unique)] or unique
    role_sql = f" AND role = '{role}'" if role else ""
    parts = []
    for n, key in enumerate(keys):
        binds[f"t{n}"] = key
        parts.append(f"SELECT record_id, role FROM search_terms WHERE term = :t{n}{role_sql}")
    return f"r.id IN (SELECT record_id FROM ({' INTERSECT '.join(parts)}) AS people)"


def _page(where: str) -> str:
    return f"SELECT r.id FROM records r WHERE {where} ORDER BY r.created_at DESC LIMIT 10"


def _questions(row: Any, offices: list[str], rnd: random.Random) -> dict[str, Sample]:
    day: date = row.event_date if isinstance(row.event_date, date) else \
        date.fromisoformat(str(row.event_date))
    name = f"{row.subject_given} {row.subject_family}"
    words = terms(name)
    typo = f"{row.subject_given} {_typo(rnd, row.subject_family)}"
    around = {"dateOfEventStart": str(day - timedelta(30)),
              "dateOfEventEnd": str(day + timedelta(30))}
    found: dict[str, tuple[dict[str, Any], str, dict[str, Any]]] = {}
    b: dict[str, Any] = {"v": row.tracking_id}
    found["tracking id"] = ({"trackingId": row.tracking_id}, _page("r.tracking_id = :v"), b)
    b = {"v": row.registration_number}
    found["registration number"] = ({"registrationNumber": row.registration_number},
                                    _page("r.registration_number = :v"), b)
    b = {"v": row.mother_nid}
    found["national id"] = ({"nationalId": row.mother_nid[1:]}, _page(
        "r.id IN (SELECT record_id FROM search_terms WHERE term = :v)"), b)
    b = {}
    found["exact name"] = ({"name": name}, _page(_terms_sql(words, None, b)), b)
    b = {}
    found["fuzzy name (typo)"] = ({"name": typo}, _page(_terms_sql(words, None, b)), b)
    b = {"a": day - timedelta(30), "z": day + timedelta(30)}
    found["name + date range"] = ({"name": name, **around}, _page(
        _terms_sql(words, None, b) + " AND r.event_date BETWEEN :a AND :z"), b)
    b = {"d": day}
    found["mother + child DoB"] = (
        {"motherFirstNames": row.mother_given, "motherFamilyName": row.mother_family,
         "childDoB": str(day)},
        _page(_terms_sql(terms(f"{row.mother_given} {row.mother_family}"), "mother", b)
              + " AND r.event_date = :d"), b)
    b = {"s": row.status, "a": day - timedelta(15), "z": day + timedelta(15)}
    office_list = ", ".join(f"'{o}'" for o in offices)
    found["jurisdiction + status + dates"] = (
        {"declarationJurisdictionId": row.area, "registrationStatuses": [row.status],
         "dateOfEventStart": str(b["a"]), "dateOfEventEnd": str(b["z"])},
        _page(f"r.office_id IN ({office_list}) AND r.status = :s "
              "AND r.event_date BETWEEN :a AND :z"), b)
    b = {"v": row.event_location_id}
    found["event location"] = ({"eventLocationId": row.event_location_id},
                               _page("r.event_location_id = :v"), b)
    b = {"v": row.contact_number}
    found["contact number"] = ({"contactNumber": row.contact_number},
                               _page("r.contact_number = :v"), b)
    return {k: Sample(row.id, p, s, bb) for k, (p, s, bb) in found.items()}


def samples(engine: Engine, per_type: int, seed: int) -> dict[str, list[Sample]]:
    """Return `per_type` questions of each type, from records picked at random."""
    rnd = random.Random(seed)
    picked: dict[str, list[Sample]] = {k: [] for k in QUERY_TYPES}
    with engine.connect() as conn:
        while len(picked[QUERY_TYPES[0]]) < per_type:
            start = f"{rnd.getrandbits(128):032x}"
            start = f"{start[:8]}-{start[8:12]}-{start[12:16]}-{start[16:20]}-{start[20:]}"
            row = conn.execute(text(PICK), {"start": start}).first()
            if row is None or row.mother_nid is None:
                continue
            area = conn.execute(text("SELECT path FROM locations WHERE id = :a"),
                                {"a": row.area}).scalar()
            offices = list(conn.execute(text(
                "SELECT id FROM locations WHERE type = 'CRVS_OFFICE' AND path LIKE :p"),
                {"p": f"{area}%"}).scalars())
            for kind, sample in _questions(row, offices, rnd).items():
                picked[kind].append(sample)
    return picked


def sql_baseline(engine: Engine, work: list[Sample]) -> list[float]:
    """Run the raw SQL of each sample once; return the latencies in seconds."""
    times = []
    with engine.connect() as conn:
        for sample in work:
            started = time.perf_counter()
            conn.execute(text(sample.sql), sample.binds).all()
            times.append(time.perf_counter() - started)
    return times
