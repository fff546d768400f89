"""DCI test helpers: a social-protection client, envelopes, registered records."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.dci import schema
from tests.helpers import bearer, new_client
from tests.notification.helpers import example, fresh_ids
from tests.record.graphql_helpers import birth, notify, register

STANDARD_SAMPLE = schema.STANDARD


def sample(name: str) -> dict[str, Any]:
    """Return one of the standard's vendored sample messages."""
    data: dict[str, Any] = json.loads((STANDARD_SAMPLE / f"{name}.json").read_text())
    return data


def sp_client(ctx: AppContext, quota: int = 2000) -> tuple[str, str, str]:
    """Create a RECORD_SEARCH client: (row id, client_id, token)."""
    creds, token = new_client(ctx, "RECORD_SEARCH", name=f"SP {uuid.uuid4().hex[:6]}",
                              daily_quota=quota)
    return creds.client.id, creds.client.client_id, token


def now_ts() -> str:
    """Return the current instant in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def header(sender: str, action: str = "search", total: int = 1, **extra: Any) -> dict[str, Any]:
    """Return a `MsgHeader_V1.0.0`."""
    return {"version": "1.0.0", "message_id": str(uuid.uuid4()), "message_ts": now_ts(),
            "action": action, "sender_id": sender, "receiver_id": "crvshub",
            "total_count": total, "is_msg_encrypted": False, **extra}


def item(query_type: str, query: Any, reference: str = "r1", **criteria: Any,
         ) -> dict[str, Any]:
    """Return one `search_request` item."""
    return {"reference_id": reference, "timestamp": now_ts(),
            "search_criteria": {"version": "1.0.0", "reg_type": "ns:org:RegistryType:Civil",
                                "query_type": query_type, "query": query, **criteria},
            "locale": "eng"}


def search_body(sender: str, *items: dict[str, Any], action: str = "search",
                **extra: Any) -> dict[str, Any]:
    """Return a search envelope."""
    return {"header": header(sender, action, len(items), **extra),
            "message": {"transaction_id": f"txn-{uuid.uuid4().hex[:8]}",
                        "search_request": list(items)}}


def post(client: TestClient, token: str, path: str, body: Any) -> Any:
    """POST a DCI envelope, checking the request against the standard first when valid."""
    return client.post(path, json=body, headers=bearer(token))


def registered_birth(client: TestClient, ctx: AppContext, **kwargs: Any) -> str:
    """Notify and register a birth; return its record id."""
    record_id = notify(client, ctx, birth(**kwargs))
    register(client, ctx, record_id)
    return record_id


def death_bundle(given: str = "Peter", nid: str = "5555444433") -> dict[str, Any]:
    """Return a full death notification with the deceased's name and national ID."""
    bundle = fresh_ids(example("death-full"))
    deceased = next(e["resource"] for e in bundle["entry"]
                    if e["resource"]["resourceType"] == "Patient")
    deceased["name"] = [{"use": "en", "given": [given], "family": "Zulu"}]
    deceased["identifier"][0]["value"] = nid
    return bundle


def registration_number(ctx: AppContext, record_id: str) -> str:
    """Return a record's registration number."""
    from crvshub.record import service as record_service

    with ctx.db.transaction() as session:
        record = record_service.find(session, record_id)
        assert record is not None and record.registration_number
        return record.registration_number
