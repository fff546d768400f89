"""A subscriber written for OpenCRVS receives BIRTH_REGISTERED, signed, when a birth is registered.

The subscriber below is written from the OpenCRVS contract alone (verification echo of the
`challenge` query parameter as JSON, `X-Hub-Signature: sha256=HMAC(sha_secret, "sha256:" +
encodeURIComponent(body))`), independently of CRVS Hub's code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import (
    LOCAL_REGISTRAR,
    REGISTRATION_AGENT,
    LiveServer,
    bearer,
    new_client,
    user_token,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "examples"


class OpenCRVSSubscriber:
    """A minimal OpenCRVS-style webhook receiver that checks every signature."""

    def __init__(self, sha_secret: str) -> None:
        self.secret = sha_secret
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                body = json.dumps({"challenge": query["challenge"][0]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
                message = "sha256:" + urllib.parse.quote(raw, safe="-_.!~*'()")
                expected = "sha256=" + hmac.new(outer.secret.encode(), message.encode(),
                                                hashlib.sha256).hexdigest()
                if hmac.compare_digest(expected, self.headers.get("X-Hub-Signature", "")):
                    outer.received.append(json.loads(raw))
                else:
                    outer.bad_signatures += 1
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_birth_registration_reaches_opencrvs_subscriber(live_server: LiveServer) -> None:
    permissions = [{"event": "birth", "permissions": ["child-details", "mother-details"]}]
    creds, token = new_client(live_server.ctx, "WEBHOOK", webhook_permissions=permissions)
    subscriber = OpenCRVSSubscriber(creds.sha_secret)
    hub = {"callback": subscriber.url, "mode": "subscribe", "topic": "BIRTH_REGISTERED",
           "secret": creds.sha_secret}
    answer = httpx.post(f"{live_server.url}/webhooks", json={"hub": hub}, headers=bearer(token))
    assert answer.status_code == 202, answer.text
    # OpenCRVS answers 202 with no body: the subscription id comes from GET /webhooks.
    listed = httpx.get(f"{live_server.url}/webhooks", headers=bearer(token)).json()["entries"]
    [mine] = [e for e in listed if e["callback"] == subscriber.url]
    subscription_id = mine["id"]

    _c, hospital = new_client(live_server.ctx, "HEALTH")
    bundle = json.loads((EXAMPLES / "birth-minimal.json").read_text())
    notified = httpx.post(f"{live_server.url}/notification", json=bundle, headers=bearer(hospital))
    rid = notified.json()["entry"][0]["resource"]["id"]
    for username, action in ((REGISTRATION_AGENT, "validate"), (LOCAL_REGISTRAR, "register")):
        done = httpx.post(f"{live_server.url}/api/records/{rid}/actions/{action}",
                          headers=bearer(user_token(live_server.ctx, username)))
        assert done.status_code == 200, done.text
    assert done.json()["status"] == "REGISTERED"

    deadline = time.monotonic() + 20
    while not subscriber.received and time.monotonic() < deadline:
        time.sleep(0.1)
    subscriber.server.shutdown()
    assert subscriber.bad_signatures == 0
    assert len(subscriber.received) == 1
    payload = subscriber.received[0]
    # The OpenCRVS payload (spec 5.5) names the subscription it was sent for, and nothing more.
    assert payload["id"] == subscription_id
    assert set(payload) == {"timestamp", "id", "event"}
    assert payload["event"]["hub"]["topic"] == "BIRTH_REGISTERED"
    context = payload["event"]["context"][0]
    kinds = [e["resource"]["resourceType"] for e in context["entry"]]
    assert "Task" in kinds and "Composition" not in kinds
    task = next(e["resource"] for e in context["entry"] if e["resource"]["resourceType"] == "Task")
    assert task["businessStatus"]["coding"][0]["code"] == "REGISTERED"
    assert task["focus"]["reference"].endswith(rid)
    patients = [e["resource"] for e in context["entry"] if e["resource"]["resourceType"] == "Patient"]
    brn = [i for p in patients for i in p.get("identifier", [])
           if i.get("type", {}).get("coding", [{}])[0].get("code") == "BIRTH_REGISTRATION_NUMBER"]
    assert brn, "the child carries its birth registration number"
