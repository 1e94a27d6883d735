"""Provider pulls: OpenAI's Usage and Costs APIs, Anthropic's usage and cost reports, OpenRouter's activity.

Each provider is a list of streams (one endpoint each, with its own cursor in `pull_state`). A run of a stream
asks for the daily buckets from its cursor minus a safety window (default 2 days) to the start of the current
UTC day, so only closed buckets are read (a bucket is loaded once: the ledger keeps the first value of a row it
already has, so an open day's partial bucket must never get in). The run follows `has_more`/`next_page`, writes
each page as the API sent it to a temporary JSON file and loads it through `ingest_paths` with the stream's
format, the same adapter as an uploaded file; after each page the cursor moves to the end of that page's last
bucket, so an interrupted run resumes where it stopped. Pages fetched again in the safety window load nothing:
their rows' natural keys are already in the ledger.

OpenRouter's `/api/v1/activity` has no paging: one request per UTC day of its last 30 completed days, the
per-endpoint items summed per day and model into the Activity export's CSV shape (`openrouter-activity-csv`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pull.errors import PullAuthError, PullConfigError, PullError, redact
from pull.http import ApiClient, RetryPolicy
from pull.sink import Sink

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Stream:
    name: str                  # the stream id in pull_state, e.g. usage/completions
    path: str                  # the API path under the base URL
    format_id: str             # the ingest format its pages are read with
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class StreamReport:
    """What one run of one stream did (printed by the CLI, returned by `run_job`)."""

    source: str
    stream: str
    pages: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    window: tuple[dt.datetime, dt.datetime] | None = None
    loaded_until: dt.datetime | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict:
        return {"source": self.source, "stream": self.stream, "status": "ok" if self.ok else "failed",
                "pages": self.pages, "rows_loaded": self.rows_loaded, "rows_duplicate": self.rows_duplicate,
                "rows_rejected": self.rows_rejected,
                "window": [t.isoformat() for t in self.window] if self.window else None,
                "loaded_until": self.loaded_until.isoformat() if self.loaded_until else None, "error": self.error}


@dataclass
class PullOptions:
    """How to run one pull; every field has a default, the CLI and jobs.yaml fill what the user gave."""

    source: str | None = None                  # the name in pull_state (default: the kind)
    base_url: str | None = None                # default: the provider's public API
    key_env: str | None = None                 # the environment variable holding the key
    env: Mapping[str, str] | None = None       # where to read it (default: os.environ)
    since: dt.datetime | None = None           # start here (first run, or to re-read a period)
    safety: dt.timedelta = dt.timedelta(days=2)
    lookback: dt.timedelta = dt.timedelta(days=30)   # first run without `since`
    now: dt.datetime | None = None             # tests pin the clock
    retry: RetryPolicy | None = None
    page_limit: int | None = None              # buckets per page (default: the API's maximum for 1d)
    timeout: float = 60.0


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def _day_floor(t: dt.datetime) -> dt.datetime:
    t = _utc(t)
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def _rfc3339(t: dt.datetime) -> str:
    return _utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    return _utc(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")))


# --- the providers ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Provider:
    kind: str
    key_env: str
    base_url: str
    streams: tuple[Stream, ...]
    headers: Callable[[str], dict[str, str]]
    window: Callable[[dt.datetime, dt.datetime, int | None], dict[str, Any]] | None = None
    bucket_end: Callable[[dict], dt.datetime | None] | None = None


_OPENAI_DIMS = ["project_id", "user_id", "api_key_id", "model"]


def _openai_window(start: dt.datetime, end: dt.datetime, limit: int | None) -> dict[str, Any]:
    return {"start_time": int(start.timestamp()), "end_time": int(end.timestamp()), "bucket_width": "1d",
            "limit": limit or 31}


OPENAI = Provider(
    kind="openai",
    key_env="OPENAI_ADMIN_KEY",
    base_url="https://api.openai.com",
    streams=(
        Stream("usage/completions", "/v1/organization/usage/completions", "openai-usage-api",
               {"group_by[]": [*_OPENAI_DIMS, "batch", "service_tier"]}),
        Stream("usage/embeddings", "/v1/organization/usage/embeddings", "openai-usage-api",
               {"group_by[]": _OPENAI_DIMS}),
        Stream("usage/moderations", "/v1/organization/usage/moderations", "openai-usage-api",
               {"group_by[]": _OPENAI_DIMS}),
        Stream("usage/images", "/v1/organization/usage/images", "openai-usage-api",
               {"group_by[]": [*_OPENAI_DIMS, "source", "size"]}),
        Stream("usage/audio_speeches", "/v1/organization/usage/audio_speeches", "openai-usage-api",
               {"group_by[]": _OPENAI_DIMS}),
        Stream("usage/audio_transcriptions", "/v1/organization/usage/audio_transcriptions", "openai-usage-api",
               {"group_by[]": _OPENAI_DIMS}),
        Stream("costs", "/v1/organization/costs", "openai-costs-api", {"group_by[]": ["project_id", "line_item"]}),
    ),
    headers=lambda key: {"Authorization": f"Bearer {key}"},
    window=_openai_window,
    bucket_end=lambda b: _parse_time(b.get("end_time")),
)


def _anthropic_window(start: dt.datetime, end: dt.datetime, limit: int | None) -> dict[str, Any]:
    return {"starting_at": _rfc3339(start), "ending_at": _rfc3339(end), "bucket_width": "1d", "limit": limit or 31}


ANTHROPIC = Provider(
    kind="anthropic",
    key_env="ANTHROPIC_ADMIN_KEY",
    base_url="https://api.anthropic.com",
    streams=(
        Stream("usage_report/messages", "/v1/organizations/usage_report/messages", "anthropic-usage-api",
               {"group_by[]": ["api_key_id", "workspace_id", "model", "service_tier", "context_window",
                               "inference_geo"]}),
        Stream("cost_report", "/v1/organizations/cost_report", "anthropic-cost-api",
               {"group_by[]": ["workspace_id", "description"]}),
    ),
    headers=lambda key: {"x-api-key": key, "anthropic-version": "2023-06-01"},
    window=_anthropic_window,
    bucket_end=lambda b: _parse_time(b.get("ending_at")),
)

OPENROUTER = Provider(
    kind="openrouter",
    key_env="OPENROUTER_API_KEY",
    base_url="https://openrouter.ai/api",
    streams=(Stream("activity", "/v1/activity", "openrouter-activity-csv"),),
    headers=lambda key: {"Authorization": f"Bearer {key}"},
)

PROVIDERS = {p.kind: p for p in (OPENAI, ANTHROPIC, OPENROUTER)}
OPENROUTER_DAYS = 30   # /activity serves the last 30 completed UTC days


# --- running a pull -------------------------------------------------------------------------------------------

def pull_provider(sink: Sink, kind: str, options: PullOptions | None = None) -> list[StreamReport]:
    """Pull every stream of provider `kind` into the ledger behind `sink`; one report per stream.
    Raises `PullAuthError` (after recording it) when the key is refused, `PullConfigError` when it is unset."""
    import os

    options = options or PullOptions()
    try:
        provider = PROVIDERS[kind]
    except KeyError:
        raise PullConfigError(f"unknown provider {kind!r}; one of {', '.join(PROVIDERS)}") from None
    key_env = options.key_env or provider.key_env
    env = os.environ if options.env is None else options.env
    key = env.get(key_env)
    source = options.source or kind
    now = _utc(options.now or dt.datetime.now(dt.timezone.utc))
    if not key:
        error = PullConfigError(f"set the environment variable {key_env} to your {kind} "
                                f"{'management' if kind == 'openrouter' else 'admin'} key to pull {kind} usage")
        for stream in provider.streams:   # recorded, so the Sources page shows what is missing
            sink.start(source, stream.name, kind, now)
            sink.finish(source, stream.name, now, str(error))
        raise error
    end = _day_floor(now)   # only closed daily buckets
    reports = []
    client = ApiClient(provider=kind, base_url=options.base_url or provider.base_url, headers=provider.headers(key),
                       key_env=key_env, retry=options.retry, timeout=options.timeout)
    with client, sink.scratch() as tmp:
        for stream in provider.streams:
            report = StreamReport(source, stream.name)
            reports.append(report)
            sink.start(source, stream.name, kind, now)
            try:
                cursor = sink.cursor(source, stream.name)
                start = _start(cursor, options, now)
                if kind == "openrouter":
                    start = max(start, end - OPENROUTER_DAYS * DAY)
                report.window = (start, end)
                if start < end:
                    run = _run_openrouter if kind == "openrouter" else _run_paged
                    run(client, sink, provider, stream, source, start, end, options, Path(tmp), report)
            except PullAuthError as e:
                report.error = redact(str(e), [key])
                sink.finish(source, stream.name, _utc(dt.datetime.now(dt.timezone.utc)), report.error)
                raise PullAuthError(redact(e.message, [key])) from None   # even if the API echoed the key
            except PullError as e:
                report.error = redact(str(e), [key])
            except BaseException as e:  # interrupted, or a bug: record it, then let it go on
                report.error = redact(f"{type(e).__name__}: {e}", [key])
                sink.finish(source, stream.name, _utc(dt.datetime.now(dt.timezone.utc)), report.error)
                raise
            sink.finish(source, stream.name, _utc(dt.datetime.now(dt.timezone.utc)), report.error)
    return reports


def _start(cursor: dt.datetime | None, options: PullOptions, now: dt.datetime) -> dt.datetime:
    """Where a run begins: `since` when given, else the cursor minus the safety window, else the lookback."""
    if options.since is not None:
        return _day_floor(options.since)
    if cursor is not None:
        return _day_floor(cursor - options.safety)
    return _day_floor(now - options.lookback)


def _pages(client: ApiClient, path: str, params: dict[str, Any]) -> Iterator[tuple[bytes, dict]]:
    """Every page of a paged endpoint, in order, following next_page while has_more."""
    params = dict(params)
    seen: set[str] = set()
    while True:
        response = client.get(path, params)
        try:
            body = response.json()
        except ValueError:
            raise PullError(f"{client.provider} {path} answered with something that is not JSON",
                            title="Unexpected answer") from None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise PullError(f"{client.provider} {path} answered without a `data` list", title="Unexpected answer")
        yield response.content, body
        if not body.get("has_more"):
            return
        token = body.get("next_page")
        if not token or token in seen:
            raise PullError(f"{client.provider} {path} said has_more but gave no new next_page",
                            title="Unexpected answer")
        seen.add(token)
        params["page"] = token


def _run_paged(client: ApiClient, sink: Sink, provider: Provider, stream: Stream, source: str,
               start: dt.datetime, end: dt.datetime, options: PullOptions, tmp: Path,
               report: StreamReport) -> None:
    params = {**stream.params, **provider.window(start, end, options.page_limit)}
    slug = stream.name.replace("/", "-")
    for n, (content, body) in enumerate(_pages(client, stream.path, params), start=1):
        buckets = [b for b in body["data"] if isinstance(b, dict)]
        ends = [e for e in (provider.bucket_end(b) for b in buckets) if e is not None]
        until = min(max(ends), end) if ends else None
        files, display = [], {}
        if any(b.get("results") for b in buckets):   # a page of empty buckets has no rows to load
            path = tmp / f"{source}-{slug}-{start:%Y%m%d}-{n:04d}.json"
            path.write_bytes(content)
            files = [path]
            display = {str(path): f"pull:{source}/{stream.name} {start:%Y-%m-%d}..{end:%Y-%m-%d} page {n}"}
        page = sink.load(source, stream.name, files, format_id=stream.format_id, display=display,
                         loaded_until=until)
        for f in files:
            f.unlink(missing_ok=True)
        report.pages += 1
        report.rows_loaded += page.loaded
        report.rows_duplicate += page.duplicate
        report.rows_rejected += page.rejected
        report.loaded_until = until or report.loaded_until


ACTIVITY_HEADER = ["Date", "Slug", "Usage", "BYOK Usage", "Requests", "Prompt Tokens", "Completion Tokens",
                   "Reasoning Tokens"]


def activity_rows(items: list[dict]) -> list[list[str]]:
    """`/activity` items (one per day x endpoint) summed per day and model, in the Activity export's columns."""
    sums: dict[tuple[str, str], list] = {}
    for item in items:
        day = str(item.get("date", ""))[:10]
        model = item.get("model") or item.get("model_permaslug") or "unknown"
        acc = sums.setdefault((day, model), [Decimal(0), Decimal(0), 0, 0, 0, 0])
        acc[0] += Decimal(str(item.get("usage") or 0))
        acc[1] += Decimal(str(item.get("byok_usage_inference") or 0))
        for i, k in enumerate(("requests", "prompt_tokens", "completion_tokens", "reasoning_tokens"), start=2):
            acc[i] += int(item.get(k) or 0)
    return [[f"{day} 00:00:00", model, *(str(v) for v in acc)] for (day, model), acc in sorted(sums.items())]


def _run_openrouter(client: ApiClient, sink: Sink, provider: Provider, stream: Stream, source: str,
                    start: dt.datetime, end: dt.datetime, options: PullOptions, tmp: Path,
                    report: StreamReport) -> None:
    day = start
    while day < end:
        response = client.get(stream.path, {"date": day.strftime("%Y-%m-%d")})
        try:
            items = response.json().get("data")
        except (ValueError, AttributeError):
            items = None
        if not isinstance(items, list):
            raise PullError(f"openrouter {stream.path} answered without a `data` list", title="Unexpected answer")
        rows = activity_rows([i for i in items if isinstance(i, dict)])
        files, display = [], {}
        if rows:
            path = tmp / f"{source}-activity-{day:%Y%m%d}.csv"
            with open(path, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh, quoting=csv.QUOTE_ALL)
                writer.writerow(ACTIVITY_HEADER)
                writer.writerows(rows)
            files = [path]
            display = {str(path): f"pull:{source}/activity {day:%Y-%m-%d}"}
        page = sink.load(source, stream.name, files, format_id=stream.format_id, display=display,
                         loaded_until=day + DAY)
        for f in files:
            f.unlink(missing_ok=True)
        report.pages += 1
        report.rows_loaded += page.loaded
        report.rows_duplicate += page.duplicate
        report.rows_rejected += page.rejected
        report.loaded_until = day + DAY
        day += DAY


def describe(reports: list[StreamReport]) -> str:
    """One line per stream, for people."""
    lines = []
    for r in reports:
        if r.error:
            lines.append(f"FAILED  {r.source} {r.stream}: {r.error}")
            continue
        until = f", loaded until {r.loaded_until:%Y-%m-%d %H:%M}" if r.loaded_until else ""
        lines.append(f"ok      {r.source} {r.stream}: {r.pages} page(s), {r.rows_loaded:,} new row(s), "
                     f"{r.rows_duplicate:,} already loaded, {r.rows_rejected:,} rejected{until}")
    return "\n".join(lines)


def reports_json(reports: list[StreamReport]) -> str:
    return json.dumps({"streams": [r.to_json() for r in reports]}, indent=2)
