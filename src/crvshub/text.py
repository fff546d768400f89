"""Text normalisation shared by search columns: accent-, case- and space-insensitive."""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

_SPACES = re.compile(r"\s+")


def normalize(value: str) -> str:
    """Return a search key: Unicode folded to ASCII, lower case, single spaces."""
    folded = anyascii(unicodedata.normalize("NFKC", value))
    return _SPACES.sub(" ", folded).strip().lower()
