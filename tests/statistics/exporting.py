"""Helpers of the export tests: run the worker until an export is done, read its files."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.outbox.worker import Worker
from tests.helpers import bearer

ASYNC = {"Prefer": "respond-async"}


def finish_export(client: TestClient, ctx: AppContext, token: str,
                  status_url: str) -> tuple[Any, list[str]]:
    """Run the worker until the export is done, polling its status; return the manifest."""
    worker = Worker(ctx)
    progress = []
    try:
        for _ in range(400):
            answer = client.get(status_url, headers=bearer(token))
            if answer.status_code == 200:
                return answer.json(), progress
            assert answer.status_code == 202, answer.text
            progress.append(answer.headers["X-Progress"])
            worker.run_once()
    finally:
        worker.close()
    raise AssertionError("the export did not finish")


def ndjson_lines(client: TestClient, token: str, url: str) -> list[dict[str, Any]]:
    """Download one NDJSON file of an export and return its resources."""
    answer = client.get(url, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+ndjson")
    return [json.loads(line) for line in answer.text.splitlines() if line]
