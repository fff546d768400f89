"""In-bundle references: point them at new targets (standard library only)."""

from __future__ import annotations

from typing import Any


def rewrite_references(value: Any, urls: dict[str, str]) -> None:
    """Replace, in place and at any depth, every `reference` found in `urls` by its target."""
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str) and ref in urls:
            value["reference"] = urls[ref]
        for item in value.values():
            if isinstance(item, dict | list):
                rewrite_references(item, urls)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                rewrite_references(item, urls)
