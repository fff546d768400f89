"""The CapabilityStatement: built from what each feature declares, so it never over-promises."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crvshub.db import utcnow

FHIR_VERSION = "4.0.1"


@dataclass(frozen=True)
class SearchParam:
    """One supported search parameter."""

    name: str
    type: str
    documentation: str


@dataclass(frozen=True)
class ResourceCapability:
    """What the server supports for one resource type."""

    type: str
    interactions: tuple[str, ...]
    search_params: tuple[SearchParam, ...]
    versioning: str = "versioned"
    read_history: bool = True
    update_create: bool = False
    conditional_create: bool = False
    conditional_update: bool = False
    conditional_delete: str = "not-supported"
    search_include: tuple[str, ...] = ()
    documentation: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One supported operation: at system level, or on one resource type (`resource`)."""

    name: str
    definition: str
    resource: str | None = None
    documentation: str = ""

    def json(self) -> dict[str, Any]:
        """Return the operation as a CapabilityStatement `operation` entry."""
        found: dict[str, Any] = {"name": self.name, "definition": self.definition}
        if self.documentation:
            found["documentation"] = self.documentation
        return found


def _resource(cap: ResourceCapability) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": cap.type,
        "interaction": [{"code": code} for code in cap.interactions],
        "versioning": cap.versioning,
        "readHistory": cap.read_history,
        "updateCreate": cap.update_create,
        "conditionalCreate": cap.conditional_create,
        "conditionalRead": "not-supported",
        "conditionalUpdate": cap.conditional_update,
        "conditionalDelete": cap.conditional_delete,
        "searchParam": [
            {"name": p.name, "type": p.type, "documentation": p.documentation}
            for p in cap.search_params
        ],
    }
    if cap.documentation:
        body["documentation"] = cap.documentation
    return {**body, **cap.extra}


def capability_statement(
    base_url: str, software_version: str, resources: Iterable[ResourceCapability],
    operations: Iterable[Operation] = (),
) -> dict[str, Any]:
    """Return the server's CapabilityStatement (FHIR R4, JSON only) for these resource types."""
    entries = [_resource(cap) for cap in sorted(resources, key=lambda c: c.type)]
    system: list[dict[str, Any]] = []
    for operation in operations:
        target = next((e for e in entries if e["type"] == operation.resource), None)
        if operation.resource is None or target is None:
            system.append(operation.json())
        else:
            target.setdefault("operation", []).append(operation.json())
    rest: dict[str, Any] = {"mode": "server", "resource": entries}
    if system:
        rest["operation"] = system
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": utcnow().date().isoformat(),
        "publisher": "CRVS Hub",
        "kind": "instance",
        "software": {"name": "CRVS Hub", "version": software_version},
        "implementation": {"description": "CRVS Hub FHIR API", "url": f"{base_url}/fhir"},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [rest],
    }
