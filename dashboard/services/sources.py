"""The Sources page's work: the jobs configured in the jobs file (names of credential variables, never their
values), what each pulled source did last (`pull.status`), running one job now, and the days each pulled source
covers. No streamlit here.

Secrets: `run_env` builds the mapping a job reads its key or database URL from (the environment, overlaid by
Streamlit secrets the page passes in); it is handed to `pull.run_job` and never returned, stored or shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

import pull
from dashboard.services import QueryRunner, plural
from modelmix.settings import settings
from warehouse import Warehouse

QUERIES = {
    "status": "pull_status",
    "coverage": "pull_coverage_by_day",
}

# the start of docs/pulls.md's jobs.yaml reference, for the page's empty state
JOBS_EXAMPLE = """\
jobs:
  - name: openai-prod              # the source name; letters, digits, . _ -
    kind: openai                   # openai | anthropic | openrouter | sql
    key_env: OPENAI_ADMIN_KEY      # the VARIABLE holding the key; never the key
    schedule: daily 06:00          # interval (30m, 6h, 1d) or `daily HH:MM` in UTC
  - name: litellm
    kind: sql
    url_env: LITELLM_DATABASE_URL  # the variable holding the SQLAlchemy URL
    preset: litellm
    schedule: 1h
"""

STATUS_ORDER = {"failed": 0, "running": 1, "ok": 2}    # a job shows its worst stream


def jobs_path() -> Path:
    """The jobs file (setting `jobs_file`, MODELMIX_JOBS_FILE)."""
    return settings().jobs_file.expanduser()


def credential_env(job: Any) -> str:
    """The NAME of the environment variable a job reads its credential from (its own, or the kind's default)."""
    if job.kind == "sql":
        return job.url_env
    return job.key_env or pull.PROVIDERS[job.kind].key_env


def pull_status(wh: Warehouse) -> pl.DataFrame:
    """What each pulled source did last (`pull.status`): for the page, through `state.call`'s cache."""
    return pull.status(wh)


def configured(path: Path) -> pl.DataFrame | None:
    """One row per job of the jobs file: name, kind, schedule, what it reads, the credential variable's name;
    None when there is no jobs file. An invalid file raises `ConfigError` naming the file and field."""
    if not path.is_file():
        return None
    jobs = pull.load_jobs(path)
    rows = []
    for job in jobs.jobs:
        if job.kind == "sql":
            reads = f"preset {job.preset}" if job.preset else (f"table {job.table}" if job.table else "query")
        else:
            reads = job.base_url or "the provider's admin API"
        rows.append({"name": job.name, "kind": job.kind, "schedule": job.schedule, "reads": reads,
                     "credential_env": credential_env(job)})
    return pl.DataFrame(rows, schema={"name": pl.String, "kind": pl.String, "schedule": pl.String,
                                      "reads": pl.String, "credential_env": pl.String})


def summary(jobs: pl.DataFrame | None, status: pl.DataFrame) -> pl.DataFrame:
    """One row per source: every configured job (never run: empty figures) and every source with pull state
    that the jobs file no longer lists. Last run, last success, status (the worst stream's), rows the last run
    added, rows added in total, and the streams' errors."""
    per_source = (
        status.with_columns(pl.col("last_status").replace_strict(STATUS_ORDER, default=1).alias("_rank"))
        .group_by("source").agg(
            pl.col("kind").first().alias("state_kind"),
            pl.col("last_run_at").max(),
            # every stream's last success: the oldest, or none while one stream never succeeded
            pl.when(pl.col("last_ok_at").null_count() == 0).then(pl.col("last_ok_at").min()).alias("last_ok_at"),
            pl.col("last_status").sort_by("_rank").first().alias("status"),
            pl.col("last_rows_loaded").sum().cast(pl.Int64).alias("rows_last_run"),
            pl.col("rows_loaded_total").sum().cast(pl.Int64).alias("rows_total"),
            pl.col("last_error").drop_nulls().unique(maintain_order=True).str.join("; ").alias("errors"),
        )
    )
    if jobs is None:
        jobs = pl.DataFrame(schema={"name": pl.String, "kind": pl.String, "schedule": pl.String,
                                    "reads": pl.String, "credential_env": pl.String})
    out = (
        jobs.rename({"name": "source"}).with_columns(pl.lit(True).alias("in_jobs_file"))
        .join(per_source, on="source", how="full", coalesce=True)
        .with_columns(
            pl.coalesce("kind", "state_kind").alias("kind"),
            pl.col("in_jobs_file").fill_null(False),
            pl.col("status").fill_null("never run"),
            pl.when(pl.col("errors") == "").then(None).otherwise(pl.col("errors")).alias("errors"),
        )
        .drop("state_kind")
        .sort(["in_jobs_file", "source"], descending=[True, False])
    )
    return out.select("source", "kind", "schedule", "credential_env", "reads", "status", "last_run_at",
                      "last_ok_at", "rows_last_run", "rows_total", "errors", "in_jobs_file")


def run_env(environ: Mapping[str, str], secrets: Mapping[str, Any] | None) -> dict[str, str]:
    """Where a job run reads credentials: the environment, overlaid by top-level string Streamlit secrets."""
    env = dict(environ)
    for key, value in (secrets or {}).items():
        if isinstance(value, str):
            env[key] = value
    return env


@dataclass
class RunResult:
    """What "Run now" shows: ok, a one-line summary, and an error's title and message (no secrets)."""

    name: str
    ok: bool
    summary: str
    title: str | None = None
    message: str | None = None
    streams: list[dict] | None = None


def _split(error: str) -> tuple[str, str]:
    title, sep, message = error.partition(": ")
    return (title, message) if sep else ("Pull failed", error)


def run_now(wh: Warehouse, name: str, path: Path, env: Mapping[str, str]) -> RunResult:
    """Run job `name` of the jobs file at `path` now (whatever its schedule) on the ledger this process holds.
    Errors come back in the result (title and message, secrets redacted by `pull`); a bad jobs file raises
    `ConfigError`."""
    outcome = pull.run_job(wh, name, jobs=path, env=env)
    streams = [r.to_json() for r in outcome.reports]
    loaded = sum(s["rows_loaded"] for s in streams)
    duplicate = sum(s["rows_duplicate"] for s in streams)
    text = (f"{plural(loaded, 'new row')} loaded, {duplicate:,} already in the ledger, from "
            f"{plural(len(streams), 'stream')}")
    if outcome.ok:
        return RunResult(name, True, text, streams=streams)
    if outcome.error:
        title, message = _split(outcome.error)
    else:
        failed = [s for s in streams if s["error"]]
        title = _split(failed[0]["error"])[0]
        message = "; ".join(f"{s['stream']}: {_split(s['error'])[1]}" for s in failed)
    return RunResult(name, False, text, title=title, message=message, streams=streams)


def coverage(run: QueryRunner, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Rows each pulled source added per day in the range. Query: pull_coverage_by_day."""
    return run(QUERIES["coverage"], start=start, end=end)


def coverage_grid(cov: pl.DataFrame, sources: list[str], start: dt.date, end: dt.date) -> pl.DataFrame:
    """Every source x day of the range with its row count (0 = nothing pulled that day): source, day, rows."""
    days = pl.date_range(start, end, interval="1d", eager=True).alias("day")
    frame = pl.DataFrame({"source": sources}, schema={"source": pl.String}).join(days.to_frame(), how="cross")
    counts = cov.select("source", "day", pl.col("row_count").cast(pl.Int64).alias("rows"))
    return (frame.join(counts, on=["source", "day"], how="left")
            .with_columns(pl.col("rows").fill_null(0)).sort(["source", "day"]))
