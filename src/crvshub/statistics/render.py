"""Statistics answers as CSV tables (the same rows as the JSON answers)."""

from __future__ import annotations

import csv
import io
from typing import Any


def table_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Return rows as CSV with a header line, in the given column order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()


def answer_csv(kind: str, answer: dict[str, Any]) -> str:
    """Return a statistics answer (counts, completeness, timeliness, backlog) as CSV."""
    if kind == "backlog":
        rows = [{"office_id": o["id"], "office_name": o["name"], "queue": q["queue"],
                 "count": q["count"], "oldest": q["oldest"]}
                for o in answer["offices"] for q in o["queues"]]
        return table_csv(rows, ["office_id", "office_name", "queue", "count", "oldest"])
    period = answer["period"]
    national = [{**row, "id": answer["area"]["id"] if answer["area"] else "",
                 "name": answer["area"]["name"] if answer["area"] else "(all)",
                 "key": "(total)", "label": "(total)"}
                for row in answer.get("total", [])] if isinstance(answer.get("total"), list) \
        else []
    rows = [{**r, "from": period["from"], "to": period["to"]} for r in answer["rows"] + national]
    columns = {
        "counts": ["from", "to", "event", "key", "label", "count"],
        "completeness": ["from", "to", "event", "id", "name", "registered", "expected",
                         "completeness"],
        "timeliness": ["from", "to", "event", "id", "name", "within-legal-period", "late",
                       "delayed", "unknown", "total", "within-legal-periodPercent",
                       "latePercent", "delayedPercent"],
    }[kind]
    return table_csv(rows, columns)
