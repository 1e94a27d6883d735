"""The Upload & data page's work: stage uploaded files on disk, say what format each one is and show its first
rows before anything is loaded, load them, and read the ingest history, an upload's rejected rows and the
coverage of each provider by source and day. No streamlit here.

Uploads never become paths: a staged file is `<folder>/<random hex><known suffix>`; the user's file name is
kept only as the display name recorded in `ingest_log` (Streamlit does not sanitise it)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import tempfile
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl

from dashboard.services import QueryRunner, money_as_float, plural
from ingest import FileResult, formats, ingest_paths, read
from ingest.formats.base import Format
from modelmix.settings import settings
from warehouse import Warehouse, ledger
from warehouse.errors import IngestError

UPLOAD_TYPES = ["csv", "tsv", "txt", "json", "jsonl", "ndjson", "parquet", "xlsx", "xlsm", "gz", "zip"]
CHUNK_BYTES = 4 << 20                 # copy uploads in 4 MiB chunks, never the whole file at once
PREVIEW_ROWS = 10
PREVIEW_HEAD_BYTES = 256 * 1024
HISTORY_LIMIT = 200

QUERIES = {
    "history": "ingest_history",
    "rejects": "ingest_rejects",
    "warnings": "ingest_warnings",
    "conservation": "ingest_conservation",
    "replaced": "ingest_replaced",
    "coverage": "coverage_by_provider_day",
}


# --- staging ---------------------------------------------------------------------------------------------
def safe_suffix(name: str) -> str:
    """The file's data suffixes we know (e.g. '.csv.gz'), taken from the user's name; never a path part."""
    parts = [s.lower() for s in Path(name.replace("\\", "/")).name.split(".")[1:]][-2:]
    known = [f".{p}" for p in parts if p in UPLOAD_TYPES]
    return "".join(known)


def stage(upload: BinaryIO, name: str, folder: Path, max_bytes: int | None = None) -> Path:
    """Copy an upload to a server-chosen file in `folder`, chunk by chunk; return its path. Past `max_bytes`
    (default: the `max_upload_bytes` setting) the copy stops, is deleted, and an IngestError says what to do."""
    limit = settings().max_upload_bytes if max_bytes is None else max_bytes
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{safe_suffix(name)}"
    upload.seek(0)
    written = 0
    try:
        with open(target, "wb") as out:
            while chunk := upload.read(CHUNK_BYTES):
                written += len(chunk)
                if written > limit:
                    raise IngestError(f"{name}: is larger than the {size_text(limit)} upload limit "
                                      "(MODELMIX_MAX_UPLOAD_BYTES); load it with `modelmix ingest` on the server, "
                                      "or split it")
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def session_folder(token: str) -> Path:
    """Where one browser session's uploads wait between upload and load."""
    return Path(tempfile.gettempdir()) / "modelmix-uploads" / token


def size_text(n: int) -> str:
    """1,234 bytes -> '1.2 KB'; for file labels."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"


def discard(paths: list[Path]) -> None:
    for p in paths:
        Path(p).unlink(missing_ok=True)


# --- inspecting before loading ---------------------------------------------------------------------------
@dataclass
class Inspection:
    """What one file (or zip member) looks like before it is loaded."""

    name: str
    container: str | None = None
    format_id: str | None = None        # detected, or the override
    detected_id: str | None = None
    kind: str | None = None             # billing | telemetry
    reads: str | None = None
    missing: list[str] = field(default_factory=list)
    preview: pl.DataFrame | None = None
    preview_text: str | None = None     # a JSON document that is not one record per line
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.error is None and self.format_id is not None and not self.missing


def format_labels() -> dict[str, str]:
    """Format id -> 'id (billing): what it reads', for the override picker."""
    return {f.id: f"{f.id} ({f.kind})" for f in formats.FORMATS.values()}


def inspect(path: Path, name: str, format_id: str | None = None,
            max_unzipped_bytes: int = 20 * 2**30) -> list[Inspection]:
    """Detect the format of a staged file (each member of a zip) and read its first rows, as text."""
    out: list[Inspection] = []
    with tempfile.TemporaryDirectory(prefix="modelmix-inspect-") as tmp:
        for item in read.expand([path], Path(tmp), max_unzipped_bytes, {str(path): name}):
            if isinstance(item, IngestError):
                out.append(Inspection(name=name, error=item.message))
                continue
            out.append(_inspect_one(item, format_id))
    return out


def _inspect_one(src: read.SourceFile, format_id: str | None) -> Inspection:
    result = Inspection(name=src.name)
    try:
        sample = read.sample(src)
    except IngestError as e:
        result.error = e.message
        return result
    result.container = sample.container
    detected = formats.detect(sample)
    result.detected_id = detected.id if detected else None
    fmt: Format | None = formats.get(format_id) if format_id else detected
    if fmt is None:
        # described, never quoted, and no preview: an unrecognised file's text is not shown (docs/reliability.md)
        result.error = (f"{read.unrecognised(src, sample).removeprefix(f'{src.name}: ')}. Pick the format below if "
                        "you know it, or map the file with a mapping file (`modelmix ingest --mapping`).")
        return result
    result.format_id, result.kind, result.reads = fmt.id, fmt.kind, fmt.reads
    if sample.container not in fmt.containers:
        result.error = f"the file is {sample.container}, but format {fmt.id} reads {'/'.join(fmt.containers)}"
    elif repeated := read.repeated_columns(src, sample):
        result.error = repeated.removeprefix(f"{src.name}: ")
    result.missing = fmt.missing_columns(sample)
    try:
        if sample.container == "parquet":
            result.preview = _parquet_head(src.path)
        elif sample.container == "json":
            result.preview, result.preview_text = _json_head(_head_text(src))
        else:
            result.preview = _csv_head(_head_text(src))
    except (IngestError, OSError, ValueError, csv.Error) as e:    # csv.Error: a field past 128 KiB
        result.preview_text = f"(no preview: {e})"
    return result


def _head_text(src: read.SourceFile) -> str:
    try:
        opener = gzip.open if src.compression == "gzip" else open
        with opener(src.path, "rb") as fh:
            raw = fh.read(PREVIEW_HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as e:
        raise IngestError(f"cannot be read ({e})") from e
    return raw.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        n = n.strip() or "column"
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def _csv_head(text: str) -> pl.DataFrame:
    lines = text.splitlines()[: PREVIEW_ROWS * 4 + 40]     # enough lines for quoted multi-line fields
    rows = [r for r in csv.reader(io.StringIO("\n".join(lines))) if r]
    if not rows:
        return pl.DataFrame()
    # a metadata preamble (GCP cost table): the header is the first of the widest rows
    width = max(len(r) for r in rows[:30])
    start = next(i for i, r in enumerate(rows) if len(r) == width)
    header = _unique(rows[start])
    body = [(r + [""] * width)[:width] for r in rows[start + 1: start + 1 + PREVIEW_ROWS]]
    return pl.DataFrame({h: [r[j] for r in body] for j, h in enumerate(header)}, schema={h: pl.String for h in header})


def _flat(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _json_head(text: str) -> tuple[pl.DataFrame | None, str | None]:
    """JSON lines: the first records as a table (nested values as JSON text). A JSON document: its first lines."""
    records = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):    # RecursionError: a line nested thousands deep
            break
        if isinstance(value, dict):
            records.append(value)
        if len(records) >= PREVIEW_ROWS:
            break
    if len(records) >= 2 or (records and len(text.splitlines()) <= 2):
        keys = list(dict.fromkeys(k for r in records for k in r))
        return pl.DataFrame({k: [None if k not in r else _flat(r[k]) for r in records] for k in keys},
                            schema={k: pl.String for k in keys}), None
    return None, "\n".join(text[:6000].splitlines()[:40])


def _parquet_head(path: Path) -> pl.DataFrame:
    import pyarrow.parquet as pq

    batch = next(pq.ParquetFile(path).iter_batches(batch_size=PREVIEW_ROWS), None)
    if batch is None:
        return pl.DataFrame()
    df = pl.from_arrow(batch)
    return df.select([pl.col(c).cast(pl.String, strict=False) for c in df.columns])


# --- loading ---------------------------------------------------------------------------------------------
def load(wh: Warehouse, path: Path, name: str, format_id: str | None = None, *,
         on_result: Callable[[FileResult], None] | None = None,
         max_unzipped_bytes: int = 20 * 2**30) -> list[FileResult]:
    """Load one staged upload (every member of a zip), each file in its own transaction; one result per file,
    named as the user knows it. Committing bumps the warehouse's data version, so every cached query of every
    page reads the new data on its next run."""
    return ingest_paths(wh, [path], format_id=format_id or None, display_names={str(path): name},
                        max_unzipped_bytes=max_unzipped_bytes, on_result=on_result)


def results_frame(results: list[FileResult]) -> pl.DataFrame:
    """One row per loaded file for the results table, with its verdict and where its dollars went."""
    return pl.DataFrame(
        [{"file": r.path, "format": r.format, "verdict": verdict(r)[0], "status": r.status,
          "rows_loaded": r.rows_loaded, "rows_duplicate": r.rows_duplicate, "rows_rejected": r.rows_rejected,
          "rows_replaced": r.rows_replaced, "rows_warned": r.rows_warned, "conservation": r.conservation,
          "rows_per_second": round(r.rows_per_second), "seconds": round(r.seconds, 2), "error": r.error,
          "ingest_id": r.ingest_id} for r in results],
        schema={"file": pl.String, "format": pl.String, "verdict": pl.String, "status": pl.String,
                "rows_loaded": pl.Int64, "rows_duplicate": pl.Int64, "rows_rejected": pl.Int64,
                "rows_replaced": pl.Int64, "rows_warned": pl.Int64, "conservation": pl.String,
                "rows_per_second": pl.Int64, "seconds": pl.Float64, "error": pl.String, "ingest_id": pl.Int64},
    )


def verdict(r: FileResult) -> tuple[str, str]:
    """One verdict per file in plain words, and its level (success | info | warning | error)."""
    if r.status == "rejected":
        return "rejected", "error"
    if r.status == "duplicate" or (not r.rows_loaded and not r.rows_replaced):
        return "nothing new: already in the ledger", "info"
    parts = [f"loaded {plural(r.rows_loaded, 'row')}"]
    if r.rows_replaced:
        parts.append(f"replaced {plural(r.rows_replaced, 'earlier row')}")
    if r.rows_rejected:
        parts.append(f"{plural(r.rows_rejected, 'row')} rejected")
    if r.rows_warned:
        parts.append(f"{r.rows_warned:,} with a warning")
    return ", ".join(parts), "warning" if r.rows_rejected or r.rows_warned else "success"


def warnings(run: QueryRunner, ingest_id: int) -> pl.DataFrame:
    """The rows one upload loaded with a plausibility warning: row_number, column_name, value, warning."""
    return run(QUERIES["warnings"], ingest_id=int(ingest_id))


def conservation(run: QueryRunner, ingest_id: int) -> pl.DataFrame:
    """Where one upload's rows went: part (file, loaded, already_loaded, superseded_in_file, rejected), rows,
    requests, cost_usd, tokens."""
    return money_as_float(run(QUERIES["conservation"], ingest_id=int(ingest_id)))


def replaced(run: QueryRunner, ingest_id: int) -> pl.DataFrame:
    """The earlier uploads whose rows this one replaced (a later export of their window, restated requests)."""
    return money_as_float(run(QUERIES["replaced"], ingest_id=int(ingest_id)))


# --- history, rejects, removal ---------------------------------------------------------------------------
def history(run: QueryRunner, limit: int = HISTORY_LIMIT) -> pl.DataFrame:
    """Every file handed to ingest, newest first (ingest_log)."""
    return run(QUERIES["history"], limit=int(limit))


def rejects(run: QueryRunner, ingest_id: int) -> pl.DataFrame:
    """The rows one upload set aside: row_number, column_name, value, reason."""
    return run(QUERIES["rejects"], ingest_id=int(ingest_id))


def remove(wh: Warehouse, ingest_id: int) -> int:
    """Take one upload's rows out of the ledger (its log row stays, marked removed); returns the rows removed."""
    return wh.write(ledger.remove_ingest, int(ingest_id))


# --- coverage --------------------------------------------------------------------------------------------
# the state of one provider x source x day cell in the coverage chart, in legend order
COVERAGE_STATES = {
    0: "gap — no source for this provider",
    1: "not from this source",
    2: "counted — the only source",
    3: "counted — overlaps another source",
    4: "superseded — loaded, not counted",
}


def coverage(run: QueryRunner, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Which sources cover each provider and day (coverage_by_provider_day), with the disagreement between
    overlapping sources."""
    return money_as_float(run(QUERIES["coverage"], start=start, end=end))


def coverage_grid(cov: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Every provider x source x day of the range with a state code (COVERAGE_STATES). A day without this source
    is a gap (0) when the provider has no source at all that day, between its first and last day with data in
    the range; else simply not from this source (1). Columns: provider, source_format, source_kind,
    source (label), day, state, detail."""
    if cov.is_empty():
        return pl.DataFrame(schema={"provider": pl.String, "source_format": pl.String, "source_kind": pl.String,
                                    "source": pl.String, "day": pl.Date, "state": pl.Int64, "detail": pl.String})
    days = pl.DataFrame({"day": pl.date_range(start, end, "1d", eager=True)})
    sources = cov.select("provider", "source_format", "source_kind").unique()
    provider_days = cov.select("provider", "day").unique().with_columns(provider_has=pl.lit(True))
    spans = cov.group_by("provider").agg(first=pl.col("day").min(), last=pl.col("day").max())
    present = cov.select(
        "provider", "day", "source_format", "in_spend", "sources_that_day", "tokens_vs_counted", "cost_vs_counted",
        "requests", "tokens", pl.coalesce("billed_usd", "list_usd").alias("cost_usd"))
    grid = (sources.join(days, how="cross")
            .join(present, on=["provider", "source_format", "day"], how="left")
            .join(provider_days, on=["provider", "day"], how="left")
            .join(spans, on="provider", how="left"))
    inside = pl.col("day").is_between("first", "last")
    state = (pl.when(pl.col("in_spend").is_null())
             .then(pl.when(pl.col("provider_has").is_null() & inside).then(0).otherwise(1))
             .when(~pl.col("in_spend")).then(4)
             .when(pl.col("sources_that_day") > 1).then(3)
             .otherwise(2))
    diff = pl.when(pl.col("in_spend") == False).then(  # noqa: E712 -- polars expression, not a Python bool
        pl.format(" · tokens {} · cost {} vs the counted source",
                  _signed_pct("tokens_vs_counted"), _signed_pct("cost_vs_counted"))).otherwise(pl.lit(""))
    detail = pl.when(pl.col("in_spend").is_null()).then(pl.lit("")).otherwise(
        pl.format("{} requests · {} tokens · ${}", pl.col("requests"), pl.col("tokens"),
                  pl.col("cost_usd").round(2).fill_null(0)) + diff)
    return (grid.with_columns(state=state.cast(pl.Int64), detail=detail,
                              source=pl.format("{} · {} ({})", "provider", "source_format", "source_kind"))
            .select("provider", "source_format", "source_kind", "source", "day", "state", "detail")
            .sort("provider", "source_format", "day"))


def _signed_pct(col: str) -> pl.Expr:
    v = pl.col(col) * 100
    return (pl.when(v.is_null()).then(pl.lit("n/a"))
            .otherwise(pl.when(v >= 0).then(pl.lit("+")).otherwise(pl.lit("")) + v.round(1).cast(pl.String) + "%"))


def overlaps(cov: pl.DataFrame) -> pl.DataFrame:
    """The provider-days covered by more than one source, with how far each source disagrees with the one that
    counts (tokens and cost, as a fraction: 0.25 = 25% more)."""
    return (cov.filter(pl.col("sources_that_day") > 1)
            .select("provider", "day", "source_format", "source_kind", "in_spend", "in_replay", "requests",
                    "tokens", pl.coalesce("billed_usd", "list_usd").alias("cost_usd"), "tokens_vs_counted",
                    "cost_vs_counted"))


def gap_days(grid: pl.DataFrame) -> pl.DataFrame:
    """Per provider: the days of the range with no source at all, between its first and last day with data."""
    if grid.is_empty():
        return pl.DataFrame(schema={"provider": pl.String, "gap_days": pl.UInt32})
    return (grid.filter(pl.col("state") == 0).group_by("provider").agg(gap_days=pl.col("day").n_unique())
            .sort("provider"))
