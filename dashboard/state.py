"""Per-process resources and caches for the dashboard.

- One `Warehouse` per database path (`st.cache_resource`), opened as the file's owner with `open_owner`; every
  query runs on its own cursor inside it, so sessions and threads never share a connection.
- Pages never get that owner: `warehouse()` is the signed-in person's view of it (`Warehouse.as_user`): their
  writes are audited under their email, a viewer's view refuses writes, and a viewer restricted to some teams
  reads only those teams' spend. No one signed in: PermissionDenied (fail closed). `dashboard.auth` resolves
  the person, once per session, and keeps them under `USER_KEY`.
- Query results are cached by `st.cache_data` keyed on plain values: the database path, the warehouse's
  `data_version` (bumped by every committed write, so an ingest shows at once), the person's team scope (so a
  restricted viewer never gets a result computed for everyone, nor the reverse), the query name and its
  parameters. The TTL is `settings().cache_ttl_seconds`.
- The global date range chosen in the sidebar (`app.py`) is kept in session state for the pages.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

import polars as pl
import streamlit as st

from dashboard.services import ledger, warmup
from modelmix.runtime import open_owner
from modelmix.settings import settings
from warehouse import Warehouse
from warehouse.errors import PermissionDenied

USER_KEY = "modelmix_user"      # the signed-in `dashboard.auth.User` of this session
DATE_RANGE_KEY = "modelmix_date_range"
DATE_WIDGET_KEY = "date_range"     # the sidebar's range as picked (presets, calendar, typed box); not a widget
SHOW_SQL_KEY = "show_sql"      # the sidebar's "Show SQL" toggle: the query under each figure


@st.cache_resource(show_spinner=False, on_release=Warehouse.close)
def _warehouse(path: str) -> Warehouse:
    wh = open_owner(path)
    if settings().warm_up:
        warmup.Warmer(wh)     # stops when the ledger closes
    return wh




def db_path() -> str:
    return str(settings().db.expanduser().resolve())


def owner() -> Warehouse:
    """The ledger of this process, unrestricted (raises a ModelMixError such as DatabaseBusy when it can't be
    opened). Only `dashboard.auth` uses it directly: to look up roles and record sign-ins."""
    return _warehouse(db_path())


def warehouse() -> Warehouse:
    """The ledger as the signed-in person may see and change it; resolves the person first (which may show a
    sign-in or denied screen and stop the script). Raises PermissionDenied when no one is signed in."""
    from dashboard import auth  # late: auth builds on this module

    user = auth.current_user()
    if user is None:
        raise PermissionDenied("no one is signed in in this session, so no data is shown; reload the page to sign in")
    return owner().as_user(user.email, user.teams, read_only=not user.at_least("analyst"))


def _scoped(path: str, scope: tuple[str, ...] | None) -> Warehouse:
    """The owner of `path` seen through a team scope (None: every team), read-only: what a cached read runs on."""
    wh = _warehouse(path)
    return wh.as_user(wh.actor, scope, read_only=True)


@st.cache_data(ttl=settings().cache_ttl_seconds, max_entries=512, show_spinner=False)
def _cached_query(path: str, data_version: int, scope: tuple[str, ...] | None, name: str,
                  params: tuple[tuple[str, Any], ...]) -> pl.DataFrame:
    return _scoped(path, scope).query(name, **dict(params))


def run_query(name: str, /, **params: Any) -> pl.DataFrame:
    """`Warehouse.query` with a cache: the query runner that services receive from pages."""
    wh = warehouse()
    return _cached_query(str(wh.path.resolve()), wh.data_version, wh.scope_key, name, tuple(sorted(params.items())))


@st.cache_data(ttl=settings().cache_ttl_seconds, max_entries=256, show_spinner=False)
def _cached_call(path: str, data_version: int, scope: tuple[str, ...] | None, module: str, name: str,
                 params: tuple[tuple[str, Any], ...]) -> Any:
    service = getattr(importlib.import_module(module), name)
    return service(_scoped(path, scope), **dict(params))


def call(service: Callable[..., Any], /, **params: Any) -> Any:
    """`service(warehouse, **params)` with its result cached like `run_query`: keyed on the database path, its
    `data_version` (so a write such as saving budgets shows at once), the person's team scope, the service's
    name and plain-value parameters. For the services that take the `Warehouse` (the finance views)."""
    wh = warehouse()
    return _cached_call(str(wh.path.resolve()), wh.data_version, wh.scope_key, service.__module__,
                        service.__qualname__, tuple(sorted(params.items())))


def set_date_range(value: tuple[dt.date, dt.date] | None) -> None:
    st.session_state[DATE_RANGE_KEY] = value


def date_range() -> tuple[dt.date, dt.date] | None:
    """The (start, end) chosen in the sidebar, both inclusive; None when the ledger holds no usage."""
    return st.session_state.get(DATE_RANGE_KEY)


def seed_date_widget(first: dt.date, last: dt.date) -> None:
    """The sidebar's range before its widgets are drawn: the default on the first run, and the person's pick
    kept inside the ledger's days afterwards (sidebar.py's calendar shows it and copies a new pick back)."""
    picked = st.session_state.get(DATE_WIDGET_KEY)
    fitted = ledger.fit_range(picked, first, last)
    if picked is None or tuple(picked) != fitted:
        st.session_state[DATE_WIDGET_KEY] = fitted
