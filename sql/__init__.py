"""The registry of named SQL files: one query per `.sql` file, loaded by name.

`sql.load("queries/spend_by_day")` returns the text of `sql/queries/spend_by_day.sql`. A miss lists the names
that exist, so a typo is found at once.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

ROOT = Path(__file__).parent


class UnknownQuery(KeyError):
    pass


@cache
def names() -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in ROOT.rglob("*.sql")))


@cache
def load(name: str) -> str:
    path = ROOT / f"{name}.sql"
    if not path.is_file():
        raise UnknownQuery(f"no SQL file named {name!r}; known: {', '.join(names())}")
    return path.read_text(encoding="utf-8")


def migrations() -> list[tuple[int, str]]:
    """(version, sql) pairs in order, from files named `NNN_description.sql`."""
    found = []
    for path in sorted((ROOT / "migrations").glob("*.sql")):
        found.append((int(path.name.split("_", 1)[0]), path.read_text(encoding="utf-8")))
    return found
