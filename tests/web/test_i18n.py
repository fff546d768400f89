"""The translation layer: every UI string has its French entry, and people choose the language."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.web import i18n
from tests.helpers import LOCAL_REGISTRAR, bearer, user_token

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


def _raised_messages() -> list[tuple[str, str, str]]:
    """Return (code, English message with sample values, where) of each error the pages'
    services raise with a message of their own, and (code, title, where) of the others."""
    import ast
    from pathlib import Path

    import crvshub.app
    from crvshub.errors import AppError
    from crvshub.web import error_messages

    by_name: dict[str, list[type[AppError]]] = {}
    for klass in AppError.catalogue().values():
        by_name.setdefault(klass.__name__, []).append(klass)
    root = Path(crvshub.app.__file__).parent
    found: list[tuple[str, str, str]] = []
    for source in error_messages.UI_SOURCES:
        for path in sorted(root.glob(f"{source}.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                classes = by_name.get(name, [])
                package = "crvshub." + path.relative_to(root).parts[0]
                own = [k for k in classes if k.__module__.startswith(package)]
                for klass in own or classes:  # a name two features use: the file's own
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    found.append((klass.code, klass.title, where))
                    message = _sample(node.args[0]) if node.args else None
                    if message:
                        found.append((klass.code, message, where))
    return found


def _sample(node: object) -> str | None:
    import ast

    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_" and node.args:
        node = node.args[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else f"«v{i}»"
                       for i, part in enumerate(node.values))
    return None  # a name: a constant marked with N_ where it is defined


def test_errors_the_pages_show_have_french_messages_with_their_values() -> None:
    from crvshub.web import error_messages

    french = i18n.gettext_for("fr")
    raised = _raised_messages()
    assert len(raised) > 100 and any(c == "REC-409-001" for c, _m, _w in raised)
    untranslated = []
    for code, message, where in raised:
        shown = error_messages.translate(code, message, french)
        values = re.findall(r"«v\d+»", message)
        if shown == message or any(value not in shown for value in values):
            untranslated.append(f"{code} {message!r} ({where})")
    assert not untranslated, "add a template to crvshub.web.error_messages.MESSAGES: " + \
        "; ".join(untranslated[:15])


def test_an_error_message_is_translated_by_its_code_and_keeps_its_values() -> None:
    from crvshub.web import error_messages

    french = i18n.gettext_for("fr")
    message = "Cannot register a record in status REGISTERED (allowed: VALIDATED, DECLARED)"
    assert error_messages.translate("REC-409-001", message, french) == (
        "Impossible de faire « register » sur un dossier au statut REGISTERED "
        "(permis : VALIDATED, DECLARED)")
    assert error_messages.translate("REC-409-001", message, i18n.gettext_for("en")) == message
    # A message of another code, or one no template knows, stays as it is.
    assert error_messages.translate("AUTH-409-001", message, french) == message
    assert error_messages.translate("REC-404-001", "No record with id 'x'", french) == \
        "Aucun dossier avec l'identifiant 'x'"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_french_page_shows_another_features_error_in_french_and_the_api_stays_english(
    client: TestClient, ctx: AppContext,
) -> None:
    token = user_token(ctx, LOCAL_REGISTRAR)
    client.cookies.set("crvshub_session", token)
    client.cookies.set(i18n.LANGUAGE_COOKIE, "fr")
    page = client.get("/records/00000000-0000-0000-0000-000000000000",
                      headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "Aucun dossier avec l&#39;identifiant" in page.text and "No record with id" not in page.text
    assert 'data-testid="error-code">REC-404-001<' in page.text
    api = client.get("/api/records/00000000-0000-0000-0000-000000000000",
                     headers=bearer(token))
    assert api.status_code == 404 and "No record with id" in api.text
