"""The OAuth2 client-credentials grant: check the request, throttle, verify, issue a token."""

from __future__ import annotations

import time
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from crvshub.auth import crypto, service
from crvshub.auth.cutoff import ClientFacts, credential_cache
from crvshub.auth.errors import (
    OAuthInvalidClient,
    OAuthInvalidRequest,
    OAuthInvalidScope,
    OAuthThrottled,
    OAuthUnsupportedGrant,
)
from crvshub.auth.ratelimit import limits_of, retry_after_header
from crvshub.auth.throttle import Counts, Key, key_for, throttle_of
from crvshub.context import AppContext

GRANT_TYPE = "client_credentials"
# Anything longer cannot be one of ours; refuse it before touching the database.
CLIENT_ID_MAX = 128
CLIENT_SECRET_MAX = 512
UNKNOWN_CLIENT = "crvshub-no-such-client"


@dataclass(frozen=True)
class TokenRequest:
    """The parameters of a token request, wherever the client put them."""

    grant_type: str | None
    client_id: str | None
    client_secret: str | None
    scope: str | None = None
    secret_in_query: bool = False


@dataclass(frozen=True)
class IssuedToken:
    """An access token and its lifetime."""

    access_token: str
    expires_in: int


async def issue(ctx: AppContext, request: TokenRequest, address: str | None) -> IssuedToken:
    """Answer a client-credentials token request or raise an OAuthError.

    The client's facts and the failures of its (client_id, address) pair usually come from
    one-second memories, so the request is answered on the event loop; otherwise they are read
    in a worker thread with one short read transaction. Only failures (and the first success
    after them) write, each in its own short transaction.
    """
    client_id, secret = _admit(ctx, request)
    throttle = throttle_of(ctx)
    key = key_for("client", client_id, address)
    facts, counts = await _facts_and_failures(ctx, client_id, secret, key)
    wait = throttle.wait(counts, key)
    if wait > 0:
        raise OAuthThrottled(headers=retry_after_header(wait))
    if ctx.keys.stale():
        await run_in_threadpool(_reload_keys, ctx)
    client = _verify(ctx, facts, secret)
    if client is None:
        too_early = await run_in_threadpool(throttle.fail, key)
        if too_early > 0:
            raise OAuthThrottled(headers=retry_after_header(too_early))
        raise OAuthInvalidClient()
    if throttle.had_failures(counts, key):
        await run_in_threadpool(throttle.succeed, key)
    # Counted only once the secret is proven, so nobody can use up another client's rate.
    wait = limits_of(ctx).token_requests.take(client.id)
    if wait:
        raise OAuthThrottled(headers=retry_after_header(wait))
    return _grant(ctx, client, request.scope)


async def _facts_and_failures(
    ctx: AppContext, client_id: str, secret: str, key: Key
) -> tuple[ClientFacts | None, Counts]:
    """Return the client's facts and its pair's failures, from memory when both are fresh.

    Both memories are filled in the same trip to the database, so a busy client costs one trip
    a second, not two.
    """
    too_long = len(client_id) > CLIENT_ID_MAX or len(secret) > CLIENT_SECRET_MAX
    cached, facts = (True, None) if too_long else credential_cache(ctx).peek(client_id)
    counts = throttle_of(ctx).remembered(key)
    if cached and counts is not None:
        return facts, counts
    return await run_in_threadpool(_load, ctx, None if too_long else client_id, key)


def _load(ctx: AppContext, client_id: str | None, key: Key) -> tuple[ClientFacts | None, Counts]:
    with ctx.db.transaction() as session:
        # Both memories get (almost) the same timestamp, so they go stale together.
        stamp = time.monotonic()
        facts = None if client_id is None else credential_cache(ctx).lookup(session, client_id)
        return facts, throttle_of(ctx).read(session, key, stamp=stamp)


def _admit(ctx: AppContext, request: TokenRequest) -> tuple[str, str]:
    """Check the parameters; return the client id and secret."""
    if not (request.grant_type and request.client_id and request.client_secret):
        raise OAuthInvalidRequest()
    if request.grant_type != GRANT_TYPE:
        raise OAuthUnsupportedGrant()
    if request.secret_in_query and not ctx.settings.token_query_credentials:
        raise OAuthInvalidRequest(
            "Send client_id and client_secret in the request body or with HTTP Basic "
            "authentication: this server does not accept secrets in the URL."
        )
    return request.client_id, request.client_secret


def _reload_keys(ctx: AppContext) -> None:
    # Picks up a key rotated by another process, so new tokens use the new key.
    with ctx.db.transaction() as session:
        ctx.keys.load(session)


def _load_facts(ctx: AppContext, client_id: str) -> ClientFacts | None:
    with ctx.db.transaction() as session:
        return credential_cache(ctx).lookup(session, client_id)


def _verify(ctx: AppContext, facts: ClientFacts | None, secret: str) -> ClientFacts | None:
    """Return the client if active and the secret matches; the same work if it does not exist."""
    pepper = ctx.settings.derived_key("client-secret")
    stored = facts.secret_hash if facts else crypto.hash_secret(UNKNOWN_CLIENT, pepper)
    matches = crypto.secret_matches(secret[:CLIENT_SECRET_MAX], stored, pepper)
    if facts is None or not matches or facts.status != "active":
        return None
    return facts


def _grant(ctx: AppContext, client: ClientFacts, scope: str | None) -> IssuedToken:
    wanted = scope.split() if scope and scope.strip() else None
    if wanted is not None:
        extra = set(wanted) - set(service.client_scopes(ctx.settings, client.type))
        if extra:
            raise OAuthInvalidScope(
                f"The requested scope is not granted to this client: {' '.join(sorted(extra))}"
            )
    token, ttl = service.issue_token_for_client(
        ctx.settings, ctx.keys, row_id=client.id, client_id=client.client_id,
        client_type=client.type, scopes=wanted,
    )
    return IssuedToken(token, ttl)
