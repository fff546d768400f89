"""Run OpenCRVS's own Postman collections with newman against a live CRVS Hub server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO.parent / "shared" / "compat" / "opencrvs-postman"


def collections_dir() -> Path:
    """Return the folder of the OpenCRVS Postman collections, or skip the test."""
    folder = Path(os.environ.get("CRVSHUB_OPENCRVS_POSTMAN_DIR") or DEFAULT_DIR)
    if not folder.is_dir():
        pytest.skip(f"OpenCRVS Postman collections not found at {folder} "
                    "(set CRVSHUB_OPENCRVS_POSTMAN_DIR)")
    return folder


def newman_command() -> list[str]:
    """Return the newman command, or skip the test when newman is not installed."""
    found = shutil.which("newman")
    if found:
        return [found]
    local = REPO / "node_modules" / ".bin" / "newman"
    if local.exists():
        return [str(local)]
    pytest.skip("newman is not installed (npm install -g newman)")
    raise AssertionError  # unreachable


def run_collection(
    collection: str, base_url: str, variables: dict[str, str], tmp_path: Path
) -> list[dict[str, Any]]:
    """Run one collection with every host variable pointed at `base_url`; return executions.

    Fails the test if any request does not get a 2xx response or any Postman test fails.
    """
    folder = collections_dir()
    report = tmp_path / f"{collection}.report.json"
    env_vars = {"auth": base_url, "gateway": base_url, "webhooks": base_url,
                "client": base_url, **variables}
    args = [*newman_command(), "run", str(folder / collection),
            "-e", str(folder / "Localhost.postman_environment.json"),
            "--reporters", "cli,json", "--reporter-json-export", str(report),
            "--timeout-request", "30000", "--color", "off"]
    for key, value in env_vars.items():
        args += ["--env-var", f"{key}={value}"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    if not report.exists():
        pytest.fail(f"newman did not run: {result.stdout}\n{result.stderr}")
    data = json.loads(report.read_text())
    executions: list[dict[str, Any]] = data["run"]["executions"]
    problems = []
    for item in executions:
        name = item["item"]["name"]
        response = item.get("response") or {}
        code = response.get("code")
        if code is None or not 200 <= int(code) < 300:
            body = bytes(response.get("stream", {}).get("data", []) or []).decode(errors="replace")
            problems.append(f"{name}: HTTP {code} {body[:300]}")
        for assertion in item.get("assertions", []) or []:
            if assertion.get("error"):
                problems.append(f"{name}: test failed: {assertion['error'].get('message')}")
    assert not problems, "\n".join(problems) + "\n" + result.stdout[-3000:]
    return executions
