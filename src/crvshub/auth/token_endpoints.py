"""The OAuth2 token endpoint: client credentials from the query, a form, JSON or HTTP Basic."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from crvshub.auth import token_service
from crvshub.auth.errors import OAuthError, OAuthInvalidRequest
from crvshub.deps import ContextDep
from crvshub.fhir.responses import FastJSONResponse
from crvshub.net import client_address

router = APIRouter(tags=["authentication"])

ERROR_URI = "Refer to https://documentation.opencrvs.org/technology/interoperability/authenticate-a-client"
PARAMETERS = ("grant_type", "client_id", "client_secret", "scope")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class ParsedTokenRequest:
    """A token request, or the reason it could not be read."""

    request: token_service.TokenRequest | None = None
    error: OAuthError | None = None


class _Conflict(Exception):
    """A parameter was given twice with different values."""


def _merge(found: dict[str, str], name: str, value: str) -> None:
    if name in found and found[name] != value:
        raise _Conflict(name)
    found[name] = value


def _from_pairs(found: dict[str, str], pairs: list[tuple[str, str]]) -> None:
    for name, value in pairs:
        if name in PARAMETERS:
            _merge(found, name, value)


def _body_pairs(content_type: str, body: bytes) -> list[tuple[str, str]]:
    if not body.strip():
        return []
    if content_type.startswith("application/x-www-form-urlencoded"):
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    if content_type.startswith("application/json") or content_type.endswith("+json"):
        data = orjson.loads(body)
        if not isinstance(data, dict) or not all(
            isinstance(data[k], str) for k in PARAMETERS if k in data
        ):
            raise ValueError("the JSON body must be an object of strings")
        return [(k, data[k]) for k in PARAMETERS if k in data]
    raise ValueError("send the parameters as application/x-www-form-urlencoded or JSON")


def _basic_pairs(header: str) -> list[tuple[str, str]]:
    if header[:6].lower() != "basic ":
        return []
    decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ValueError("HTTP Basic credentials must be client_id:client_secret")
    # RFC 6749 section 2.3.1: both parts are form-encoded before base64.
    return [("client_id", unquote_plus(client_id)), ("client_secret", unquote_plus(secret))]


async def parse_token_request(request: Request) -> ParsedTokenRequest:
    """Read the token parameters from the query string, the body and the Authorization header."""
    found: dict[str, str] = {}
    try:
        query = list(request.query_params.multi_items())
        _from_pairs(found, query)
        secret_in_query = any(name == "client_secret" for name, _ in query)
        body = await request.body()
        _from_pairs(found, _body_pairs(request.headers.get("content-type", ""), body))
        _from_pairs(found, _basic_pairs(request.headers.get("authorization", "")))
    except _Conflict as conflict:
        return ParsedTokenRequest(error=OAuthInvalidRequest(
            f"The parameter {conflict.args[0]} was given more than once with different values."
        ))
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        return ParsedTokenRequest(error=OAuthInvalidRequest(f"Unreadable request: {exc}"))
    return ParsedTokenRequest(request=token_service.TokenRequest(
        grant_type=found.get("grant_type"),
        client_id=found.get("client_id"),
        client_secret=found.get("client_secret"),
        scope=found.get("scope"),
        secret_in_query=secret_in_query,
    ))


def oauth_error_response(error: OAuthError) -> Response:
    """Render an OAuthError as RFC 6749 JSON with its status and headers."""
    headers = {**NO_STORE, **error.headers, "X-Error-Code": error.code}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="crvshub", charset="UTF-8"'
    body = {"error": error.oauth_error, "error_description": error.message, "error_uri": ERROR_URI}
    return FastJSONResponse(body, status_code=error.status, headers=headers)


@router.post("/token", summary="Get an access token with the client credentials grant")
@router.post("/oauth2/token", summary="Get an access token (RFC 6749 path)")
@router.post("/auth/token", summary="Get an access token (OpenCRVS v1.7+ gateway path)")
async def token(request: Request, ctx: ContextDep) -> Response:
    """Exchange a client_id and client_secret for a short-lived Bearer token."""
    # No SessionDep: the service reads the database (in its own short transaction) only when
    # the client is not in its one-second memories, and writes only failures (in their own).
    parsed = await parse_token_request(request)
    address = client_address(request)
    try:
        if parsed.error is not None:
            raise parsed.error
        assert parsed.request is not None
        issued = await token_service.issue(ctx, parsed.request, address)
    except OAuthError as error:
        return oauth_error_response(error)
    return FastJSONResponse(
        {"access_token": issued.access_token, "token_type": "Bearer",
         "expires_in": issued.expires_in},
        headers=NO_STORE,
    )
