"""axe-core in the browser tests: every page visited must have no WCAG 2.2 A/AA violation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE_PATHS = (Path("/usr/lib/node_modules/axe-core/axe.min.js"),
             Path("/usr/local/lib/node_modules/axe-core/axe.min.js"))
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_source() -> str | None:
    """Return axe-core's script, or None when it is not installed (npm install -g axe-core)."""
    for path in AXE_PATHS:
        if path.exists():
            return path.read_text(encoding="utf-8")
    return None


def check_axe(page: Any) -> None:
    """Run axe-core on the current page and fail the test on any violation."""
    source = axe_source()
    if source is None:
        pytest.skip("axe-core is not installed (npm install -g axe-core)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))",
        AXE_TAGS,
    )
    assert result == [], f"axe-core violations on {page.url}: {result}"
