"""FHIR Bundle builders: searchset and history, with paging links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from crvshub.db import new_id, utcnow


def page_url(base: str, params: list[tuple[str, str]], token: str | None = None) -> str:
    """Return a search URL with the given parameters and, for another page, its token."""
    kept = [(k, v) for k, v in params if k != "_page"]
    if token:
        kept.append(("_page", token))
    return f"{base}?{urlencode(kept)}" if kept else base


def search_links(
    base: str, params: list[tuple[str, str]], next_token: str | None
) -> list[dict[str, str]]:
    """Return the self, first and (when there is one) next links of a search result."""
    links = [
        {"relation": "self", "url": page_url(base, params, dict(params).get("_page"))},
        {"relation": "first", "url": page_url(base, params)},
    ]
    if next_token:
        links.append({"relation": "next", "url": page_url(base, params, next_token)})
    return links


def searchset(
    entries: list[tuple[str, dict[str, Any]]],
    total: int,
    links: list[dict[str, str]],
    *,
    search_mode: bool = True,
) -> dict[str, Any]:
    """Return a searchset Bundle of (fullUrl, resource) entries."""
    return {
        "resourceType": "Bundle",
        "id": new_id(),
        "meta": {"lastUpdated": utcnow().isoformat()},
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {
                "fullUrl": url,
                "resource": resource,
                **({"search": {"mode": "match"}} if search_mode else {}),
            }
            for url, resource in entries
        ],
    }


def history(
    entries: list[tuple[str, dict[str, Any], str]], total: int, links: list[dict[str, str]]
) -> dict[str, Any]:
    """Return a history Bundle of (fullUrl, resource, method) entries, newest first."""
    items = []
    for url, resource, method in entries:
        meta = resource.get("meta", {})
        items.append(
            {
                "fullUrl": url,
                "resource": resource,
                "request": {
                    "method": method,
                    "url": f"{resource['resourceType']}/{resource['id']}",
                },
                "response": {
                    "status": "201 Created" if method == "POST" else "200 OK",
                    "etag": f'W/"{meta.get("versionId")}"',
                    "lastModified": meta.get("lastUpdated"),
                },
            }
        )
    return {
        "resourceType": "Bundle",
        "id": new_id(),
        "meta": {"lastUpdated": utcnow().isoformat()},
        "type": "history",
        "total": total,
        "link": links,
        "entry": items,
    }
