"""Build the ASGI application: routers, middleware, error handlers and lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from crvshub import __version__
from crvshub.composition import build_context, routers
from crvshub.context import AppContext
from crvshub.errors import (
    AppError,
    BadRequest,
    DatabaseUnavailable,
    InternalError,
    InvalidParameter,
    MethodNotAllowed,
    NotFound,
    UnstorableValue,
)
from crvshub.fhir.responses import error_response
from crvshub.head import HeadAsGet
from crvshub.net import ProxyHeadersMiddleware
from crvshub.observability import ObservabilityMiddleware, configure_logging
from crvshub.outbox.worker import Worker
from crvshub.settings import Settings, get_settings
from crvshub.web.pages import PageExit, error_page, page_exit_response, wants_page

log = structlog.get_logger("crvshub")


def _respond(request: Request, error: AppError) -> Response:
    """Answer an error as a page to a browser on the staff UI, else as an OperationOutcome."""
    if wants_page(request):
        return error_page(request, None, error)
    return error_response(request, error)


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return _respond(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    from crvshub.errors import Issue

    issues = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = ".".join(loc)
        if err.get("type") == "json_invalid":
            issues.append(
                Issue(BadRequest.code, f"Malformed JSON: {err.get('msg')}", where, "structure")
            )
        else:
            issues.append(
                Issue(InvalidParameter.code, f"{where}: {err.get('msg')}", where, "value")
            )
    return _respond(request, InvalidParameter(issues=issues))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: AppError
    if exc.status_code == 404:
        error = NotFound(f"No resource at {request.url.path}")
    elif exc.status_code == 405:
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    else:
        error = InvalidParameter(str(exc.detail))
        error.status = exc.status_code  # type: ignore[misc]
    return _respond(request, error)


async def _data_error(request: Request, exc: Exception) -> Response:
    # The database refused a value the request supplied (NUL in text, number out of range):
    # a client error, and the transaction has already been rolled back.
    log.warning("database_refused_value", path=request.url.path, error=type(exc).__name__)
    return _respond(request, UnstorableValue(
        "The request contains a value the database cannot store (for example a NUL "
        "character or a number out of range): remove it and retry"))


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    # Connection lost, database restarting, lock timeout: nothing was committed, and the
    # caller can safely retry (notifications are idempotent).
    log.error("database_unavailable", path=request.url.path, error=type(exc).__name__,
              detail=str(exc).splitlines()[0] if str(exc) else "")
    return _respond(request, DatabaseUnavailable(
        "The database is unavailable for a moment; nothing was saved. Retry shortly",
        headers={"Retry-After": "5"}))


async def _unexpected(request: Request, exc: Exception) -> Response:
    rid = _request_id(request)
    log.error("unhandled_exception", path=request.url.path, exc_info=exc)
    return _respond(request, InternalError(f"Internal error; correlation id {rid}"))


def _warm(app: FastAPI, ctx: AppContext) -> None:
    """Do before the first request the work the first requests would otherwise pay for.

    FastAPI prepares each route (dependencies, parameter models) when a request first walks
    past it: about 0.5 s for all of CRVS Hub's routes, which the first hospital to notify after
    a restart would wait for. The location tree and the known name terms (hundreds of
    milliseconds at a million records, for the first name searched) are loaded for the same
    reason.

    What is loaded then lives as long as the process: it is moved out of the garbage
    collector's sight (`gc.freeze`). A full collection walks every object the collector
    tracks, and at a million records the known name terms alone are hundreds of thousands:
    a search that happened to trigger one waited 40-60 ms for it.
    """
    def walk(routes: list[Any]) -> None:
        for route in routes:
            candidates = getattr(route, "effective_candidates", None)
            if callable(candidates):
                walk(candidates())

    walk(list(app.router.routes))
    ctx.location_cache.snapshot()
    with ctx.db.reader() as session:
        ctx.vocabulary.catch_up(session)
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, start_worker: bool | None = None) -> FastAPI:
    """Create the CRVS Hub application for the given settings."""
    settings = settings or get_settings()
    settings.check_secrets()
    configure_logging(settings.log_level, json=settings.log_json)
    ctx = build_context(settings)
    run_worker = settings.embedded_worker if start_worker is None else start_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ctx.db.transaction() as session:
            ctx.keys.ensure(session)
        if settings.warm_start:
            await anyio.to_thread.run_sync(_warm, app, ctx)
        worker = Worker(ctx) if run_worker else None
        if worker:
            worker.start()
        app.state.worker = worker
        log.info("crvshub_started", version=__version__, database=ctx.db.engine.url.drivername)
        yield
        if worker:
            worker.stop()
        ctx.db.dispose()

    app = FastAPI(
        title="CRVS Hub",
        version=__version__,
        lifespan=lifespan,
        # The API description helps attackers map the surface; published only when asked for.
        docs_url="/documentation" if settings.public_docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.public_docs else None,
        description="Civil registration interoperability server, wire-compatible with the "
        "OpenCRVS v1.x interoperability APIs.",
    )
    app.state.ctx = ctx
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(PageExit, page_exit_response)
    app.add_exception_handler(Exception, _unexpected)
    for router in routers():
        app.include_router(router)
    static_dir = Path(__file__).parent / "web" / "static"
    app.mount("/static", StaticFiles(directory=str(static_dir)), name="static")
    app.add_middleware(HeadAsGet)
    app.add_middleware(ObservabilityMiddleware, max_body_bytes=settings.max_body_bytes)
    # Outermost, so logs, limits and links all see the caller behind a trusted proxy.
    app.add_middleware(ProxyHeadersMiddleware, trusted=settings.trusted_proxies)
    return app
