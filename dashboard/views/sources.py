"""Sources: the pulls configured in the jobs file (credential variable names, never values), what each pulled
source did last (last run, rows pulled, errors), a "Run now" button per job, and the days each source covers.

Thin by design: widgets -> one service call per visual -> a figure builder -> render."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import auth, state
from dashboard.components import sources_charts
from dashboard.components.formatting import day_span
from dashboard.components.widgets import preformatted, sql_behind, table
from dashboard.services import ModelMixError
from dashboard.services import sources as svc
from dashboard.services.sources import QUERIES

RESULT_KEY = "sources_last_run"       # the last "Run now" result, shown after the rerun that refreshes the table


def secrets() -> dict:
    """Streamlit secrets when a secrets.toml exists; none otherwise (credentials then come from the environment)."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:
        return {}


def jobs_section(path: Path, jobs: pl.DataFrame | None, status: pl.DataFrame) -> None:
    st.subheader("Configured sources")
    frame = svc.summary(jobs, status)
    table(frame, hide_index=True, width="stretch", column_order=[
        "source", "kind", "schedule", "credential_env", "status", "last_run_at", "last_ok_at", "rows_last_run",
        "rows_total", "errors"], column_config={
        "source": st.column_config.TextColumn("Source"),
        "kind": "Kind", "schedule": st.column_config.TextColumn("Schedule (UTC)"),
        "credential_env": st.column_config.TextColumn("Credential variable",
                                                      help="The environment variable (or Streamlit secret) the "
                                                           "job reads; its value is never shown or stored."),
        "status": "Last status",
        "last_run_at": st.column_config.DatetimeColumn("Last run (UTC)", format="YYYY-MM-DD HH:mm"),
        "last_ok_at": st.column_config.DatetimeColumn("Last success (UTC)", format="YYYY-MM-DD HH:mm"),
        "rows_last_run": st.column_config.NumberColumn("Rows last run", format="localized"),
        "rows_total": st.column_config.NumberColumn("Rows pulled in total", format="localized"),
        "errors": st.column_config.TextColumn("Errors", width="large"),
    })
    sql_behind(QUERIES["status"])
    failing = frame.filter(pl.col("errors").is_not_null())
    for row in failing.iter_rows(named=True):
        st.error(f"**{row['source']}** — {row['errors']}")
    if jobs is None or jobs.is_empty():
        if not path.is_file():
            st.caption(f"No jobs file at `{path}`: the sources above were pulled with `modelmix pull`. "
                       "Write a jobs file (docs/pulls.md) to run them from here.")
        return
    run_buttons(path, jobs)


def run_buttons(path: Path, jobs: pl.DataFrame) -> None:
    st.subheader("Run now")
    st.caption("Runs one job at once, whatever its schedule. Credentials are read from the server's environment "
               "or Streamlit secrets.")
    for row in jobs.iter_rows(named=True):
        name, label, button = st.columns([2, 4, 1.2], vertical_alignment="center")
        name.markdown(f"**{row['name']}** · {row['kind']}")
        label.caption(f"{row['reads']} · key in `{row['credential_env']}` · schedule {row['schedule']}")
        if button.button("Run now", key=f"sources_run_{row['name']}", icon=":material/play_arrow:"):
            with st.spinner(f"Pulling {row['name']}…"):
                result = svc.run_now(state.warehouse(), row["name"], path,
                                     svc.run_env(os.environ, secrets()))
            st.session_state[RESULT_KEY] = result
            st.rerun()
    result = st.session_state.get(RESULT_KEY)
    if result is not None:
        if result.ok:
            st.success(f"**{result.name}**: {result.summary}.")
        else:
            st.error(f"**{result.title}** — {result.message}")
            st.caption(f"{result.name}: {result.summary}.")


def coverage_section(sources: list[str], start: dt.date, end: dt.date) -> None:
    st.subheader("Coverage by source and day")
    st.caption(f"{day_span(start, end)} (the sidebar's range). Rows each pulled source added to the ledger per "
               "day; a blank day is a gap unless the provider had no traffic. Rows an upload loaded first count "
               "for the upload.")
    cov = svc.coverage(state.run_query, start, end)
    if cov.is_empty():
        st.info("No pulled rows in this range. Run a job above, or widen the date range in the sidebar.")
        sql_behind(QUERIES["coverage"])
        return
    shown = sources + sorted(set(cov["source"]) - set(sources))
    grid = svc.coverage_grid(cov, shown, start, end)
    st.vega_lite_chart(sources_charts.coverage_heatmap(grid), width="stretch")
    sql_behind(QUERIES["coverage"])


def render() -> None:
    st.title("Sources")
    path = svc.jobs_path()
    try:
        jobs = svc.configured(path)
    except ModelMixError as e:       # an invalid jobs file: say what is wrong, still show what was pulled
        st.error(f"**{e.title}** — {e.message}")
        jobs = None
    status = state.call(svc.pull_status)
    if jobs is None and status.is_empty():
        if path.is_file():
            st.caption("A valid jobs file looks like this (docs/pulls.md has every field):")
        else:
            st.info(f"No sources configured: there is no jobs file at `{path}` (setting `MODELMIX_JOBS_FILE`). "
                    "Write one like this, set the credential variables in the server's environment or Streamlit "
                    "secrets, and run the jobs from here or with `modelmix jobs run` from cron (docs/pulls.md).")
        preformatted(svc.JOBS_EXAMPLE)
        return
    st.caption(f"Jobs file: `{path}`")
    jobs_section(path, jobs, status)
    selected = state.date_range()
    if selected is None:
        st.subheader("Coverage by source and day")
        st.info("Coverage appears once usage is loaded: run a job above.")
        return
    sources = svc.summary(jobs, status)["source"].to_list()
    coverage_section(sources, *selected)


auth.require("analyst")   # the router hides this page from viewers; check again
try:
    render()
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
