"""The load job: one file -> one transaction (log row, rejects, new rows, derived tables) or nothing at all."""

from __future__ import annotations

import csv
import itertools
import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import duckdb

import sql
from ingest import formats, read, stage
from ingest.formats.base import Format, Sample
from warehouse import Warehouse, audit, ledger
from warehouse.db import execute
from warehouse.errors import DatabaseError, IngestError, ModelMixError

MAX_REJECT_EXAMPLES = 5


@dataclass
class FileResult:
    path: str
    format: str | None = None
    status: str = "rejected"       # loaded | duplicate | rejected
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    error: str | None = None
    ingest_id: int | None = None
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        total = self.rows_loaded + self.rows_duplicate + self.rows_rejected
        return total / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict:
        keys = ("path", "format", "status", "rows_loaded", "rows_duplicate", "rows_rejected", "error")
        return {k: v for k, v in asdict(self).items() if k in keys}


def ingest_paths(wh: Warehouse, paths: list[str | Path], *, format_id: str | None = None, strict: bool = False,
                 max_unzipped_bytes: int = 20 * 2**30, display_names: dict[str, str] | None = None,
                 on_result: Callable[[FileResult], None] | None = None, fmt: Format | None = None) -> list[FileResult]:
    """Ingest every file under `paths` (folders walked, zips opened); one result per file, in order.
    `display_names` maps a path to the name the user knows it by (files handed over through the inbox).
    `fmt` skips detection with a format built at run time (a mapping file's `mapped-csv`).
    Raises nothing for a file: every ModelMixError (a rejected file, named by file, row and column; a read-only
    view's PermissionDenied; a full disk's DatabaseError) becomes that file's result `error`."""
    results = []
    with wh.staging_area() as tmp:
        for item in read.expand(paths, Path(tmp), max_unzipped_bytes, display_names or {}):
            if isinstance(item, IngestError):
                result = FileResult(path=item.message.split(":", 1)[0], error=item.message)
            else:
                result = ingest_file(wh, item, format_id=format_id, strict=strict, fmt=fmt, workdir=Path(tmp))
            results.append(result)
            if on_result:
                on_result(result)
    return results


def ingest_file(wh: Warehouse, src: read.SourceFile, *, format_id: str | None = None,
                strict: bool = False, fmt: Format | None = None, workdir: Path) -> FileResult:
    """`workdir`: a folder of `wh.staging_area()`; DuckDB reads files only there (Warehouse._harden)."""
    started = time.perf_counter()
    result = FileResult(path=src.name)
    staged = src
    try:
        staged = read.stage_into(src, workdir)
        src = staged
        sample = read.sample(src)
        fmt = fmt or (formats.get(format_id) if format_id else formats.detect(sample))
        if fmt is None:
            seen = ", ".join(sorted(sample.columns)[:12]) or "none"
            raise IngestError(f"{src.name}: format not recognised (columns seen: {seen}). "
                              "Pass --format with one of `modelmix formats`, or map it with a mapping file.")
        result.format = fmt.id
        if sample.container not in fmt.containers:
            raise IngestError(f"{src.name}: is {sample.container}, but format {fmt.id} reads {'/'.join(fmt.containers)}")
        if missing := fmt.missing_columns(sample):
            raise IngestError(f"{src.name}: missing required column(s) {', '.join(missing)} for format {fmt.id}")
        if sample.container == "csv" and src.long_line:
            raise IngestError(f"{src.name}: line {src.long_line:,} is longer than {read.MAX_LINE_BYTES // 2**20} MiB, "
                              "the most one CSV record may hold; check that it is a CSV export with one record per "
                              "line, or re-export it without the long field")
        digest = read.sha256(src.path)
        loaded = wh.write(_load, src, fmt, sample, digest, strict)
        result.__dict__.update(loaded)
    except IngestError as e:
        result.error = e.message
    except ModelMixError as e:
        result.error = f"{src.name}: {e.message}"
    finally:
        if staged.path.name == read.STAGED_NAME:
            staged.path.unlink(missing_ok=True)
    result.seconds = time.perf_counter() - started
    return result


def _describe_rejects(cur: duckdb.DuckDBPyConnection, name: str) -> str:
    rows = cur.execute(
        "select _row, e.column, e.value, e.reason from "
        "(select _row, unnest(_errors) as e from staged where _errors is not null) order by _row limit $n",
        {"n": MAX_REJECT_EXAMPLES},
    ).fetchall()
    return "; ".join(f"{name} row {r}, column {c}: {why} ({v!r})" for r, c, v, why in rows)


def _load(cur: duckdb.DuckDBPyConnection, src: read.SourceFile, fmt: Format, sample: Sample, digest: str,
          strict: bool) -> dict:
    """Runs on the writer thread inside one transaction; raising rolls the whole file back."""
    earlier = cur.execute(
        "select rows_loaded + rows_duplicate, rows_rejected from ingest_log where sha256 = $sha and status = 'loaded' "
        "order by ingest_id limit 1", {"sha": digest}).fetchone()
    ingest_id = cur.execute("select nextval('ingest_id_seq')").fetchone()[0]
    log = {"id": ingest_id, "name": src.name, "sha": digest, "format": fmt.id, "kind": fmt.kind}
    if earlier is not None:
        # the same bytes are already in the ledger: nothing to read
        execute(cur, sql.load("writes/insert_ingest_log"),
                    {**log, "status": "duplicate", "read": sum(earlier), "loaded": 0, "dup": earlier[0],
                     "rejected": earlier[1], "ts_min": None, "ts_max": None})
        audit.record(cur, "ingest", src.name, {"ingest_id": ingest_id, "format": fmt.id, "status": "duplicate"})
        return {"status": "duplicate", "rows_duplicate": earlier[0], "rows_rejected": earlier[1],
                "ingest_id": ingest_id}

    try:
        params = {"path": str(src.path)}
        if sample.container != "parquet":
            params["compression"] = "gzip" if src.compression == "gzip" else "none"
        cur.execute(stage.staging_sql(fmt, sample, src.compression), params)
    except duckdb.Error as e:
        raise _read_error(src, fmt, sample, e) from e
    total, rejected, ts_min, ts_max = cur.execute(
        "select count(*), count(*) filter (where _errors is not null), min(ts) filter (where _errors is null), "
        "max(ts) filter (where _errors is null) from staged").fetchone()
    if total == 0:
        # a loaded-nothing result, not an error: say what the file held
        held = cur.execute(stage.source_rows_sql(fmt, sample, src.compression), params).fetchone()[0]
        cur.execute("drop table if exists staged")
        return {"status": "loaded", "error": stage.nothing_loaded(src.name, fmt, sample, held)}
    if rejected and (strict or rejected == total):
        why = "every row failed validation" if rejected == total else f"{rejected:,} row(s) failed validation (--strict)"
        raise IngestError(f"{src.name}: {why}: {_describe_rejects(cur, src.name)}. Nothing was loaded; fix these "
                          "rows and load the file again")

    execute(cur, sql.load("writes/insert_rejects"), {"ingest_id": ingest_id})
    loaded = execute(cur, sql.load("writes/insert_new_rows"), {"ingest_id": ingest_id, "format": fmt.id}).fetchone()[0]
    duplicate = total - rejected - loaded
    execute(cur, sql.load("writes/insert_ingest_log"),
                {**log, "status": "loaded", "read": total, "loaded": loaded, "dup": duplicate,
                 "rejected": rejected, "ts_min": ts_min, "ts_max": ts_max})
    # the rows set aside, named by row and column, so the job's output says what to fix
    note = (f"{rejected:,} row(s) set aside, the rest loaded: {_describe_rejects(cur, src.name)}"
            f"{' …' if rejected > MAX_REJECT_EXAMPLES else ''}. Fix those rows and load the file again (rows already "
            "loaded are not counted twice); all of them are in the Upload page's rejected rows") if rejected else None
    if loaded:
        ledger.refresh_derived(cur, days=(ts_min, ts_max))   # only the days this file's rows fall on
    audit.record(cur, "ingest", src.name, {"ingest_id": ingest_id, "format": fmt.id, "status": "loaded",
                                            "rows_loaded": loaded, "rows_duplicate": duplicate,
                                            "rows_rejected": rejected})
    cur.execute("drop table if exists staged")
    return {"status": "loaded", "rows_loaded": loaded, "rows_duplicate": duplicate, "rows_rejected": rejected,
            "ingest_id": ingest_id, "error": note}


_DISK = ("No space left", "Permission denied", "Read-only file system", "read-only", "File too large",
         "Disk quota", "Could not write")


def _read_error(src: read.SourceFile, fmt: Format, sample: Sample, e: duckdb.Error) -> Exception:
    """A DuckDB error from the staging read, as a message that names the file, the line where known, and what to
    do. The database's own disk problems are not the file's fault: they become a DatabaseError."""
    text = str(e)
    if isinstance(e, duckdb.IOException) and any(m in text for m in _DISK) and str(src.path) not in text:
        return DatabaseError(f"the ledger cannot be written ({_first_line(e)}); free disk space or check the ledger "
                             "folder's permissions, then load the file again")
    if "Out of Memory" in text:   # past memory_limit DuckDB spills to <ledger>.tmp; a full disk ends up here
        return DatabaseError(f"not enough memory or disk space to load it ({_first_line(e)}); free disk space beside "
                             "the ledger (its .tmp folder) or raise MODELMIX_MEMORY_LIMIT, then load the file again")
    line = re.search(r"(?:Error on Line|line):? (\d+)", text)
    at = f" (line {int(line.group(1)):,})" if line else ""
    if "Invalid unicode" in text or "not utf-8" in text.lower():
        return IngestError(f"{src.name}: is not UTF-8 text{at}; save it as UTF-8 (CSV UTF-8 in Excel) and upload again")
    if "maximum_depth" in text or "nesting" in text.lower():
        return IngestError(f"{src.name}: its JSON is nested deeper than {fmt.id} exports are{at}; check that it is "
                           "the provider's export, unedited")
    # a structural failure (the sniffer fell back to one column, or a record of the wrong width); a format's own
    # deliberate error (e.g. a currency it refuses) is shown as it is
    structural = any(m in text for m in ("Referenced column", "CSV Error", "Number of Columns"))
    if structural and sample.container == "csv" and src.compression == "none":
        if found := _ragged_line(src.path):
            n, got, want = found
            return IngestError(f"{src.name}: line {n:,} has {got} columns but the header has {want}; fix or remove "
                               "that line (a stray comma or quote?) and upload again")
    if isinstance(e, duckdb.BinderException) or text.startswith("Binder Error"):
        return _binder_error(src, fmt, sample, text)
    return IngestError(f"{src.name}: cannot be read as {fmt.id}{at} ({_first_line(e)}); check that the file is a "
                       "complete, unedited export, or pick its format")


def _binder_error(src: read.SourceFile, fmt: Format, sample: Sample, text: str) -> IngestError:
    """A column the format's SQL names is not in the file as DuckDB read it: say which, never the SQL error."""
    found = re.search(r'Referenced column "([^"]+)" not found', text)
    column = found.group(1) if found else None
    seen = ", ".join(sorted(sample.columns)[:12]) or "none"
    what = f"has no column {column!r}" if column else "does not have the columns it needs"
    return IngestError(f"{src.name}: {what} for format {fmt.id} (columns read: {seen}); check that it is a "
                       "complete, unedited export with its header row, or pick its format")


def _ragged_line(path, limit: int = 1_000_000) -> tuple[int, int, int] | None:
    """The first record (1-based line) whose column count differs from the header's, in the first `limit` lines:
    only run after DuckDB failed, to say where."""
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            for row in itertools.islice(reader, limit):
                if row and len(row) != len(header):
                    return reader.line_num, len(row), len(header)
    except (OSError, csv.Error):
        return None
    return None


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else type(e).__name__


def results_json(results: list[FileResult]) -> str:
    return json.dumps({"files": [r.to_json() for r in results]}, indent=2)
