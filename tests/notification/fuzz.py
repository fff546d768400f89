"""A hypothesis strategy for notification fuzzing: documented example bundles, mutated."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from tests.notification.helpers import example

BASES = ("birth-minimal", "birth-full", "death-minimal", "death-full", "birth-home")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["", "Location/", "urn:uuid:", "draft", "FAR"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*prefix, i)))
    return found


@st.composite
def mutated_bundles(draw: st.DrawFn) -> Any:
    """Draw a documented example and apply one to three random mutations."""
    bundle: Any = copy.deepcopy(BASE_BUNDLES[draw(st.sampled_from(BASES))])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(bundle)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if not path:
            bundle = draw(json_values) if action == "replace" else bundle
            continue
        parent: Any = bundle
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        if action == "replace":
            parent[key] = draw(json_values)
        elif action == "delete":
            del parent[key]
        elif isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
    return bundle


BASE_BUNDLES = {name: example(name) for name in BASES}
