"""Templates: the death certificate, a country's own template folder, text beyond Latin-1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crvshub.certificate import pdf, templates
from crvshub.context import AppContext
from crvshub.settings import BUILTIN_COUNTRY_DIR
from tests.certificate.helpers import pdf_text, print_cert, qr_texts, registered
from tests.helpers import REGISTRATION_AGENT, bearer, user_token
from tests.record.helpers import birth_bundle

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "examples"
FACTS = {"event": "birth", "registrationNumber": "2026B1234567", "trackingId": "B1234567",
         "subject": {"name": "Łukasz Nowak"}, "gender": "male", "eventDate": "2026-03-01",
         "eventPlace": "Harambo", "mother": {"name": "Zoë Nowak"}, "father": None,
         "office": "Ibombo District Office", "registrar": "Kennedy Mweene",
         "registeredAt": "2026-11-30T10:00:00+00:00"}


def test_death_certificate(client: TestClient, ctx: AppContext) -> None:
    bundle = json.loads((EXAMPLES / "death-minimal.json").read_text())
    record = registered(client, ctx, bundle)
    assert record["event"] == "death"
    agent = user_token(ctx, REGISTRATION_AGENT)
    cert = print_cert(client, agent, record["id"], collector="INFORMANT")
    assert cert.status_code == 201, cert.text
    document = client.get(cert.json()["pdf"], headers=bearer(agent)).content
    text = pdf_text(document)
    assert "Certificate of Death" in text and "Acte de décès" in text
    assert record["registrationNumber"] in text and "Place of death" in text
    assert len(qr_texts(document)) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_country_folder_replaces_the_template(client: TestClient, ctx: AppContext,
                                                tmp_path: Path) -> None:
    folder = tmp_path / "country"
    shutil.copytree(BUILTIN_COUNTRY_DIR, folder)
    path = folder / "certificates" / "birth.json"
    data = json.loads(path.read_text())
    data.update(name="other-birth", languages=["en"],
                country={"en": "Republic of Elsewhere"}, title={"en": "Birth Extract"})
    path.write_text(json.dumps(data))
    ctx.settings = ctx.settings.model_copy(update={"country_dir": folder})
    record = registered(client, ctx, birth_bundle(given="Tendai", family="Moyo"))
    agent = user_token(ctx, REGISTRATION_AGENT)
    cert = print_cert(client, agent, record["id"]).json()
    assert cert["template"] == "other-birth"
    text = pdf_text(client.get(cert["pdf"], headers=bearer(agent)).content)
    assert "REPUBLIC OF ELSEWHERE" in text and "Birth Extract" in text
    assert "Acte de naissance" not in text and "Tendai Moyo" in text


def test_names_beyond_latin_1_are_printed_or_transliterated() -> None:
    template = templates.load(BUILTIN_COUNTRY_DIR, "birth")
    printed = pdf.Printed(FACTS, "ABCDEFGHJKLM", "2026-11-30", 1, "http://x/verify/a.b.c",
                          "http://x/verify")
    text = pdf_text(pdf.render(template, printed))
    if pdf._unicode_font() is not None:
        assert "Łukasz Nowak" in text
    else:
        assert "Lukasz Nowak" in text
    assert "Zoë Nowak" in text


def test_a_template_without_its_first_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(templates.TemplateError):
        templates.parse({"languages": ["en"], "country": {"fr": "X"}}, tmp_path)
