"""One small error family: every error a user can see has a title and a message that says what to do."""

from __future__ import annotations

import re


class ModelMixError(Exception):
    title = "ModelMix error"

    def __init__(self, message: str, *, title: str | None = None):
        super().__init__(message)
        self.message = message
        if title:
            self.title = title

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


class DatabaseBusy(ModelMixError):
    title = "Database in use"


class DatabaseError(ModelMixError):
    title = "Database error"


class LedgerDamaged(DatabaseError):
    """The ledger file (or its write-ahead log) is truncated or corrupted; the message names the way back."""

    title = "Ledger damaged"


class IngestError(ModelMixError):
    """A whole file was rejected (unreadable, unknown format, missing column, --strict)."""

    title = "File rejected"


class ConfigError(ModelMixError):
    title = "Invalid configuration"


class PermissionDenied(ModelMixError):
    """The signed-in person's role or team scope does not allow this."""

    title = "Not allowed"


# --- quoting a file in a message (docs/reliability.md, "A file ModelMix can't read is described, never quoted") --
# A message may quote text from a file only when the file was recognised as what it was given as (an export of a
# known format, a scenario, a mapping or configuration file): then the key, column or value it points at, cut
# and cleaned. A file not recognised is described by what ModelMix can say without reading it out: its
# container, how many names it holds, and those of its names that are ModelMix's own vocabulary. Any other text
# of it (a first line, a key, a parser's copy of the offending line) is never shown: `modelmix ingest
# /etc/shadow` run as root must not print a password hash, in a terminal, a CI log or a --json answer.
QUOTE_LIMIT = 60
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def quote(text: object, limit: int = QUOTE_LIMIT) -> str:
    """`text` of a recognised file for a message: control characters as `?`, at most `limit` characters, quoted."""
    s = "".join("?" if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 or 0x202A <= ord(ch) <= 0x202E
                        or 0x2066 <= ord(ch) <= 0x2069) else ch for ch in str(text))
    return repr(s if len(s) <= limit else s[:limit - 1] + "…")


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")


def field_path(loc: tuple) -> str:
    """A validation error's location (pydantic `loc`) for a message: plain names as they are, anything else
    quoted and cut (a key of the file)."""
    return ".".join(str(x) if isinstance(x, int) or _PLAIN.fullmatch(str(x)) else quote(x) for x in loc)


def parse_problem(e: Exception) -> str:
    """What a YAML or JSON parser found wrong, and where (line, column), without the parser's copy of the line
    (PyYAML's message prints the offending line; its problem text can quote an anchor or a tag)."""
    import json

    import yaml

    if isinstance(e, json.JSONDecodeError):
        return f"line {e.lineno}, column {e.colno}: {e.msg}"     # msg is the parser's own words, no file text
    if isinstance(e, yaml.MarkedYAMLError):
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = str(e.problem or e.context or "not valid YAML")
        # a quoted token of the file ("found undefined alias 'x'") is cut; one character ('\t') and PyYAML's own
        # token names ('<stream end>') stay
        problem = _QUOTED.sub(lambda m: m.group(0) if len(m.group(0)) <= 6 or m.group(0)[1] == "<" else "'…'", problem)
        return where + problem
    if isinstance(e, yaml.YAMLError):
        return "not valid YAML"
    return type(e).__name__
