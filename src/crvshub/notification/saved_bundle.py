"""Build the saved record bundle: server ids, rewritten references, tracking ID and status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from crvshub.db import new_id
from crvshub.fhir.references import rewrite_references
from crvshub.notification import domain
from crvshub.notification.places import StoredPlace
from crvshub.notification.validation_rules import CheckedNotification
from crvshub.record.domain import REG_STATUS_SYSTEM, Event, tracking_id_system

JSON = dict[str, Any]


def build_saved_bundle(
    checked: CheckedNotification, *, record_id: str, tracking_id: str, status: str,
    system: JSON, now: datetime,
) -> JSON:
    """Return the document bundle as stored: every resource gets a server id."""
    source = checked.parsed.bundle
    entries: list[JSON] = orjson.loads(orjson.dumps(source["entry"]))
    urls: dict[str, str] = {}
    ids: list[str] = []
    for index, item in enumerate(entries):
        resource_id = record_id if index == 0 else new_id()
        ids.append(resource_id)
        urls[item["fullUrl"]] = f"urn:uuid:{resource_id}"
    saved = []
    for item, resource_id in zip(entries, ids, strict=True):
        resource = item["resource"]
        rewrite_references(resource, urls)
        resource["id"] = resource_id
        saved.append({"fullUrl": f"urn:uuid:{resource_id}", "resource": resource})
    stamp = now.isoformat().replace("+00:00", "Z")
    _stamp_composition(saved[0]["resource"], tracking_id, stamp)
    _stamp_task(saved[1]["resource"], checked, tracking_id=tracking_id, status=status,
                system=system, stamp=stamp)
    return {"resourceType": "Bundle", "type": "document", "meta": {"lastUpdated": stamp},
            "entry": saved}


def _stamp_composition(composition: JSON, tracking_id: str, stamp: str) -> None:
    composition["identifier"] = {"system": domain.COMPOSITION_IDENTIFIER_SYSTEM,
                                 "value": tracking_id}
    composition.setdefault("date", stamp)


def _stamp_task(
    task: JSON, checked: CheckedNotification, *, tracking_id: str, status: str, system: JSON,
    stamp: str,
) -> None:
    event = Event(checked.event)
    given = task.get("identifier")
    kept = [i for i in (given if isinstance(given, list) else []) if isinstance(i, dict)
            and i.get("system") not in (tracking_id_system(event), domain.SYSTEM_IDENTIFIER)]
    task["identifier"] = [
        *kept,
        {"system": tracking_id_system(event), "value": tracking_id},
        {"system": domain.SYSTEM_IDENTIFIER,
         "value": orjson.dumps(system).decode()},
    ]
    task["businessStatus"] = {"coding": [{"system": REG_STATUS_SYSTEM, "code": status}]}
    task["lastModified"] = stamp
    task["extension"] = _office_extensions(task.get("extension") or [], checked.office)


def _office_extensions(extensions: list[Any], office: StoredPlace) -> list[Any]:
    # Stored records always name the office and its area by id, whatever form the client used.
    out = [e for e in extensions
           if not (isinstance(e, dict) and e.get("url") in (domain.REG_LAST_OFFICE,
                                                            domain.REG_LAST_LOCATION))]
    out.append({"url": domain.REG_LAST_OFFICE,
                "valueReference": {"reference": f"Location/{office.id}"}})
    if office.part_of_id:
        out.append({"url": domain.REG_LAST_LOCATION,
                    "valueReference": {"reference": f"Location/{office.part_of_id}"}})
    return out
