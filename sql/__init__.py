"""The registry of named SQL files: one query per `.sql` file, loaded by name.

`sql.load("queries/spend_by_day")` returns the text of `sql/queries/spend_by_day.sql` as a `Text`, a string that
remembers its file (`origin`), so an error running it can name the file. A miss lists the names that exist, so a
typo is found at once.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

ROOT = Path(__file__).parent


class UnknownQuery(KeyError):
    pass


class Text(str):
    """SQL text that knows the file it came from: `origin` is its path from the repository root
    (`sql/queries/explore_rows.sql`). `replace` (how callers splice a generated fragment into a `/*marker*/`)
    and `+` (a statement prefixed or suffixed) keep the origin; any other string operation gives a plain `str`,
    which an error calls an inline query."""

    origin: str

    def __new__(cls, text: str, origin: str) -> Text:
        self = super().__new__(cls, text)
        self.origin = origin
        return self

    def __getnewargs__(self) -> tuple[str, str]:   # pickle and copy (st.cache_data keeps the SQL shown in pages)
        return str(self), self.origin

    def replace(self, old: str, new: str, count: int = -1) -> Text:  # type: ignore[override]
        return Text(str.replace(self, old, new, count), self.origin)

    def __add__(self, other: str) -> Text:
        return Text(str.__add__(self, other), self.origin)

    def __radd__(self, other: str) -> Text:       # "insert into t by name " + sql.load(...) keeps the file
        return Text(other + str(self), self.origin)


def literal(value: object) -> str:
    """`value` as SQL literal text, for the few statements and reader options that take no bound parameter
    (COPY ... TO, EXPORT/IMPORT DATABASE, read_csv options): strings quoted with `'` doubled."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def path_literal(path: Path | str) -> str:
    """A file or folder path as SQL literal text (resolved); ValueError for a name with control characters,
    which no statement should carry."""
    text = str(path)
    if any(c in text for c in "\0\n\r"):
        raise ValueError(f"{text!r}: a folder name with control characters cannot be used; pick another folder")
    return literal(Path(text).resolve())


def origin(text: str) -> str | None:
    """The `.sql` file `text` was loaded from, or None for SQL written in Python."""
    return getattr(text, "origin", None)


@cache
def names() -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in ROOT.rglob("*.sql")))


@cache
def load(name: str) -> Text:
    """The text of `sql/<name>.sql`; raises UnknownQuery (listing the known names) when there is no such file."""
    path = ROOT / f"{name}.sql"
    if not path.is_file():
        raise UnknownQuery(f"no SQL file named {name!r}; known: {', '.join(names())}")
    return Text(path.read_text(encoding="utf-8"), f"sql/{name}.sql")


def migrations() -> list[tuple[int, Text]]:
    """(version, sql) pairs in order, from files named `NNN_description.sql`."""
    found = []
    for path in sorted((ROOT / "migrations").glob("*.sql")):
        found.append((int(path.name.split("_", 1)[0]),
                      Text(path.read_text(encoding="utf-8"), f"sql/migrations/{path.name}")))
    return found
