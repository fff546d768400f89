"""Time the duplicate search alone on the records already in a database (nothing is written).

For the last `--records` records created (not archived), runs `record.dedup.find` (the
candidate reads and the comparisons, without storing a flag) in one transaction rolled back at
the end, and prints its latency percentiles and how many records it would flag. Run it before
and after a change on the same database to compare plans; `--out` keeps each record's verdicts
(candidate ids and scores) as JSON, to check that two versions decide the same.

    .venv/bin/python bench/dedup_find.py --database-url URL [--records 600] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rich.console import Console
from sqlalchemy import select

from crvshub.composition import build_context
from crvshub.record import dedup
from crvshub.record.models import Record
from crvshub.settings import Settings

console = Console()


def main() -> None:
    """Time `record.dedup.find` on the last records created; print p50/p95/p99."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    ctx = build_context(Settings(database_url=args.database_url, environment="test",
                                 embedded_worker=False, log_level="WARNING"))
    with ctx.db.transaction() as session:
        ids = list(session.scalars(select(Record.id).where(Record.status != "ARCHIVED")
                                   .order_by(Record.created_at.desc()).limit(args.records)))
    found: dict[str, list[tuple[str, float]]] = {}
    times: list[float] = []
    with ctx.db.transaction() as session:
        for record_id in ids:
            record = session.get(Record, record_id)
            assert record is not None
            start = time.perf_counter()
            verdicts = dedup.find(session, record)
            times.append(time.perf_counter() - start)
            found[record_id] = sorted((v.candidate_id, v.score) for v in verdicts)
        session.rollback()
    q = statistics.quantiles(times, n=100)
    console.print(f"find p50/p95/p99 {q[49] * 1000:.1f} / {q[94] * 1000:.1f} / "
                  f"{q[98] * 1000:.1f} ms over {len(times)} records; "
                  f"would flag {sum(1 for v in found.values() if v)}")
    if args.out:
        args.out.write_text(json.dumps({"res": found, "times": dict(zip(ids, times, strict=True))}))


if __name__ == "__main__":
    main()
