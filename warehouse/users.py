"""Who may use the dashboard: the `users` table (email -> role, teams), its changes (each recorded in the audit
log), the role a signed-in email gets, and reading the audit log.

Roles are ordered: a viewer reads; an analyst also uploads and edits prices, rules, quality scores, budgets and
scenarios; an admin also removes uploads and manages users. `teams` restricts a viewer to those teams' spend
(enforced by `Warehouse.as_user`); analysts and admins change the whole ledger, so they can't be restricted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, Literal

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

import sql
from warehouse import audit
from warehouse.db import Warehouse
from warehouse.errors import ConfigError, ModelMixError

Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")     # lowest first
ROLE_RIGHTS = {
    "viewer": "reads every page it is shown; with teams, only those teams' spend",
    "analyst": "also uploads files, runs pulls, edits prices, aliases, rules, quality scores, budgets, scenarios",
    "admin": "also removes uploads, manages users and reads the audit log",
}
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")


class UserError(ConfigError):
    title = "Invalid user"


class User(BaseModel):
    """One row of `users`, validated: the email lower-cased and shaped like one, a known role, and teams only for
    a viewer (None or empty: every team)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str
    role: Role
    teams: tuple[str, ...] | None = None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, v: Any) -> str:
        text = str(v or "").strip().lower()
        if len(text) > 254 or not _EMAIL.match(text):
            raise ValueError(f"{text!r} is not an email address (name@domain)")
        return text

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("teams", mode="before")
    @classmethod
    def _teams(cls, v: Any) -> tuple[str, ...] | None:
        if v is None:
            return None
        items = v.split(",") if isinstance(v, str) else list(v)
        teams = sorted({str(t).strip() for t in items if t is not None and str(t).strip()})
        if any(len(t) > 200 for t in teams):
            raise ValueError("a team name is longer than 200 characters")
        return tuple(teams) or None

    @model_validator(mode="after")
    def _teams_for_viewers(self) -> User:
        if self.teams and self.role != "viewer":
            raise ValueError(f"only a viewer can be restricted to teams; an {self.role} changes the whole ledger")
        return self

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def user(email: Any, role: Any, teams: Any = None) -> User:
    """A validated `User`, or a UserError saying which field is wrong and why."""
    try:
        return User(email=email, role=role, teams=teams)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "teams"    # the one check across fields is on teams
        msg = err["msg"].removeprefix("Value error, ")
        if field == "role":
            msg = f"{role!r} is not a role; use one of {', '.join(ROLES)}"
        raise UserError(f"{field}: {msg}") from e


# --- reading -----------------------------------------------------------------------------------------------
def list_users(wh: Warehouse) -> pl.DataFrame:
    """Every user: email, role, teams, added_at, added_by (admins first)."""
    return wh.query("users", email=None)


def get(wh: Warehouse, email: str) -> User | None:
    found = wh.query("users", email=str(email).strip().lower())
    if found.is_empty():
        return None
    row = found.row(0, named=True)
    return User(email=row["email"], role=row["role"], teams=row["teams"])


def role_for(wh: Warehouse, email: str, *, admins: Iterable[str] = (), claim: Any = None,
             claim_prefix: str = "modelmix-") -> User | None:
    """The role a signed-in email gets, or None (fail closed: not registered). In order: an email listed in
    `admins` (the MODELMIX_ADMINS bootstrap) is an admin; else its row in `users`; else the highest role named
    in the identity claim (a list, or comma-separated text) as `<claim_prefix><role>`, e.g. `modelmix-analyst`,
    with every team."""
    email = str(email or "").strip().lower()
    if not _EMAIL.match(email):
        return None
    if email in {a.strip().lower() for a in admins if a and a.strip()}:
        return User(email=email, role="admin")
    row = get(wh, email)
    if row is not None:
        return row
    role = claim_role(claim, claim_prefix)
    return None if role is None else User(email=email, role=role)


def claim_role(claim: Any, prefix: str = "modelmix-") -> str | None:
    """The highest role an identity claim grants: values equal (case-insensitively) to prefix + role name."""
    if claim is None:
        return None
    values = claim.split(",") if isinstance(claim, str) else claim if isinstance(claim, (list, tuple, set)) else []
    given = {str(v).strip().lower() for v in values}
    granted = [r for r in ROLES if f"{prefix}{r}".lower() in given]
    return granted[-1] if granted else None


# --- changing ----------------------------------------------------------------------------------------------
def _admins(cur: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in cur.execute("select email from users where role = 'admin' order by email").fetchall()]


def _apply(cur: duckdb.DuckDBPyConnection, upserts: list[User], removals: list[str]) -> None:
    admins_before = _admins(cur)
    for email in removals:
        row = cur.execute("select role from users where email = ?", [email]).fetchone()
        if row is None:
            raise ModelMixError(f"no user {email}; `modelmix users list` shows who is registered",
                                title="No such user")
        cur.execute("delete from users where email = ?", [email])
        audit.record(cur, "user_remove", email, {"role": row[0]})
    for u in upserts:
        row = cur.execute("select role from users where email = ?", [u.email]).fetchone()
        teams = list(u.teams) if u.teams else None
        cur.execute(
            "insert into users (email, role, teams, added_at, added_by) values ($email, $role, $teams, $at, $by) "
            "on conflict (email) do update set role = excluded.role, teams = excluded.teams",
            {"email": u.email, "role": u.role, "teams": teams, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
             "by": audit.current_actor()})
        audit.record(cur, "user_edit", u.email, {"role": u.role, "teams": teams, "was": row[0] if row else None})
    if admins_before and not _admins(cur):     # rolled back with everything above
        who = admins_before[0] if len(admins_before) == 1 else "the admins"
        raise UserError(f"{who} {'is the last admin' if len(admins_before) == 1 else 'would all be gone'}; "
                        "add another admin first, so someone can still manage users", title="Last admin")


def apply(wh: Warehouse, upserts: Iterable[User] = (), removals: Iterable[str] = ()) -> None:
    """Add or change `upserts` and remove `removals` (emails) in one transaction, one audit row each. Refuses
    (and changes nothing) when it would leave the table without an admin it had."""
    upserts = list(upserts)
    removals = [str(e).strip().lower() for e in removals]
    emails = [u.email for u in upserts] + removals
    if len(emails) != len(set(emails)):
        raise UserError("an email appears twice in the changes; each person has one row")
    wh.write(_apply, upserts, removals)


def save(wh: Warehouse, email: Any, role: Any, teams: Any = None) -> User:
    """Add a user, or change one's role and teams (validated). Refuses to demote the last admin."""
    u = user(email, role, teams)
    apply(wh, upserts=[u])
    return u


def remove(wh: Warehouse, email: str) -> None:
    """Remove a user (they can no longer sign in unless a claim or MODELMIX_ADMINS grants a role)."""
    apply(wh, removals=[email])


def _sign_in(cur: duckdb.DuckDBPyConnection, mode: str, role: str, teams: list[str] | None) -> None:
    audit.record(cur, "sign_in", None, {"mode": mode, "role": role, "teams": teams})


def record_sign_in(wh: Warehouse, actor: str, mode: str, role: str, teams: Iterable[str] | None = None) -> None:
    """One `sign_in` audit row (a session's first page) written as `actor` through an unrestricted view of `wh`
    (a restricted or read-only person's own view may not write). It changes no data, so caches stay."""
    wh.as_user(actor).write(_sign_in, mode, role, list(teams) if teams else None, changes_data=False)


# --- `modelmix users` while the dashboard holds the ledger ----------------------------------------------------
def serve_inbox(wh: Warehouse, op: dict) -> dict:
    """The owner's side of `modelmix users` handed over through the inbox (DuckDB lets one process hold the
    file): apply `op` (`{"action": "list" | "add" | "remove", "email", "role", "teams"}`) as the asking process's
    user (`wh` is its view) and answer with the users table, or with the error's title and message."""
    try:
        action = op.get("action")
        if action == "add":
            save(wh, op.get("email"), op.get("role"), op.get("teams") or None)
        elif action == "remove":
            remove(wh, str(op.get("email") or ""))
        elif action != "list":
            raise UserError(f"unknown users action {action!r}")
    except ModelMixError as e:
        return {"files": [], "error": e.message, "title": e.title}
    rows = list_users(wh).to_dicts()
    for r in rows:
        r["added_at"] = r["added_at"].isoformat() if isinstance(r.get("added_at"), dt.datetime) else r.get("added_at")
    return {"files": [], "users": rows}


# --- the audit log -----------------------------------------------------------------------------------------
def audit_log(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None, actor: str | None = None,
              action: str | None = None) -> pl.DataFrame:
    """The audit log, newest first, filtered by day (inclusive, UTC), actor and action."""
    if action is not None and action not in audit.ACTIONS:
        raise ConfigError(f"unknown action {action!r}; known: {', '.join(audit.ACTIONS)}")
    return wh.query("audit_log", start=start, end=end, actor=actor or None, action=action)
