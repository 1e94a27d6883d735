"""Ingest jobs that pull: provider admin APIs (OpenAI, Anthropic, OpenRouter) and gateway databases (SQLAlchemy),
incremental and scheduled (jobs.yaml). Everything fetched goes through `ingest.ingest_paths` with the same
adapters as uploaded files. Services for the Sources page: `status(wh)` and `run_job(wh, name)`.
May import ingest, warehouse and sql only (tests/test_layers.py)."""

from pull.apis import PROVIDERS, PullOptions, StreamReport, describe, pull_provider, reports_json
from pull.errors import PullAuthError, PullConfigError, PullError
from pull.http import RetryPolicy
from pull.jobs import JobOutcome, JobsFile, Schedule, load_jobs, run_due, run_job
from pull.sink import InboxSink, LocalSink
from pull.sqlsource import PRESETS, SqlPull, pull_sql
from pull.state import status

__all__ = ["PROVIDERS", "PullOptions", "StreamReport", "describe", "pull_provider", "reports_json", "PullError",
           "PullAuthError", "PullConfigError", "RetryPolicy", "InboxSink", "LocalSink", "status", "JobOutcome", "JobsFile", "Schedule", "load_jobs", "run_due",
           "run_job", "PRESETS", "SqlPull", "pull_sql"]
