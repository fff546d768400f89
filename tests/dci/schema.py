"""Validate DCI messages against the standard's OpenAPI (tests/dci/standard/README.md)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

STANDARD = Path(__file__).parent / "standard"


@functools.cache
def document() -> dict[str, Any]:
    """Return the registry core API, with the corrections the README lists."""
    raw = yaml.safe_load((STANDARD / "registry_core_api_v1.0.0.yaml").read_text())
    doc: dict[str, Any] = copy.deepcopy(raw)
    schemas = doc["components"]["schemas"]
    schemas["RegistryRecord"] = {"type": "array", "items": {"type": "object"}}
    schemas["UnSubscribeRequest"]["required"] = ["transaction_id", "subscription_codes"]
    schemas["SubscriptionInfo"]["required"] = ["code"]
    schemas["TxnStatusResponse"]["properties"]["txnstatus_response"].pop("$ref", None)
    schemas["AttributeValue"] = {"anyOf": schemas["AttributeValue"]["oneOf"]}
    schemas["RegistryQueries"] = {"anyOf": schemas["RegistryQueries"]["oneOf"]}
    value = schemas["TxnStatusRequest"]["properties"]["txnstatus_request"]["properties"][
        "attribute_value"]
    value["anyOf"] = value.pop("oneOf")
    return doc


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@functools.cache
def _validator(pointer: str) -> Draft202012Validator:
    schema = {**document(), "$ref": pointer}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _check(pointer: str, body: Any) -> None:
    errors = sorted(_validator(pointer).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        details = "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:5])
        raise AssertionError(f"not valid against {pointer}:\n{details}\n"
                             f"{json.dumps(body)[:1500]}")


def request(path: str, body: Any) -> None:
    """Assert a request body is valid for a path of the registry core API."""
    _check(_pointer("paths", path, "post", "requestBody", "content", "application/json",
                    "schema"), body)


def response(path: str, body: Any) -> None:
    """Assert a 2xx response body is valid for a path (its `default` response)."""
    answer = document()["paths"][path]["post"]["responses"]["default"]
    if "$ref" in answer:  # the ACK `Response`
        _check("#/components/responses/Response/content/application~1json/schema", body)
    else:
        _check(_pointer("paths", path, "post", "responses", "default", "content",
                        "application/json", "schema"), body)


def error(body: Any) -> None:
    """Assert an error body is the standard's HttpErrorResponse or an ERR acknowledgement."""
    if "errors" in body:
        _check("#/components/responses/HttpErrorResponse/content/application~1json/schema",
               body)
    else:
        _check("#/components/responses/Response/content/application~1json/schema", body)
        assert body["message"]["ack_status"] == "ERR"


def schema(name: str, body: Any) -> None:
    """Assert a value is valid against a component schema."""
    _check(_pointer("components", "schemas", name), body)
