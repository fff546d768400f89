"""Structured logs, request ids, Prometheus metrics and the body-size guard."""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from typing import Any

import orjson
import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crvshub.errors import InternalError, PayloadTooLarge
from crvshub.fhir.outcome import outcome_json

REQUEST_ID_HEADER = "X-Request-ID"

HTTP_REQUESTS = Counter(
    "crvshub_http_requests_total",
    "HTTP requests by route, method and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "crvshub_http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_BACKLOG = Gauge(
    "crvshub_outbox_backlog",
    "Outbox rows not yet done, by kind",
    ["kind"],
    multiprocess_mode="livemax",
)
OUTBOX_ATTEMPTS = Counter(
    "crvshub_outbox_attempts_total", "Outbox job attempts by kind and outcome", ["kind", "outcome"]
)
OUTBOX_LATENCY = Histogram(
    "crvshub_outbox_commit_to_attempt_seconds",
    "Delay from commit to first attempt",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
# Counted by the restarted process itself, so it lands in the merged multi-process metrics.
PROCESS_RESTARTS = Counter(
    "crvshub_process_restarts_total",
    "Processes restarted by `crvshub serve` after dying, by kind (api, worker)",
    ["kind"],
)

log = structlog.get_logger("crvshub")


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Send structured logs (JSON lines by default) to standard error."""
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    # JSON lines are rendered by orjson straight to bytes (a log line per request adds up).
    binary = getattr(sys.stderr, "buffer", None)
    renderer: Any = structlog.dev.ConsoleRenderer()
    factory: Any = structlog.PrintLoggerFactory(file=sys.stderr)
    if json and binary is not None:
        renderer = structlog.processors.JSONRenderer(serializer=orjson.dumps)
        factory = structlog.BytesLoggerFactory(file=binary)
    elif json:
        renderer = structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level)),
        logger_factory=factory,
        cache_logger_on_first_use=False,
    )


def metrics_payload() -> tuple[bytes, str]:
    """Render every metric of this process (or all processes in multi-process mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


async def _send_json(send: Send, status: int, body: bytes, request_id: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/fhir+json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class ObservabilityMiddleware:
    """Give each request an id, log it, time it, count it, and cap its body size."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if 0 < len(incoming) <= 128 else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status_holder = {"status": 500}
        limit = self.max_body_bytes
        received = {"bytes": 0}

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject_too_large(scope, send, request_id, limit)
            structlog.contextvars.unbind_contextvars("request_id")
            return

        async def guarded_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received["bytes"] += len(message.get("body", b""))
                if received["bytes"] > limit:
                    raise PayloadTooLarge(f"The request body is over the limit of {limit} bytes")
            return message

        started = {"value": False}

        async def tagged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started["value"] = True
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, guarded_receive, tagged_send)
        except Exception as exc:
            # Last line of defence: a 500 with the correlation id and nothing internal.
            log.error("unhandled_exception", path=scope.get("path"), exc_info=exc)
            if status_holder["status"] != 500 or started["value"]:
                raise
            error = InternalError(f"Internal error; correlation id {request_id}")
            await _send_json(send, 500, orjson.dumps(outcome_json(error, request_id)), request_id)
        finally:
            elapsed = time.perf_counter() - start
            route = _route_of(scope)
            method = scope.get("method", "GET")
            HTTP_REQUESTS.labels(method, route, str(status_holder["status"])).inc()
            HTTP_LATENCY.labels(method, route).observe(elapsed)
            log.info(
                "http_request",
                method=method,
                path=scope.get("path"),
                route=route,
                status=status_holder["status"],
                duration_ms=round(elapsed * 1000, 2),
                client=(scope.get("client") or ("", 0))[0],
            )
            structlog.contextvars.unbind_contextvars("request_id")

    async def _reject_too_large(
        self, scope: Scope, send: Send, request_id: str, limit: int
    ) -> None:
        error = PayloadTooLarge(f"The request body is over the limit of {limit} bytes")
        body = orjson.dumps(outcome_json(error, request_id))
        await _send_json(send, 413, body, request_id)
        HTTP_REQUESTS.labels(scope.get("method", "POST"), "unmatched", "413").inc()

WEBHOOK_ATTEMPTS = Counter(
    "crvshub_webhook_attempts_total",
    "Webhook delivery attempts by outcome (delivered, retry, failed, gone)",
    ["outcome"],
)
WEBHOOK_FAILURES = Counter(
    "crvshub_webhook_failures_total",
    "Failed webhook attempts by reason (http status class, timeout, network, refused)",
    ["reason"],
)
WEBHOOK_LATENCY = Histogram(
    "crvshub_webhook_commit_to_attempt_seconds",
    "Delay from the event's commit to the first delivery attempt",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60, 300),
)
WEBHOOK_RESPONSE_SECONDS = Histogram(
    "crvshub_webhook_attempt_duration_seconds",
    "Duration of one webhook HTTP attempt",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30),
)
WEBHOOK_BACKLOG = Gauge(
    "crvshub_webhook_backlog",
    "Webhook deliveries waiting to be delivered (including retries not yet due)",
    multiprocess_mode="livemax",
)
WEBHOOK_OLDEST_PENDING = Gauge(
    "crvshub_webhook_oldest_pending_seconds",
    "Age of the oldest webhook delivery waiting to be delivered",
    multiprocess_mode="livemax",
)
WEBHOOK_DISABLED = Counter(
    "crvshub_webhook_subscriptions_disabled_total",
    "Subscriptions disabled automatically, by reason (failing, gone)",
    ["reason"],
)
