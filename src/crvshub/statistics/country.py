"""Crude death rates from the country data (`statistics.csv`, optional `crude_death_rate`).

The location tree keeps what OpenCRVS keeps for an area (population and crude birth rate);
death registration completeness also needs the crude death rate, which countries give in the
same file. It is read once per process and country folder.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

DeathRates = dict[str, dict[str, float]]  # statistical id -> year -> deaths per 1,000


@lru_cache(maxsize=8)
def death_rates(country_dir: Path) -> DeathRates:
    """Return the crude death rates of every area and year the country data gives."""
    path = country_dir / "statistics.csv"
    rates: DeathRates = {}
    if not path.is_file():
        return rates
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            raw = (row.get("crude_death_rate") or "").strip()
            sid, year = (row.get("statistical_id") or "").strip(), (row.get("year") or "").strip()
            if not raw or not sid or not year:
                continue
            try:
                rates.setdefault(sid, {})[str(int(year))] = float(raw)
            except ValueError:
                continue  # `crvshub seed` reports bad rows; figures fall back to the default
    return rates
