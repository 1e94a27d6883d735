"""Users & audit services: the users table as an editable frame, an edited frame as validated changes, and the
audit log with a readable column. Pure Python (no streamlit); writes go through `warehouse.users`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl

from dashboard.components import exports
from dashboard.services import QueryRunner
from dashboard.services.editing import as_polars
from warehouse import audit, users
from warehouse.db import Warehouse
from warehouse.errors import ConfigError
from warehouse.users import ROLE_RIGHTS, ROLES, User

AUDIT_ACTIONS = audit.ACTIONS      # every audited action and what it means

QUERIES = {"users": "users", "audit": "audit_log", "teams": "top_teams"}
EDIT_COLUMNS = ("email", "role", "teams")
TITLE = "Users not saved"
ALL_TIME = (dt.date(1970, 1, 1), dt.date(9999, 12, 31))


def users_table(run: QueryRunner) -> pl.DataFrame:
    """Every user as the editor shows them: email, role, teams (a list; empty = every team), added_at, added_by."""
    df = run(QUERIES["users"], email=None)
    return df.with_columns(pl.col("teams").fill_null(pl.lit([], dtype=pl.List(pl.String))))


def team_options(run: QueryRunner, current: pl.DataFrame) -> list[str]:
    """Teams to pick from: every team in the ledger, and any a user already has (a team may have no spend yet)."""
    # one group-by over the daily rollup (every Explore option at once would group all nine dimensions)
    ledger = run(QUERIES["teams"], start=ALL_TIME[0], end=ALL_TIME[1], limit=100_000)["team"].to_list()
    held = sorted({t for ts in current["teams"].to_list() for t in (ts or [])})
    return sorted(set(ledger) | set(held))


def _text(value: Any) -> str | None:
    """An editor cell as text; empty (None, NaN, blanks) as None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value).strip() or None


def _teams(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        return [str(t) for t in value if t is not None]
    except TypeError:
        return None


def changes(before: pl.DataFrame, edited: Any) -> tuple[list[User], list[str]]:
    """The users to add or change and the emails to remove, from the table before and after editing. Every row
    is validated first (an error names the row as numbered on screen); rows left empty are skipped."""
    df = as_polars(edited)
    missing = [c for c in EDIT_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"the table lacks the columns {', '.join(missing)}", title=TITLE)
    was = {r["email"]: (r["role"], tuple(sorted(r["teams"] or ())) or None) for r in before.iter_rows(named=True)}
    wanted: list[User] = []
    for i, row in enumerate(df.select(EDIT_COLUMNS).iter_rows(named=True), start=1):
        email, role, teams = _text(row["email"]), _text(row["role"]), _teams(row["teams"])
        if email is None and role is None and not teams:
            continue
        try:
            wanted.append(users.user(email, role, teams))
        except ConfigError as e:
            raise ConfigError(f"row {i}, {e.message}", title=TITLE) from e
    emails = [u.email for u in wanted]
    twice = sorted({e for e in emails if emails.count(e) > 1})
    if twice:
        raise ConfigError(f"{', '.join(twice)} appears more than once; each person has one row", title=TITLE)
    upserts = [u for u in wanted if was.get(u.email) != (u.role, u.teams)]
    removals = [e for e in was if e not in set(emails)]
    return upserts, removals


def save(wh: Warehouse, before: pl.DataFrame, edited: Any) -> str:
    """Apply the edits in one transaction; returns what changed, for the page's message."""
    upserts, removals = changes(before, edited)
    if not upserts and not removals:
        return "Nothing changed."
    users.apply(wh, upserts, removals)
    parts = []
    if upserts:
        parts.append(f"saved {', '.join(u.email for u in upserts)}")
    if removals:
        parts.append(f"removed {', '.join(removals)}")
    return "Users updated: " + "; ".join(parts) + "."


def role_table() -> pl.DataFrame:
    return pl.DataFrame({"role": list(ROLES), "may": [ROLE_RIGHTS[r] for r in ROLES]})


def audit_table(wh: Warehouse, start: dt.date | None, end: dt.date | None, actor: str | None,
                action: str | None) -> pl.DataFrame:
    """The audit log, newest first, with `what` (the action in words) and `detail` as compact text. Read
    uncached: a sign-in changes no data (no new data version), and the log must show it at once."""
    df = users.audit_log(wh, start=start, end=end, actor=actor, action=action)
    return df.with_columns(
        what=pl.col("action").replace_strict(audit.ACTIONS, default=pl.col("action")),
        detail=pl.col("detail").map_elements(_detail_text, return_dtype=pl.String),
    ).select("occurred_at", "actor", "action", "what", "target", "detail", "id")


def _detail_text(text: str | None) -> str | None:
    if not text:
        return None
    try:
        items = json.loads(text)
    except ValueError:
        return text
    if not isinstance(items, dict):
        return text
    return ", ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in items.items()
                     if v is not None)


def actors(wh: Warehouse) -> list[str]:
    """Everyone the log names, for the actor filter."""
    return sorted(set(users.audit_log(wh)["actor"].to_list()))


def audit_csv(df: pl.DataFrame) -> bytes:
    """The shown audit rows as CSV for a spreadsheet, formula-like cells neutralised (Explore's export helper)."""
    return exports.to_csv(df)
