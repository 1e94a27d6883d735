"""`jobs.yaml`: the sources to pull, their credentials' environment variables and a schedule; `run_due` runs
the jobs that are due once (cron-friendly), `run_job` runs one now (the Sources page's "run now").

    jobs:
      - name: openai-prod            # the source name in pull_state and `modelmix jobs status`
        kind: openai                 # openai | anthropic | openrouter | sql
        key_env: OPENAI_ADMIN_KEY    # the variable holding the key (default per kind); never the key itself
        schedule: daily 06:00        # an interval (30m, 6h, 1d) or `daily HH:MM` (UTC)
      - name: litellm
        kind: sql
        url_env: LITELLM_DATABASE_URL
        preset: litellm
        schedule: 1h

A job is due when it never finished without error, or (interval) its oldest stream's last success is at least
the interval ago, less 5% slack (at most 30 minutes) so a cron run a few seconds early still counts, or (daily)
its last success is before today's HH:MM UTC and that time has passed. A failed job is due again at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pull.apis import PROVIDERS, PullOptions, StreamReport, pull_provider
from pull.errors import PullConfigError, PullError
from pull.sink import LocalSink, Sink
from pull.sqlsource import PRESETS, SqlPull, pull_sql
from warehouse.errors import ConfigError, field_path, parse_problem

_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_DAILY = re.compile(r"^\s*daily\s+([01]?\d|2[0-3]):([0-5]\d)\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> dt.timedelta:
    """`30m`, `6h`, `2d` -> a timedelta."""
    m = _DURATION.match(str(text))
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 30m, 6h or 2d")
    return dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


@dataclass(frozen=True)
class Schedule:
    every: dt.timedelta | None = None    # an interval, or
    daily_at: dt.time | None = None      # once a day at this UTC time

    @classmethod
    def parse(cls, text: str) -> Schedule:
        if m := _DAILY.match(str(text)):
            return cls(daily_at=dt.time(int(m.group(1)), int(m.group(2))))
        try:
            return cls(every=parse_duration(text))
        except ValueError:
            raise ValueError(f"schedule {text!r}: use an interval (30m, 6h, 1d) or `daily HH:MM` (UTC)") from None

    def is_due(self, last_ok: dt.datetime | None, now: dt.datetime) -> bool:
        if last_ok is None:
            return True
        if self.every is not None:
            slack = min(self.every * 0.05, dt.timedelta(minutes=30))
            return now - last_ok >= self.every - slack
        today = dt.datetime.combine(now.date(), self.daily_at, tzinfo=dt.timezone.utc)
        latest = today if now >= today else today - dt.timedelta(days=1)
        return last_ok < latest


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)
    kind: Literal["openai", "anthropic", "openrouter", "sql"]
    schedule: str = "1d"
    key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    url_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    base_url: str | None = None
    since: dt.date | None = None
    safety_window: str = "2d"
    preset: Literal["litellm"] | None = None
    table: str | None = None
    db_schema: str | None = Field(None, alias="schema")
    query: str | None = None
    since_column: str | None = None
    mapping: Path | None = None

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        Schedule.parse(v)
        return v

    @field_validator("safety_window")
    @classmethod
    def _safety(cls, v: str) -> str:
        parse_duration(v)
        return v

    @model_validator(mode="after")
    def _fits_kind(self) -> Job:
        sql_only = {"url_env": self.url_env, "preset": self.preset, "table": self.table, "schema": self.db_schema,
                    "query": self.query, "since_column": self.since_column, "mapping": self.mapping}
        if self.kind != "sql":
            given = [k for k, v in sql_only.items() if v is not None]
            if given:
                raise ValueError(f"{', '.join(given)} only apply to kind sql")
        else:
            if self.key_env or self.base_url:
                raise ValueError("kind sql takes url_env (the variable holding the database URL), not key_env/base_url")
            if not self.url_env:
                raise ValueError("kind sql needs url_env: the environment variable holding the database URL")
            if not self.preset and (bool(self.table) == bool(self.query) or not self.since_column
                                    or not self.mapping):
                raise ValueError("kind sql needs a preset, or table or query with since_column and mapping")
        return self


class JobsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jobs: list[Job]

    @model_validator(mode="after")
    def _unique(self) -> JobsFile:
        names = [j.name for j in self.jobs]
        if dup := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"job names must be unique: {', '.join(dup)}")
        return self

    def get(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        raise PullConfigError(f"no job named {name!r} in the jobs file; it has {', '.join(j.name for j in self.jobs)}")


def load_jobs(path: str | Path) -> JobsFile:
    """Read and validate a jobs file; a `ConfigError` names the file and the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such jobs file (see docs/pulls.md for its format)") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({parse_problem(e)})") from e
    if isinstance(raw, dict) and raw and not set(JobsFile.model_fields) & {str(k) for k in raw}:
        # not a jobs file: its keys are the text of an unrecognised file, never shown (warehouse.errors)
        raise ConfigError(f"{path}: is not a jobs file: none of its {len(raw)} top-level key(s) is "
                          f"{' or '.join(f'`{k}`' for k in sorted(JobsFile.model_fields))} (see docs/pulls.md)")
    try:
        jobs = JobsFile.model_validate(raw if raw is not None else {})
    except ValidationError as e:
        where = "; ".join(f"{field_path(err['loc']) or 'file'}: {err['msg']}" for err in e.errors())
        raise ConfigError(f"{path}: {where}") from None
    for job in jobs.jobs:   # a relative mapping path is relative to the jobs file
        if job.mapping is not None and not job.mapping.is_absolute():
            job.mapping = path.parent / job.mapping
    return jobs


@dataclass
class JobOutcome:
    name: str
    ran: bool
    reports: list[StreamReport] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.reports)

    def to_json(self) -> dict:
        return {"name": self.name, "ran": self.ran, "status": ("ok" if self.ok else "failed") if self.ran else "not due",
                "error": self.error, "streams": [r.to_json() for r in self.reports]}


def _since(d: dt.date | None) -> dt.datetime | None:
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc) if d else None


def execute(sink: Sink, job: Job, *, env: Mapping[str, str] | None = None, base_urls: Mapping[str, str] | None = None,
            lookback: dt.timedelta = dt.timedelta(days=30), now: dt.datetime | None = None) -> JobOutcome:
    """Run one job now, whatever its schedule; errors are in the outcome, not raised."""
    outcome = JobOutcome(job.name, ran=True)
    try:
        if job.kind == "sql":
            outcome.reports = [pull_sql(sink, SqlPull(url_env=job.url_env, env=env, preset=job.preset, table=job.table,
                                                      schema=job.db_schema, query=job.query,
                                                      since_column=job.since_column, mapping=job.mapping,
                                                      source=job.name, safety=parse_duration(job.safety_window)),
                                        now=now)]
        else:
            opts = PullOptions(source=job.name, base_url=job.base_url or (base_urls or {}).get(job.kind),
                               key_env=job.key_env, env=env, safety=parse_duration(job.safety_window),
                               lookback=lookback, now=now)
            outcome.reports = pull_provider(sink, job.kind, opts)
    except PullError as e:
        outcome.error = str(e)
    return outcome


def run_due(sink: Sink, jobs: JobsFile, *, name: str | None = None, env: Mapping[str, str] | None = None,
            base_urls: Mapping[str, str] | None = None, lookback: dt.timedelta = dt.timedelta(days=30),
            now: dt.datetime | None = None) -> list[JobOutcome]:
    """Run every job that is due (or only `name`, if due) once; one outcome per job considered."""
    now = now or dt.datetime.now(dt.timezone.utc)
    selected = [jobs.get(name)] if name else jobs.jobs
    outcomes = []
    for job in selected:
        if not Schedule.parse(job.schedule).is_due(sink.last_ok(job.name, _streams(job)), now):
            outcomes.append(JobOutcome(job.name, ran=False))
            continue
        outcomes.append(execute(sink, job, env=env, base_urls=base_urls, lookback=lookback, now=now))
    return outcomes


def _streams(job: Job) -> list[str]:
    if job.kind == "sql":
        return [job.table or (PRESETS[job.preset].table if job.preset else "query")]
    return [s.name for s in PROVIDERS[job.kind].streams]


def run_job(wh, name: str, *, jobs: JobsFile | str | Path = "jobs.yaml", env: Mapping[str, str] | None = None,
            base_urls: Mapping[str, str] | None = None) -> JobOutcome:
    """Service for the Sources page: run job `name` now on the ledger this process holds."""
    jobs = jobs if isinstance(jobs, JobsFile) else load_jobs(jobs)
    return execute(LocalSink(wh), jobs.get(name), env=env, base_urls=base_urls)
