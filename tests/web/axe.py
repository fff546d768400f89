"""axe-core in the browser tests: every page visited must have no WCAG 2.2 A/AA violation.

axe-core is installed by `.ci/run` with npm (`npm install -g axe-core`); `CRVSHUB_AXE_JS` may
point at another copy of `axe.min.js`. Where it is missing the check is skipped with a message,
except when `CRVSHUB_REQUIRE_AXE=1` (CI), where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

# The rule sets of WCAG 2.0, 2.1 and 2.2 at levels A and AA.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@lru_cache(maxsize=1)
def _script() -> str | None:
    given = os.environ.get("CRVSHUB_AXE_JS")
    candidates = [Path(given)] if given else []
    npm = shutil.which("npm")
    if npm and not given:
        root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True,
                              check=False, timeout=30).stdout.strip()
        candidates.append(Path(root) / "axe-core" / "axe.min.js")
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return None


def axe_script() -> str:
    """Return axe-core's source, or skip (fail in CI) when it is not installed."""
    script = _script()
    if script is None:
        message = "axe-core is not installed (npm install -g axe-core)"
        if os.environ.get("CRVSHUB_REQUIRE_AXE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return script


def violations(page: Any) -> list[str]:
    """Run axe-core on the page as it is now; return one line per violation and node."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the pages' Content-Security-Policy (scripts
        # from 'self' only) rightly refuses an injected <script> tag.
        page.evaluate(axe_script())
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')[:160]}"
            for v in result["violations"] for node in v["nodes"]]


def horizontal_overflow(page: Any) -> int:
    """Return by how many CSS pixels the page is wider than the window (0: no sideways scroll)."""
    return int(page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def assert_usable(page: Any, where: str) -> None:
    """Fail on any axe-core violation or any sideways scrolling of the page as shown."""
    found = violations(page)
    assert not found, f"{where}: accessibility violations:\n" + "\n".join(found)
    overflow = horizontal_overflow(page)
    assert overflow <= 0, f"{where}: the page scrolls sideways by {overflow} px"
