"""The audit log: who changed what, and when, written inside the transaction of the change it records.

A write job calls `record(cur, action, target, detail)` on the writer's cursor. The actor is not passed along:
`Warehouse.write` binds it for the duration of the job from the warehouse (or per-person view of it, see
`Warehouse.as_user`) that submitted the job, so a write can't be recorded under someone else's name. The change
and its audit row commit or roll back together.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from contextvars import ContextVar
from typing import Any

import duckdb

# one place for the names the log uses; the admin page filters on them
ACTIONS = {
    "sign_in": "signed in",
    "ingest": "loaded a file",
    "remove_upload": "removed an upload's rows",
    "prices_edit": "edited price overrides",
    "rules_edit": "edited attribution rules",
    "aliases_edit": "edited model aliases",
    "quality_edit": "edited the quality table",
    "budgets_edit": "edited budgets",
    "subscriptions_edit": "edited seats and subscriptions",
    "self_hosted_edit": "edited self-hosted inference costs",
    "scenario_save": "saved a scenario",
    "scenario_delete": "deleted a scenario",
    "user_edit": "added or changed a user",
    "user_remove": "removed a user",
    "restore": "restored the ledger from a backup",
}

_actor: ContextVar[str | None] = ContextVar("modelmix_actor", default=None)


def default_actor() -> str:
    """Who a process acts as when no person is signed in: the operating-system user of the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (some containers)
        return "cli:unknown"


def current_actor() -> str:
    actor = _actor.get()
    if actor is None:
        raise RuntimeError("audit.record called outside Warehouse.write: no actor is bound")
    return actor


def bind(actor: str) -> Any:
    """Bind the actor for the write job about to run on this thread; returns the token for `unbind`."""
    return _actor.set(actor)


def unbind(token: Any) -> None:
    _actor.reset(token)


def record(cur: duckdb.DuckDBPyConnection, action: str, target: str | None = None,
           detail: dict[str, Any] | None = None) -> None:
    """Append one audit row inside the current write transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; known: {', '.join(ACTIONS)}")
    cur.execute(
        "insert into audit_log (occurred_at, actor, action, target, detail) values ($at, $actor, $action, $target, $detail)",
        {"at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "actor": current_actor(), "action": action,
         "target": target, "detail": json.dumps(detail, default=str, sort_keys=True) if detail else None},
    )
