"""JSON responses in the FHIR media type, serialised with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crvshub.errors import AppError
from crvshub.fhir.outcome import outcome_json

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


def error_response(request: Request, error: AppError) -> Response:
    """Render an AppError as an OperationOutcome response (with the request's correlation id)."""
    request_id = str(request.scope.get("state", {}).get("request_id", ""))
    return FHIRResponse(outcome_json(error, request_id), status_code=error.status,
                        headers=error.headers)
