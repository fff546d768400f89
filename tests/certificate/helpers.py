"""Shortcuts for the certificate tests: a registered record, printing, reading PDFs."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import LOCAL_REGISTRAR, REGISTRATION_AGENT, bearer, user_token
from tests.record.helpers import act, birth_bundle, declare


def registered(client: TestClient, ctx: AppContext, bundle: dict[str, Any] | None = None,
               ) -> dict[str, Any]:
    """Declare, validate and register a record through HTTP; return its summary."""
    agent = user_token(ctx, REGISTRATION_AGENT)
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    created = declare(client, agent, bundle or birth_bundle(given="Amani", family="Banda"))
    assert act(client, agent, created["id"], "validate").status_code == 200
    done = act(client, registrar, created["id"], "register")
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    return body


def print_cert(client: TestClient, token: str, record_id: str, **body: Any) -> Any:
    """POST a print request and return the response."""
    return client.post(f"/api/records/{record_id}/certificates",
                       json={"collector": "MOTHER", **body}, headers=bearer(token))


def pdf_text(document: bytes) -> str:
    """Return the text of every page of a PDF (pypdf)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(document))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def qr_texts(document: bytes, scale: float = 3.0) -> list[str]:
    """Render the first page (pdfium) and decode every QR code on it (zxing-cpp)."""
    import pypdfium2
    import zxingcpp

    pdf = pypdfium2.PdfDocument(document)
    try:
        image = pdf[0].render(scale=scale).to_pil()
    finally:
        pdf.close()
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
