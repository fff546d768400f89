"""Every staff page renders in French, with French words where the English page has them
and no untranslated headings."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import FIELD_AGENT, LOCAL_REGISTRAR, NATLSYSADMIN, bearer, new_client, user_token
from tests.notification.helpers import example, fresh_ids

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
FRENCH = {"Accept-Language": "fr", "Accept": "text/html"}
# Words of the English pages that must not be left on a French page.
ENGLISH = ("Tracking ID", "Status</", "Back to", "Error code", "Cancel<", "Workqueues<",
           "History<", "Name<", "Office<", ">Role<", "Created<", "Reason")


def _french(client: TestClient, path: str, wanted: str, status: int = 200) -> str:
    page = client.get(path, headers=FRENCH)
    assert page.status_code == status, (path, page.status_code, page.text[:300])
    assert '<html lang="fr">' in page.text and wanted in page.text, path
    body = page.text.split("<main", 1)[1]
    left = [word for word in ENGLISH if word in body]
    assert not left, f"{path}: English left: {left}"
    return page.text


def test_record_pages_in_french(client: TestClient, ctx: AppContext) -> None:
    _creds, token = new_client(ctx, "HEALTH", name="Harambo District Hospital")
    sent = client.post("/notification", json=fresh_ids(example("birth-full")),
                       headers=bearer(token))
    rid = sent.headers["location"].rsplit("/", 1)[1]
    client.cookies.set("crvshub_session", user_token(ctx, LOCAL_REGISTRAR))
    _french(client, "/workqueues", "Prêt pour vérification")
    _french(client, "/search?q=nobody-by-that-name", "Aucun dossier ne correspond")
    record = _french(client, f"/records/{rid}", "Pièces justificatives")
    assert "Lieu et détails de la naissance" in record and "Mère" in record
    review = _french(client, f"/records/{rid}/review/register", "Ce qui va se passer")
    assert "Confirmer : enregistrer" in review
    _french(client, f"/records/{rid}/correction", "Motif de la rectification")
    _french(client, "/records/no-such-record", "Aucun dossier avec cet identifiant", 404)
    _french(client, "/workqueues/nothing-like-this", "Cette file de travail n&#39;existe pas",
            404)
    _french(client, "/no/such/page", "Cette ressource n&#39;existe pas", 404)
    _french(client, "/workqueues/ready-for-review?page=abc", "Un paramètre a une valeur", 400)
    client.cookies.set("crvshub_session", user_token(ctx, FIELD_AGENT))
    refused = _french(client, "/integrations", "Accès refusé", 403)
    assert "Votre rôle (Agent de terrain)" in refused


def test_admin_pages_in_french(client: TestClient, ctx: AppContext) -> None:
    creds, _token = new_client(ctx, "WEBHOOK", name="Events bus", webhook_permissions=[
        {"event": "birth", "permissions": ["child-details"]}])
    search, _token = new_client(ctx, "RECORD_SEARCH", name="Statistics office")
    client.cookies.set("crvshub_session", user_token(ctx, NATLSYSADMIN))
    cid = creds.client.client_id
    listed = _french(client, "/integrations", "Enregistrer un client")
    assert ">Webhook<" in listed and ">actif<" in listed
    detail = _french(client, f"/integrations/{cid}", "Autorisations webhook")
    assert "Journal de gestion" in detail
    _french(client, f"/integrations/{search.client.client_id}", "Quota journalier")
    confirm = _french(client, f"/integrations/{cid}/deactivate", "Désactiver Events bus ?")
    assert "Désactiver le client Webhook Events bus le coupe aussitôt" in confirm
    _french(client, f"/integrations/{cid}/refresh-secret", "Renouveler le secret de Events bus")
    _french(client, f"/integrations/{cid}/delete", "Supprimer définitivement Events bus")
    _french(client, f"/integrations/{cid}/secrets", "Les secrets ne sont plus affichés")
    users = _french(client, "/users", "Créer un utilisateur")
    assert re.search(r"\d+ utilisateurs\.", users)
    user = _french(client, f"/users/{FIELD_AGENT}", "Réinitialiser le mot de passe de")
    assert "Agent de terrain" in user
    _french(client, f"/users/{FIELD_AGENT}/deactivate", "ne pourra plus se connecter")
    _french(client, f"/users/{FIELD_AGENT}/password", "temporaire n'est plus affiché")


def test_verify_and_performance_pages_in_french(client: TestClient, ctx: AppContext) -> None:
    client.cookies.set("crvshub_lang", "fr")
    page = client.get("/verify", headers={"Accept": "text/html"})
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "Vérifier un acte" in page.text and "Texte du code QR de l" in page.text
    assert "Verify a certificate" not in page.text
    bad = client.get("/verify/not-a-code", headers={"Accept": "text/html"})
    assert bad.status_code == 400, bad.text[:300]
    assert "Ce n&#39;est pas un code d&#39;acte" in bad.text and "Code d" in bad.text
    client.cookies.set("crvshub_session", user_token(ctx, NATLSYSADMIN))
    dashboard = client.get("/performance", headers={"Accept": "text/html"})
    assert dashboard.status_code == 200 and '<html lang="fr">' in dashboard.text
    for words in ("Exhaustivité par district", "Enregistrements par mois",
                  "Bureaux avec le plus de dossiers en attente", "Tout le pays"):
        assert words in dashboard.text, words
    assert "Completeness by district" not in dashboard.text
    # The charts' legends too (drawn as SVG on the server).
    for legend in ("Dans le délai légal", "En retard", "Naissances", "Décès"):
        assert f">{legend}</text>" in dashboard.text, legend
    assert ">Within legal period</text>" not in dashboard.text
    wrong = client.get("/performance?from=soon", headers={"Accept": "text/html"})
    assert wrong.status_code == 400 and "n&#39;est pas une date (AAAA-MM-JJ)" in wrong.text


def test_certificate_print_form_in_french(client: TestClient, ctx: AppContext) -> None:
    _creds, token = new_client(ctx, "HEALTH", name="Harambo District Hospital")
    sent = client.post("/notification", json=fresh_ids(example("birth-full")),
                       headers=bearer(token))
    rid = sent.headers["location"].rsplit("/", 1)[1]
    client.cookies.set("crvshub_lang", "fr")
    client.cookies.set("crvshub_session", user_token(ctx, LOCAL_REGISTRAR))
    form = client.get(f"/records/{rid}/certificate", headers={"Accept": "text/html"})
    assert form.status_code == 200, form.text[:300]
    for words in ("Imprimer l'acte de naissance", "Qui retire l'acte ?",
                  "Carte d&#39;identité nationale", "Frais payés", ">Déclaré<"):
        assert words in form.text, words
    assert "Who is collecting" not in form.text and "DECLARED" not in form.text
