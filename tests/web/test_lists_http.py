"""Lists people can work, over HTTP: sortable workqueues with page size, waiting time and holder,
words instead of codes, times in the office's time zone, the folded history, in both languages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.settings import Settings
from tests.helpers import LOCAL_REGISTRAR, NATLSYSADMIN, bearer, new_client, user_token
from tests.notification.helpers import example, fresh_ids

FRENCH = {"Accept-Language": "fr"}
ROW = re.compile(r'<a href="/records/([0-9a-f-]+)">([A-Z0-9]+)</a>')


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The offices keep Central Africa Time."""
    return Settings(database_url=database_url, environment="test", embedded_worker=False,
                    log_level="WARNING", time_zone="Africa/Lusaka")


def _notify(client: TestClient, ctx: AppContext, given: str, family: str) -> str:
    _creds, token = new_client(ctx, "HEALTH", name="Harambo District Hospital")
    bundle = fresh_ids(example("birth-minimal"))
    child = _child(bundle)
    child["name"] = [{"use": "en", "given": [given], "family": family}]
    response = client.post("/notification", json=bundle, headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


def _child(bundle: dict[str, Any]) -> dict[str, Any]:
    composition = bundle["entry"][0]["resource"]
    section = next(s for s in composition["section"]
                   if s["code"]["coding"][0]["code"] == "child-details")
    ref = section["entry"][0]["reference"]
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == ref)
    return found


def _as(client: TestClient, ctx: AppContext, username: str) -> None:
    client.cookies.set("crvshub_session", user_token(ctx, username))


def _queue_of(client: TestClient) -> str:
    counts = client.get("/workqueues").text
    found = re.findall(r'data-testid="count-([a-z-]+)">([1-9]\d*)<', counts)
    assert found, "no workqueue holds the notified records"
    return found[0][0]


def test_workqueues_sort_by_a_column_and_show_a_chosen_page_size(client: TestClient,
                                                                  ctx: AppContext) -> None:
    for given, family in (("Bupe", "Zulu"), ("Abiola", "Mwale"), ("Chanda", "Banda")):
        _notify(client, ctx, given, family)
    _as(client, ctx, LOCAL_REGISTRAR)
    queue = _queue_of(client)
    by_name = client.get(f"/workqueues/{queue}?sort=name")
    assert by_name.status_code == 200
    names = re.findall(r'data-label="Name">([^<]+)<', by_name.text)
    assert names == sorted(names) and len(names) == 3, names
    assert 'aria-sort="ascending"' in by_name.text
    assert 'href="?page=1&amp;sort=-name"' in by_name.text  # the same column again: descending
    reverse = re.findall(r'data-label="Name">([^<]+)<', client.get(
        f"/workqueues/{queue}?sort=-name").text)
    assert reverse == list(reversed(names))
    small = client.get(f"/workqueues/{queue}?sort=name&size=2")
    assert len(ROW.findall(small.text)) == 2 and "Page 1 of 2 · 3 records" in small.text
    assert 'href="?page=2&amp;sort=name&amp;size=2"' in small.text
    second = client.get(f"/workqueues/{queue}?sort=name&size=2&page=2")
    assert re.findall(r'data-label="Name">([^<]+)<', second.text) == names[2:]
    # Each line says how long the record has waited and who holds it.
    assert re.search(r'data-testid="waiting-[^"]+">0 minutes<', small.text)
    assert 'data-testid="assignee-' in small.text
    for bad in ("sort=status", "size=0", "size=1000", "page=abc"):
        refused = client.get(f"/workqueues/{queue}?{bad}", headers={"Accept": "text/html"})
        assert refused.status_code == 400 and "<h1>" in refused.text, bad


def test_a_registrar_reads_the_lists_and_the_record_in_french(client: TestClient,
                                                              ctx: AppContext) -> None:
    rid = _notify(client, ctx, "Mutinta", "Phiri")
    _as(client, ctx, LOCAL_REGISTRAR)
    queue = _queue_of(client)
    listed = client.get(f"/workqueues/{queue}", headers=FRENCH)
    assert "Numéro de suivi" in listed.text and "Attribué à" in listed.text
    assert "En attente depuis" in listed.text and "Dossiers par page" in listed.text
    assert "Naissance" in listed.text and "IN_PROGRESS</span>" not in listed.text
    assert "Officier d&#39;état civil local" in listed.text  # the header names the role
    assert "Africa/Lusaka" in listed.text
    record = client.get(f"/records/{rid}", headers=FRENCH)
    assert record.status_code == 200
    assert 'data-status="IN_PROGRESS">En cours</span>' in record.text
    assert "Déclaration" in record.text and "Historique" in record.text
    assert "Envoyé par Harambo District Hospital (système de santé)" in record.text
    assert "LOCAL_REGISTRAR" not in record.text.replace('data-status="', "")
    # The country data names the office in French too (crvs-offices.csv, name_fr).
    assert "<dd>Bureau de district de Harambo</dd>" in record.text
    assert "<dd>Harambo District Office</dd>" in client.get(f"/records/{rid}").text
    assert "<strong>Bureau de district de Harambo</strong>" in listed.text
    missing = client.get("/records/no-such-record",
                         headers={**FRENCH, "Accept": "text/html"})
    assert missing.status_code == 404 and "Aucun dossier avec cet identifiant" in missing.text


def test_history_times_follow_the_office_and_views_fold_per_day(client: TestClient,
                                                                ctx: AppContext) -> None:
    rid = _notify(client, ctx, "Natasha", "Mwanza")
    _as(client, ctx, LOCAL_REGISTRAR)
    for _ in range(3):
        client.get(f"/records/{rid}")
    api = client.get(f"/api/records/{rid}", headers=bearer(user_token(ctx, LOCAL_REGISTRAR)))
    assert sum(1 for h in api.json()["history"] if h["action"] == "viewed") >= 3
    page = client.get(f"/records/{rid}").text
    lines = re.findall(r'data-testid="history-line"[^>]*>\s*<td[^>]*>([^<]*)</td>\s*'
                       r'<td[^>]*>([^<]*)</td>', page)
    views = [what for _when, what in lines if what.startswith("Viewed")]
    assert len(views) == 1, lines  # five views today (four + the one of this page): one line
    assert re.match(r"Viewed \d+ times by Ruth Olusinde \(Local registrar\)", views[0]), views
    assert all(when.endswith(" CAT") or re.fullmatch(r"\d{4}-\d\d-\d\d", when)
               for when, _what in lines), lines
    assert "Times are in the Africa/Lusaka time zone" in page


def test_users_pages_name_roles_and_statuses_in_words(client: TestClient,
                                                       ctx: AppContext) -> None:
    _as(client, ctx, NATLSYSADMIN)
    english = client.get("/users")
    assert ">Local registrar<" in english.text and ">LOCAL_REGISTRAR<" not in english.text
    french = client.get("/users", headers=FRENCH)
    assert ">Officier d&#39;état civil local<" in french.text
    assert 'data-status="active">actif<' in french.text
    assert "Créer un utilisateur" in french.text
    assert ">Bureau de district de Harambo<" in french.text  # the office, as the country names it
    assert ">Harambo District Office<" in english.text


def test_workqueues_filter_by_event_dates_and_place(client: TestClient, ctx: AppContext) -> None:
    from sqlalchemy import text

    births = {_notify(client, ctx, "Mutale", "Phiri"), _notify(client, ctx, "Naledi", "Tembo")}
    _creds, token = new_client(ctx, "HEALTH", name="Harambo District Hospital")
    death = client.post("/notification", json=fresh_ids(example("death-minimal")),
                        headers=bearer(token))
    assert death.status_code == 200, death.text
    death_id = death.headers["location"].rsplit("/", 1)[1]
    with ctx.db.transaction() as session:
        rows = session.execute(text("SELECT id, event_date, event_location_id FROM records"))
        facts = {str(r[0]): (r[1], r[2]) for r in rows}
    _as(client, ctx, LOCAL_REGISTRAR)
    queue = "/workqueues/in-progress-health-system"

    def shown(query: str) -> set[str]:
        page = client.get(f"{queue}?{query}")
        assert page.status_code == 200, page.text
        return {rid for rid, _t in ROW.findall(page.text)}

    assert shown("") >= births | {death_id}
    assert shown("event=death") == {death_id}
    assert shown("event=birth") == births
    day = str(facts[next(iter(births))][0])
    assert next(iter(births)) in shown(f"event=birth&from={day}&to={day}")
    empty = client.get(f"{queue}?from=2099-01-01")
    assert "match these filters" in empty.text and not ROW.findall(empty.text)
    place = facts[next(iter(births))][1]
    snapshot = ctx.location_cache.snapshot()
    area = snapshot.get(place)
    while area is not None and area.type != "ADMIN_STRUCTURE":
        area = snapshot.get(area.part_of_id) if area.part_of_id else None
    assert area is not None, "the birth's facility lies in no area"
    assert next(iter(births)) in shown(f"place={area.id}")
    elsewhere = next(v for v in snapshot.ordered if v.type == "ADMIN_STRUCTURE"
                     and v.id != area.id and area.id not in v.path and v.id not in area.path)
    assert not shown(f"place={elsewhere.id}") & births
    # The filters stay in the paging and sorting links.
    page = client.get(f"{queue}?event=birth&size=10")
    assert "event=birth" in page.text.split('data-testid="sort-name"')[0].rsplit("href", 1)[1]
    for bad in ("place=nowhere", "from=2026-05-02&to=2026-05-01"):
        refused = client.get(f"{queue}?{bad}", headers={"Accept": "text/html"})
        assert refused.status_code == 400 and "WEB-400-003" in refused.text, bad
    assert client.get(f"{queue}?event=marriage").status_code == 400
    assert client.get(f"{queue}?from=not-a-date").status_code == 400
