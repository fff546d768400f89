"""Stable ids of the resources of a stored document bundle, for FHIR reads of each one."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

# Resources stored without an id get uuid5("<record id>|<fullUrl>") in this namespace.
ID_NAMESPACE = uuid.UUID("6d0b5d0e-6b1f-5f3e-9c55-2f3c2a1f9e41")


_NAMESPACE_BYTES = ID_NAMESPACE.bytes


def stable_id(record_id: str, full_url: str) -> str:
    """Return the id of a resource stored without one (the same on every read).

    The same value as `uuid.uuid5(ID_NAMESPACE, ...)`, computed without building UUID objects
    (a bulk export derives millions of them).
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{record_id}|{full_url}".encode(),
                                    usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def entry_id(record_id: str, entry: dict[str, Any]) -> str:
    """Return the id a bundle entry's resource is served under: its own, else a stable one."""
    resource = entry.get("resource")
    own = resource.get("id") if isinstance(resource, dict) else None
    return str(own) if own else stable_id(record_id, str(entry.get("fullUrl") or ""))
