"""Who may use the dashboard: the `users` table (email -> role, teams), its changes (each recorded in the audit
log), the role a signed-in email gets, and reading the audit log.

Roles are ordered: a viewer reads; an analyst also uploads and edits prices, rules, quality scores, budgets and
scenarios; an admin also removes uploads and manages users. `teams` restricts a viewer to those teams' spend
(enforced by `Warehouse.as_user`); analysts and admins change the whole ledger, so they can't be restricted.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from collections.abc import Iterable
from typing import Any, Literal

import duckdb
import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

import sql
from warehouse import audit
from warehouse.db import Warehouse
from warehouse.errors import ConfigError, ModelMixError, parse_problem

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


class UnknownTeam(ModelMixError):
    """An identity claim names teams, and none of them is a team the ledger knows: no access (fail closed)."""

    title = "No known team"


def role_for(wh: Warehouse, email: str, *, admins: Iterable[str] = (), claim: Any = None,
             claim_prefix: str = "modelmix-", team_map: dict[str, list[str]] | None = None) -> User | None:
    """The role a signed-in email gets, or None (fail closed: not registered). In order: an email listed in
    `admins` (the MODELMIX_ADMINS bootstrap) is an admin; else its row in `users`; else the highest role named
    in the identity claim (a list, or comma-separated text) as `<claim_prefix><role>`, e.g. `modelmix-analyst`.
    A viewer from a claim sees the teams the same claim names (`claim_teams`), or every team when it names
    none; a claim that names teams none of which the ledger knows raises UnknownTeam (no access, rather than
    every team). Analysts and admins change the whole ledger, so team values don't restrict them."""
    email = str(email or "").strip().lower()
    if not _EMAIL.match(email):
        return None
    if email in {a.strip().lower() for a in admins if a and a.strip()}:
        return User(email=email, role="admin")
    row = get(wh, email)
    if row is not None:
        return row
    role = claim_role(claim, claim_prefix)
    if role is None:
        return None
    if role != "viewer":
        return User(email=email, role=role)
    named = claim_teams(claim, claim_prefix, team_map)
    if named is None:
        return User(email=email, role=role)
    known = {t.lower(): t for t in wh.query("known_teams")["team"].to_list()}
    teams = sorted({known[t.lower()] for t in named if t.lower() in known})
    if not teams:
        raise UnknownTeam(f"your identity provider gives {email} the viewer role for team(s) "
                          f"{', '.join(sorted(named)) or '(none)'}, and ModelMix knows none of them, so no spend "
                          "is shown. Ask an admin to fix the group in the identity provider or the team mapping "
                          "file (MODELMIX_TEAM_CLAIM_MAP).")
    return User(email=email, role=role, teams=teams)


def _claim_values(claim: Any) -> list[str]:
    if claim is None:
        return []
    values = claim.split(",") if isinstance(claim, str) else claim if isinstance(claim, (list, tuple, set)) else []
    return [str(v).strip() for v in values if str(v).strip()]


def claim_role(claim: Any, prefix: str = "modelmix-") -> str | None:
    """The highest role an identity claim grants: values equal (case-insensitively) to prefix + role name."""
    given = {v.lower() for v in _claim_values(claim)}
    granted = [r for r in ROLES if f"{prefix}{r}".lower() in given]
    return granted[-1] if granted else None


def claim_teams(claim: Any, prefix: str = "modelmix-", team_map: dict[str, list[str]] | None = None) -> list[str] | None:
    """The teams an identity claim names, or None when it names none: values `<prefix>team-<name>` (e.g.
    `modelmix-team-legal`), and values the mapping file lists (`team_map`: group -> teams, case-insensitive)."""
    marker = f"{prefix}team-".lower()
    mapped = {k.strip().lower(): v for k, v in (team_map or {}).items()}
    found: set[str] | None = None
    for value in _claim_values(claim):
        low = value.lower()
        if low.startswith(marker) and len(value) > len(marker):
            found = (found or set()) | {value[len(marker):]}
        if low in mapped:
            found = (found or set()) | set(mapped[low])
    return None if found is None else sorted(found)


def load_team_map(path: str | Path) -> dict[str, list[str]]:
    """The team mapping file (MODELMIX_TEAM_CLAIM_MAP): YAML `groups: {<group value>: <team or [teams]>}`."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the team mapping file ({e.strerror})") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({parse_problem(e)})") from e
    groups = raw.get("groups") if isinstance(raw, dict) else None
    if not isinstance(groups, dict):
        raise ConfigError(f"{path}: expected `groups:` mapping each group value to a team or a list of teams")
    out: dict[str, list[str]] = {}
    for group, teams in groups.items():
        items = [teams] if isinstance(teams, str) else teams
        if not isinstance(items, list) or not all(isinstance(t, str) and t.strip() for t in items):
            raise ConfigError(f"{path}: groups.{group}: give a team name or a list of team names")
        out[str(group)] = [t.strip() for t in items]
    return out


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
