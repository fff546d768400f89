"""JSON responses in the FHIR media type, serialised with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

FHIR_JSON = "application/fhir+json"


class FHIRResponse(JSONResponse):
    """A response whose body is a FHIR resource (`application/fhir+json`)."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class FastJSONResponse(JSONResponse):
    """Plain `application/json`, serialised with orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
