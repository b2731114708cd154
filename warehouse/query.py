"""Query the local warehouse (DuckDB) from the command line.

.venv/bin/python -m warehouse.query                      # metric history + predictions
.venv/bin/python -m warehouse.query "SELECT * FROM predictions LIMIT 5"
.venv/bin/python -m warehouse.query --db runs/warehouse.duckdb --sql my.sql
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from warehouse.duckdb_store import DEFAULT_PATH

EXAMPLE = Path(__file__).with_name("sql") / "model_history.sql"


def main(argv: list[str] | None = None) -> int:
    """Run one read-only query against the DuckDB file and print the result table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("query", nargs="?", help="SQL text (default: the model history example)")
    parser.add_argument("--sql", type=Path, help="a file holding the query")
    parser.add_argument("--db", type=Path, default=DEFAULT_PATH, help="default: %(default)s")
    args = parser.parse_args(argv)
    if not args.db.is_file():
        print(
            f"no local warehouse at {args.db}: run `make run` and a local scoring run first "
            "(they load it), or pass --db",
            file=sys.stderr,
        )
        return 2
    sql = args.query or (args.sql or EXAMPLE).read_text(encoding="utf-8")
    import duckdb

    with duckdb.connect(str(args.db), read_only=True) as con:
        try:
            result = con.sql(sql)
        except duckdb.Error as exc:
            print(f"{args.sql or 'query'}: {exc}", file=sys.stderr)
            return 1
        if result is not None:
            result.show(max_width=250, max_rows=50)
    return 0


if __name__ == "__main__":
    sys.exit(main())
