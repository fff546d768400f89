"""A reference national ID system to test the registration hook against (`crvshub nid-sim`).

It behaves like a MOSIP integration does for OpenCRVS: it accepts the hook call with 202,
keeps the record-scoped token, and a moment later answers through GraphQL with
`confirmRegistration` (a generated national ID for the child) or `rejectRegistration` when a
configurable rule says so. Its answer is retried until CRVS Hub takes it, and the link to
the record is kept until then.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import typer
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse

RULES = ("never", "always", "missing-parent-id")
IDENTIFIER_TYPE_SYSTEM = "http://opencrvs.org/specs/identifier-type"
CONFIRM = (
    "mutation confirm($id: ID!, $details: ConfirmRegistrationInput!) "
    "{ confirmRegistration(id: $id, details: $details) }"
)
REJECT = (
    "mutation reject($id: ID!, $details: RejectRegistrationInput!) "
    "{ rejectRegistration(id: $id, details: $details) }"
)


@dataclass
class SimConfig:
    """How the simulator answers."""

    crvshub_url: str
    delay: float = 1.0
    reject_when: str = "never"
    answer_attempts: int = 10


@dataclass
class Transaction:
    """One registration the simulator accepted, and what became of it."""

    id: str
    record_id: str
    tracking_id: str
    event: str
    decision: str
    reason: str | None = None
    national_id: str | None = None
    answered: bool = False
    attempts: int = 0
    last_error: str | None = None
    token: str = field(default="", repr=False)

    def public(self) -> dict[str, Any]:
        """Return the transaction without its token."""
        return {k: v for k, v in self.__dict__.items() if k != "token"}


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e.get("resource", {}) for e in bundle.get("entry", []) if isinstance(e, dict)]


def _section(bundle: dict[str, Any], code: str) -> dict[str, Any] | None:
    by_url = {e.get("fullUrl"): e.get("resource", {}) for e in bundle.get("entry", [])}
    for section in _entries(bundle)[0].get("section", []):
        if any(c.get("code") == code for c in section.get("code", {}).get("coding", [])):
            for item in section.get("entry", []):
                found = by_url.get(item.get("reference"))
                if found:
                    return dict(found)
    return None


def has_national_id(patient: dict[str, Any] | None) -> bool:
    """Tell whether a Patient carries a NATIONAL_ID identifier (coding or legacy form)."""
    for identifier in (patient or {}).get("identifier", []):
        kind = identifier.get("type")
        codes = (
            [kind]
            if isinstance(kind, str)
            else [c.get("code") for c in (kind or {}).get("coding", [])]
        )
        if "NATIONAL_ID" in codes and identifier.get("value"):
            return True
    return False


def decide(bundle: dict[str, Any], rule: str, event: str) -> str | None:
    """Return a rejection reason under the rule, or None to confirm."""
    if rule == "always":
        return "The national ID system rejects every registration (simulator rule 'always')"
    if rule == "missing-parent-id" and event == "birth":
        parents = [_section(bundle, "mother-details"), _section(bundle, "father-details")]
        if not any(has_national_id(p) for p in parents):
            return "No parent has a national ID: the child cannot be linked to a parent"
    return None


def new_national_id() -> str:
    """Return a random 10-digit national ID number (no leading zero)."""
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(9))


def _describe(bundle: dict[str, Any]) -> tuple[str, str, str]:
    resources = _entries(bundle)
    record_id = str(resources[0].get("id", ""))
    task = resources[1] if len(resources) > 1 else {}
    for identifier in task.get("identifier", []):
        system = str(identifier.get("system", ""))
        if system.endswith("-tracking-id"):
            event = system.rsplit("/", 1)[-1].removesuffix("-tracking-id")
            return record_id, str(identifier.get("value")), event
    return record_id, "", "birth"


class NidSimulator:
    """The simulator: an ASGI app plus the background answers it sends."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.transactions: dict[str, Transaction] = {}
        self._lock = threading.Lock()
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="CRVS Hub national ID simulator")

        @app.post("/event-registration")
        async def event_registration(request: Request) -> JSONResponse:
            """Accept a record from the registration hook and answer later."""
            bundle = await request.json()
            token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            transaction = self.accept(bundle, token)
            return JSONResponse({"transactionId": transaction.id}, status_code=202)

        @app.get("/transactions")
        def transactions() -> list[dict[str, Any]]:
            """List what the simulator received and answered."""
            with self._lock:
                return [t.public() for t in self.transactions.values()]

        @app.get("/healthz")
        def healthz() -> dict[str, str]:
            """Say the simulator is up."""
            return {"status": "ok"}

        return app

    def accept(self, bundle: dict[str, Any], token: str) -> Transaction:
        """Store a registration and schedule its answer."""
        record_id, tracking_id, event = _describe(bundle)
        reason = decide(bundle, self.config.reject_when, event)
        transaction = Transaction(
            id=f"NID{secrets.randbelow(10**10):010d}",
            record_id=record_id,
            tracking_id=tracking_id,
            event=event,
            decision="reject" if reason else "confirm",
            reason=reason,
            national_id=None if reason or event != "birth" else new_national_id(),
            token=token,
        )
        with self._lock:
            self.transactions[transaction.id] = transaction
        timer = threading.Timer(self.config.delay, self.answer, args=(transaction,))
        timer.daemon = True
        timer.start()
        return transaction

    def answer(self, transaction: Transaction) -> None:
        """Send the confirmation or rejection, retrying until CRVS Hub accepts it."""
        query, variables = self._mutation(transaction)
        url = self.config.crvshub_url.rstrip("/") + "/graphql"
        headers = {"Authorization": f"Bearer {transaction.token}"}
        for attempt in range(1, self.config.answer_attempts + 1):
            transaction.attempts = attempt
            try:
                response = httpx.post(
                    url, json={"query": query, "variables": variables}, headers=headers, timeout=15
                )
                body = response.json()
                if response.status_code == 200 and not body.get("errors"):
                    transaction.answered, transaction.last_error = True, None
                    return
                transaction.last_error = str(body.get("errors"))[:500]
            except (httpx.HTTPError, ValueError) as exc:
                transaction.last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(min(30.0, 0.5 * 2**attempt))

    def _mutation(self, transaction: Transaction) -> tuple[str, dict[str, Any]]:
        if transaction.decision == "reject":
            details: dict[str, Any] = {"reason": transaction.reason, "comment": transaction.id}
            return REJECT, {"id": transaction.record_id, "details": details}
        year = datetime.now(UTC).year
        details = {
            "registrationNumber": f"{year}{transaction.tracking_id}",
            "comment": f"national ID transaction {transaction.id}",
        }
        if transaction.national_id:
            details["identifiers"] = [{"type": "NATIONAL_ID", "value": transaction.national_id}]
        return CONFIRM, {"id": transaction.record_id, "details": details}


def cli(
    crvshub_url: Annotated[
        str, typer.Option(help="Base URL of CRVS Hub, where answers are sent (/graphql).")
    ] = "http://127.0.0.1:7070",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 7171,
    delay: Annotated[float, typer.Option(help="Seconds before answering.")] = 2.0,
    reject_when: Annotated[
        str, typer.Option(help="When to reject: never, always, missing-parent-id.")
    ] = "never",
) -> None:
    """Run a reference national ID system; set CRVSHUB_REGISTRATION_HOOK_URL to its URL."""
    import uvicorn

    if reject_when not in RULES:
        typer.echo(f"error: --reject-when must be one of {', '.join(RULES)}", err=True)
        raise typer.Exit(2)
    simulator = NidSimulator(SimConfig(crvshub_url, delay=delay, reject_when=reject_when))
    typer.echo(f"national ID simulator on http://{host}:{port}/event-registration")
    uvicorn.run(simulator.app, host=host, port=port, log_level="warning")
