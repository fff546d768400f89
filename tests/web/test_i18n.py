"""The translation layer: every UI string has its French entry, and people choose the language."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from crvshub.web import i18n
from tests.helpers import LOCAL_REGISTRAR

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def test_every_ui_string_has_a_french_translation() -> None:
    sources = i18n.source_messages()
    assert {"Sign in", "Log out", "Workqueues"} <= set(sources)  # extraction sees both kinds
    missing = i18n.missing_translations("fr")
    assert not missing, "untranslated (run scripts/i18n_missing.py fr): " + ", ".join(
        f"{m!r} ({where[0]})" for m, where in sorted(missing.items())[:20])


def test_translations_keep_their_placeholders() -> None:
    for message, translated in i18n.catalogue("fr").items():
        forms = translated if isinstance(translated, tuple) else (translated,)
        wanted = sorted(re.findall(r"%\((\w+)\)s", message))
        for form in forms:
            assert sorted(re.findall(r"%\((\w+)\)s", form)) == wanted, message


def test_plural_forms_follow_each_language() -> None:
    english = i18n.ngettext_for("en")
    assert english("%(num)d record", "%(num)d records", 0) == "%(num)d records"
    assert english("%(num)d record", "%(num)d records", 1) == "%(num)d record"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_person_chooses_french_and_the_pages_follow(client: TestClient) -> None:
    client.cookies.clear()
    english = client.get("/")
    assert '<html lang="en">' in english.text and ">Sign in<" in english.text
    by_browser = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in by_browser.text and ">Se connecter<" in by_browser.text
    chosen = client.post("/language", data={"lang": "fr", "next": "/?x=1"},
                         follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/?x=1"
    assert "crvshub_lang=fr" in chosen.headers["set-cookie"]
    page = client.get("/", headers={"Accept-Language": "en"})  # the choice wins
    assert ">Se connecter<" in page.text and "Nom d'utilisateur" in page.text
    form = CSRF_FIELD.search(page.text)
    assert form
    client.post("/login", data={"username": LOCAL_REGISTRAR, "password": "test",
                                "csrf": form.group(1)})
    home = client.get("/")
    assert "Se déconnecter" in home.text and "Files de travail" in home.text


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_unknown_languages_and_foreign_redirects_are_refused(client: TestClient) -> None:
    bad = client.post("/language", data={"lang": "xx", "next": "/"},
                      headers={"Accept": "text/html"})
    assert bad.status_code == 400 and "WEB-400-002" in bad.text
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        away = client.post("/language", data={"lang": "en", "next": target},
                           follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"] == "/", target
