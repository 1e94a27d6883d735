"""The load job: one file -> one transaction (log row, rejects, new rows, derived tables) or nothing at all."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

import sql
from ingest import formats, read, stage
from ingest.formats.base import Format, Sample
from warehouse import Warehouse, audit, ledger
from warehouse.db import execute
from warehouse.errors import DatabaseError, IngestError, ModelMixError, quote

MAX_REJECT_EXAMPLES = 5


@dataclass
class FileResult:
    path: str
    format: str | None = None
    status: str = "rejected"       # loaded | duplicate | rejected
    rows_loaded: int = 0
    rows_duplicate: int = 0        # already in the ledger, or superseded by a later line of the same file
    rows_rejected: int = 0
    rows_replaced: int = 0         # earlier ledger rows this file replaced (a later export of their window)
    rows_warned: int = 0           # loaded rows with a plausibility warning (ingest_warnings)
    error: str | None = None
    ingest_id: int | None = None
    seconds: float = 0.0
    parts: dict = field(default_factory=dict)      # part -> {rows, requests, cost_usd, tokens}
    replaced: list = field(default_factory=list)   # [{ingest_id, file, kind, day_from, day_to, days, rows, cost_usd}]

    @property
    def rows_per_second(self) -> float:
        total = self.rows_loaded + self.rows_duplicate + self.rows_rejected
        return total / self.seconds if self.seconds else 0.0

    def cost(self, part: str) -> float:
        return (self.parts.get(part) or {}).get("cost_usd") or 0.0

    @property
    def conservation(self) -> str | None:
        """One line a finance user can check against the file: "file $190.34 → loaded $190.34 …" (tokens where the
        file has no money column)."""
        file = self.parts.get("file")
        if not file:
            return None
        priced = file.get("cost_usd") is not None

        def amount(part: dict) -> str:
            return money(part.get("cost_usd") or 0) if priced else f"{part.get('tokens') or 0:,} tokens"

        shown = [f"{label} {amount(self.parts[p])}"
                 for p, label in (("loaded", "loaded"), ("already_loaded", "already in the ledger"),
                                  ("superseded_in_file", "superseded by a later line of the file"),
                                  ("rejected", "rejected"))
                 if (self.parts.get(p) or {}).get("rows")]
        line = f"file {amount(file)} → {' + '.join(shown) or 'nothing'}"
        for r in self.replaced:
            name = Path(r["file"] or "an earlier load").name
            what = (f"{r['rows']:,} row(s) over {r['days']} day(s) of {name}" if r["kind"] == "window"
                    else f"{r['rows']:,} restated request(s) of {name}")
            line += f"; replaced {what}: −{money(r['cost_usd'] or 0)}"
        return line

    def to_json(self) -> dict:
        keys = ("path", "format", "status", "rows_loaded", "rows_duplicate", "rows_rejected", "rows_replaced",
                "rows_warned", "error", "ingest_id", "parts", "replaced")
        out = {k: v for k, v in asdict(self).items() if k in keys}
        out["conservation"] = self.conservation
        return out


def money(x: float) -> str:
    return f"-${-x:,.2f}" if x < 0 else f"${x:,.2f}"


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
                # the loads of this call so far: part files of one split billing export don't replace each other
                batch = [r.ingest_id for r in results if r.status == "loaded" and r.ingest_id is not None]
                result = ingest_file(wh, item, format_id=format_id, strict=strict, fmt=fmt, workdir=Path(tmp),
                                     batch=batch)
            results.append(result)
            if on_result:
                on_result(result)
    return results


def ingest_file(wh: Warehouse, src: read.SourceFile, *, format_id: str | None = None,
                strict: bool = False, fmt: Format | None = None, workdir: Path, batch: list[int] | None = None
                ) -> FileResult:
    """`workdir`: a folder of `wh.staging_area()`; DuckDB reads files only there (Warehouse._harden).
    `batch`: ingest ids loaded together with this file (one folder, zip or upload)."""
    started = time.perf_counter()
    result = FileResult(path=src.name)
    staged = src
    try:
        staged = read.stage_into(src, workdir)
        src = staged
        sample = read.sample(src)
        fmt = fmt or (formats.get(format_id) if format_id else formats.detect(sample))
        if fmt is None:
            raise IngestError(f"{read.unrecognised(src, sample)}. Pass --format with one of `modelmix formats`, or "
                              "map it with a mapping file.")
        result.format = fmt.id
        if repeated := read.repeated_columns(src, sample):
            raise IngestError(repeated)
        if sample.container not in fmt.containers:
            raise IngestError(f"{src.name}: is {sample.container}, but format {fmt.id} reads {'/'.join(fmt.containers)}")
        if missing := fmt.missing_columns(sample):
            raise IngestError(f"{src.name}: missing required column(s) {', '.join(missing)} for format {fmt.id}")
        if sample.container == "csv" and src.long_line:
            raise IngestError(f"{src.name}: line {src.long_line:,} is longer than {read.MAX_LINE_BYTES // 2**20} MiB, "
                              "the most one CSV record may hold; check that it is a CSV export with one record per "
                              "line, or re-export it without the long field")
        digest = read.sha256(src.path)
        loaded = wh.write(_load, src, fmt, sample, digest, strict, batch or [])
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
          strict: bool, batch: list[int]) -> dict:
    """Runs on the writer thread inside one transaction; raising rolls the whole file back. Every row of the file
    ends in one part (loaded, already loaded, superseded in the file, rejected) and every ledger row it replaces
    is recorded against the load it came from (docs/design.md, "Dedupe and conservation")."""
    ingest_id = cur.execute("select nextval('ingest_id_seq')").fetchone()[0]
    log = {"id": ingest_id, "name": src.name, "sha": digest, "format": fmt.id, "kind": fmt.kind}
    # the same bytes loaded before and still whole in the ledger (nothing of it replaced or removed since)
    earlier = cur.execute(
        "select ingest_id, rows_loaded + rows_duplicate, rows_rejected from ingest_log l where sha256 = $sha "
        "and status = 'loaded' and not exists (select 1 from ingest_replacements r "
        "where r.replaced_ingest_id = l.ingest_id) order by ingest_id desc limit 1", {"sha": digest}).fetchone()
    if earlier is not None:
        execute(cur, sql.load("writes/insert_ingest_log"),
                    {**log, "status": "duplicate", "read": earlier[1] + earlier[2], "loaded": 0, "dup": earlier[1],
                     "rejected": earlier[2], "replaced": 0, "warned": 0, "ts_min": None, "ts_max": None})
        execute(cur, sql.load("writes/copy_ingest_parts"), {"ingest_id": ingest_id, "earlier": earlier[0]})
        audit.record(cur, "ingest", src.name, {"ingest_id": ingest_id, "format": fmt.id, "status": "duplicate"})
        return {"status": "duplicate", "rows_duplicate": earlier[1], "rows_rejected": earlier[2],
                "ingest_id": ingest_id, **_accounting(cur, ingest_id)}

    try:
        params = {"path": str(src.path)}
        staging = stage.staging_sql(fmt, sample, src.compression)
        if "$ingest_id" in staging:
            params["ingest_id"] = ingest_id
        if sample.container != "parquet":
            params["compression"] = "gzip" if src.compression == "gzip" else "none"
        cur.execute(staging, params)
    except duckdb.Error as e:
        raise _read_error(src, fmt, sample, e) from e
    total, rejected, warned, ts_min, ts_max, idless = cur.execute(
        "select count(*), count(*) filter (where _errors is not null), "
        "count(*) filter (where _errors is null and _warnings is not null), min(ts) filter (where _errors is null), "
        "max(ts) filter (where _errors is null), count(_content) from staged").fetchone()
    if idless:
        execute(cur, sql.load("writes/key_idless_rows"))
    if total == 0:
        # a loaded-nothing result, not an error: say what the file held
        read_params = {k: v for k, v in params.items() if k != "ingest_id"}
        held = cur.execute(stage.source_rows_sql(fmt, sample, src.compression), read_params).fetchone()[0]
        cur.execute("drop table if exists staged")
        return {"status": "loaded", "error": stage.nothing_loaded(src.name, fmt, sample, held)}
    if rejected and (strict or rejected == total):
        why = "every row failed validation" if rejected == total else f"{rejected:,} row(s) failed validation (--strict)"
        raise IngestError(f"{src.name}: {why}: {_describe_rejects(cur, src.name)}. Nothing was loaded; fix these "
                          "rows and load the file again")

    labelled = sessioned = 0
    if fmt.keyed:
        # the ledger is searched only in the file's window (a restated request keeps its time), bound as values
        # so usage_raw's zone maps on ts skip every other row group: the look-up costs the window, not the ledger
        window = {"lo": ts_min - dt.timedelta(days=1), "hi": ts_max + dt.timedelta(days=1)}
        execute(cur, sql.load("writes/known_requests"), window)
        execute(cur, sql.load("writes/classify_requests"))
        execute(cur, sql.load("writes/request_outgoing"), window)
        # a restated request whose new line has no session id or labels keeps its replaced row's (metadata)
        execute(cur, sql.load("writes/keep_row_metadata"))
        if fmt.sessions:
            # a request loaded before without its session id: this export's id fills it in (not a restatement)
            sessioned = execute(cur, sql.load("writes/fill_session_ids")).fetchone()[0]
        if fmt.labels:
            # likewise labels (migration 024); they key the row's dimension set, so its days are attributed and
            # rolled up again below
            labelled = execute(cur, sql.load("writes/fill_labels")).fetchone()[0]
    else:
        # a split billing export's parts loaded together are one statement: they never replace each other
        together = [*batch, ingest_id] if fmt.parts else [ingest_id]
        execute(cur, sql.load("writes/statement_ledger_window"),
                {"formats": formats.family(fmt), "together": together})
        overlaps = cur.execute("select count(*) from ledger_window").fetchone()[0]
        execute(cur, sql.load("writes/classify_statement" if overlaps else "writes/no_fates"))
        if overlaps and fmt.sessions:
            # lines already loaded without their session ids (a canonical file reloaded with a session_id column):
            # this load's ids fill them in, as for a keyed format (not a restatement)
            sessioned = execute(cur, sql.load("writes/fill_statement_session_ids")).fetchone()[0]
        execute(cur, sql.load("writes/statement_outgoing"))
    replaced = cur.execute("select count(*) from outgoing").fetchone()[0]
    if replaced:
        execute(cur, sql.load("writes/record_replacements"), {"ingest_id": ingest_id})
        execute(cur, sql.load("writes/remove_outgoing"))
    execute(cur, sql.load("writes/insert_rejects"), {"ingest_id": ingest_id})
    execute(cur, sql.load("writes/insert_warnings"), {"ingest_id": ingest_id})
    loaded = execute(cur, sql.load("writes/insert_new_rows"), {"ingest_id": ingest_id, "format": fmt.id}).fetchone()[0]
    execute(cur, sql.load("writes/insert_ingest_parts"), {"ingest_id": ingest_id})
    duplicate = total - rejected - loaded
    execute(cur, sql.load("writes/insert_ingest_log"),
                {**log, "status": "loaded", "read": total, "loaded": loaded, "dup": duplicate,
                 "rejected": rejected, "replaced": replaced, "warned": warned, "ts_min": ts_min, "ts_max": ts_max})
    # the rows set aside, named by row and column, so the job's output says what to fix
    note = (f"{rejected:,} row(s) set aside, the rest loaded: {_describe_rejects(cur, src.name)}"
            f"{' …' if rejected > MAX_REJECT_EXAMPLES else ''}. Fix those rows and load the file again (rows already "
            "loaded are not counted twice); all of them are in the Upload page's rejected rows") if rejected else None
    if loaded or replaced or labelled or sessioned:
        # only the days this file's rows and the rows it replaced fall on (session ids filled in: the stored replay
        # rows, replay_stored, carry them)
        first, last = cur.execute("select min(ts), max(ts) from (select ts from staged where _errors is null "
                                  "union all select ts from outgoing)").fetchone()
        ledger.refresh_derived(cur, days=(first, last))
    accounting = _accounting(cur, ingest_id)
    audit.record(cur, "ingest", src.name, {"ingest_id": ingest_id, "format": fmt.id, "status": "loaded",
                                            "rows_loaded": loaded, "rows_duplicate": duplicate,
                                            "rows_rejected": rejected, "rows_replaced": replaced,
                                            "rows_warned": warned, "replaced": accounting["replaced"]})
    cur.execute("drop table if exists staged; drop table if exists fates; drop table if exists outgoing; "
                "drop table if exists known; "
                "drop table if exists ledger_window")
    return {"status": "loaded", "rows_loaded": loaded, "rows_duplicate": duplicate, "rows_rejected": rejected,
            "rows_replaced": replaced, "rows_warned": warned, "ingest_id": ingest_id, "error": note, **accounting}


def _accounting(cur: duckdb.DuckDBPyConnection, ingest_id: int) -> dict:
    """The file's conservation (its totals as read and where they went) and what it replaced, as plain values."""
    parts = {r[0]: {"rows": r[1], "requests": int(r[2] or 0), "cost_usd": r[3], "tokens": int(r[4] or 0)}
             for r in execute(cur, sql.load("queries/ingest_conservation"), {"ingest_id": ingest_id}).fetchall()}
    replaced = [{"ingest_id": r[0], "file": r[1], "kind": r[2], "day_from": str(r[3]), "day_to": str(r[4]),
                 "days": r[5], "rows": r[6], "cost_usd": r[7]}
                for r in execute(cur, sql.load("queries/ingest_replaced"), {"ingest_id": ingest_id}).fetchall()]
    for r in replaced:
        r["cost_usd"] = float(r["cost_usd"]) if r["cost_usd"] is not None else None
    return {"parts": {k: {**v, "cost_usd": float(v["cost_usd"]) if v["cost_usd"] is not None else None}
                      for k, v in parts.items()},
            "replaced": replaced}


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
    if isinstance(e, (duckdb.CatalogException, duckdb.ParserException)):
        # not the file's fault: the format's own SQL names a function or macro the ledger lacks, or does not parse
        where = sql.origin(fmt.sql) or f"the SQL of format {fmt.id}"
        return DatabaseError(f"{where} failed: {_first_line(e)}")
    return IngestError(f"{src.name}: cannot be read as {fmt.id}{at} ({_first_line(e)}); check that the file is a "
                       "complete, unedited export, or pick its format")


def _binder_error(src: read.SourceFile, fmt: Format, sample: Sample, text: str) -> IngestError:
    """A column the format's SQL names is not in the file as DuckDB read it: say which, never the SQL error."""
    found = re.search(r'Referenced column "([^"]+)" not found', text)
    column = found.group(1) if found else None
    seen = ", ".join(quote(c) for c in sorted(sample.columns)[:12]) or "none"
    what = f"has no column {quote(column)}" if column else "does not have the columns it needs"
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
