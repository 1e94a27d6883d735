"""Opening files safely: expand folders and zips, sniff compression and container, read a header sample.

Nothing here reads a whole file into Python memory: DuckDB streams the data; we only look at the first bytes.
"""

from __future__ import annotations

import codecs
import dataclasses
import csv
import gzip
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ingest.formats.base import Sample
from warehouse.errors import DatabaseError, IngestError, quote

DATA_SUFFIXES = {".csv", ".json", ".jsonl", ".ndjson", ".parquet", ".gz", ".zip", ".txt", ".tsv", ".xlsx", ".xlsm"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
SHEET_HEAD_ROWS = 30
HEAD_BYTES = 64 * 1024
# DuckDB's max_line_size: a CSV record longer than this cannot be read. A physical line past it is found by a
# cheap streaming scan here, because DuckDB's sniffer takes minutes to say so (36 s for one 100 MB line).
MAX_LINE_BYTES = 2 * 2**20
SCAN_CHUNK = 1 << 20
_KEY = re.compile(r'"([A-Za-z_][A-Za-z0-9_.\-]*)"\s*:')


@dataclass(frozen=True)
class SourceFile:
    path: Path          # where the bytes are (a temp file for a zip member)
    name: str           # what the user calls it: the path, or archive.zip/member.csv
    compression: str    # none | gzip
    long_line: int | None = None   # the first physical line longer than MAX_LINE_BYTES (1-based), if any


STAGED_NAME = "staged-input"   # a plain name: DuckDB would read glob characters in a user's file name


def stage_into(src: SourceFile, workdir: Path) -> SourceFile:
    """`src` with its bytes inside `workdir`: as it is when already there (a zip member), else a hard link (no
    copy, same file system) or, across file systems, a copy."""
    if src.path.resolve().is_relative_to(workdir.resolve()):
        return src
    target = Path(tempfile.mkdtemp(dir=workdir)) / STAGED_NAME
    try:
        os.link(src.path, target)
    except OSError:
        try:
            shutil.copyfile(src.path, target)
        except OSError as e:
            target.unlink(missing_ok=True)
            raise DatabaseError(f"cannot copy it into the staging folder {workdir.parent} ({e.strerror}); free disk "
                                "space beside the ledger, then load the file again") from e
    return dataclasses.replace(src, path=target)


def expand(paths: list[str | Path], workdir: Path, max_unzipped_bytes: int,
           display_names: dict[str, str] | None = None) -> list[SourceFile | IngestError]:
    """Files to ingest, in a stable order: folders walked for data files, zip members extracted to `workdir`."""
    out: list[SourceFile | IngestError] = []
    for p in map(Path, paths):
        try:
            files = list_files(p)
        except IngestError as e:
            out.append(e)
            continue
        for f in files:
            name = clean_name((display_names or {}).get(str(f), str(f)))
            out.extend(_open_one(f, name, workdir, max_unzipped_bytes))
    return out


# --- hostile names and archives (issue 18) ---------------------------------------------------------------------
MAX_NAME_CHARS = 255
MAX_ZIP_MEMBERS = 1000      # past this an archive is refused whole: each member would be its own load job
# C0/C1 controls (NUL, newline, escape, …) and the bidirectional overrides that can disguise a name's ending
_UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_name(name: str) -> str:
    """A file name as messages show it and the ledger stores it: control characters (NUL, line breaks) and
    bidirectional overrides replaced by `?`, at most MAX_NAME_CHARS characters (the middle cut out). A name is
    display text only: no file is ever created under it."""
    text = _UNSAFE_CHARS.sub("?", str(name)).strip() or "(unnamed file)"
    if len(text) > MAX_NAME_CHARS:
        keep = (MAX_NAME_CHARS - 1) // 2
        text = f"{text[:keep]}…{text[-keep:]}"
    return text


def list_files(p: Path) -> list[Path]:
    """The files a command-line path names (a folder walked for data files), or an IngestError saying why none:
    a path that does not exist, or that the system refuses (too long, a NUL byte, no permission)."""
    try:
        if p.is_dir():
            return sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in DATA_SUFFIXES
                          and not any(part.startswith(".") for part in f.relative_to(p).parts))
        if p.is_file():
            return [p]
    except (OSError, ValueError) as e:      # ValueError: an embedded NUL byte
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise IngestError(f"{clean_name(str(p))}: cannot be read ({reason})") from None
    raise IngestError(f"{clean_name(str(p))}: no such file or folder")


def _zip_refusal(archive: zipfile.ZipFile, name: str) -> IngestError | None:
    """Why a whole archive is refused before anything is extracted: too many members (many tiny files)."""
    members = sum(1 for info in archive.infolist() if not info.is_dir())
    if members > MAX_ZIP_MEMBERS:
        return IngestError(f"{name}: holds {members:,} files, more than the {MAX_ZIP_MEMBERS:,} a zip may hold; "
                           "extract it and load the folder with `modelmix ingest FOLDER`")
    return None


def _member_refusal(info: zipfile.ZipInfo, member: str) -> IngestError | None:
    """Why one member is not extracted: a symbolic link (read as a file it would be the link's target text, and
    extracted as a link it could point anywhere) or another special file."""
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return IngestError(f"{member}: is a symbolic link inside the zip, not a file; it was not read (extract "
                           "the real file and upload that)")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return IngestError(f"{member}: is not a regular file inside the zip; it was not read (extract the data "
                           "files and upload them)")
    return None


def _magic(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4)


def _open_one(path: Path, name: str, workdir: Path, limit: int) -> list[SourceFile | IngestError]:
    magic = _magic(path)
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"PK\x05\x06"):
        if _is_workbook(path, name):
            return _workbook(path, name, workdir, limit)
        return _unzip(path, name, workdir, limit)
    compression = "gzip" if magic.startswith(b"\x1f\x8b") else "none"
    try:
        long_line = _scan(path, name, compression, limit)
    except IngestError as e:
        return [e]
    return [SourceFile(path, name, compression, long_line)]


def _scan(path: Path, name: str, compression: str, limit: int) -> int | None:
    """One streaming pass over the (decompressed) bytes, 1 MiB at a time, never holding more: a gzip file that
    expands past `limit` or ends early is rejected before anything reads it; returns the first physical line
    longer than MAX_LINE_BYTES (1-based), or None."""
    expanded, since_newline, lines, long_line = 0, 0, 1, None
    newline = b"\n"
    try:
        with (gzip.open(path, "rb") if compression == "gzip" else open(path, "rb")) as fh:
            while chunk := fh.read(SCAN_CHUNK):
                if not expanded and b"\n" not in chunk and b"\r" in chunk:
                    newline = b"\r"     # lone-CR line ends (old Mac / Excel "CSV (Macintosh)")
                expanded += len(chunk)
                if compression == "gzip" and expanded > limit:
                    raise IngestError(
                        f"{name}: expands past the {limit:,}-byte limit (MODELMIX_MAX_UNZIPPED_BYTES) and was not "
                        "read; if it is a genuine export, split it or raise the limit")
                if long_line is None:
                    first = chunk.find(newline)
                    if since_newline + (len(chunk) if first < 0 else first) > MAX_LINE_BYTES:
                        long_line = lines
                    if first >= 0:
                        lines += chunk.count(newline)
                        since_newline = len(chunk) - chunk.rfind(newline) - 1
                    else:
                        since_newline += len(chunk)
                elif compression != "gzip":
                    break   # a plain file needs no further reading once a long line is found
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise IngestError(f"{name}: is a damaged or incomplete gzip file ({e}); download or copy it again") from e
    except OSError as e:
        raise IngestError(f"{name}: cannot be read ({e})") from e
    return long_line


def _is_workbook(path: Path, name: str) -> bool:
    """An Excel workbook is a zip too: known by its name, or by the `xl/workbook.xml` member."""
    if Path(name).suffix.lower() in WORKBOOK_SUFFIXES:
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _workbook(path: Path, name: str, workdir: Path, limit: int) -> list[SourceFile | IngestError]:
    """Each sheet of an Excel workbook as a CSV file of text cells, named `book.xlsx/Sheet`. Sheets whose
    header a known format recognises are read; when some are, the others are named in one line as skipped; when
    none is, every sheet with a header is handed on (for `--format` or a mapping, or to be refused by name).

    Every cell is read as text (dates as `YYYY-MM-DD HH:MM:SS`, numbers as written), so validation judges each row
    as for a CSV. The header is the first non-empty row, or, when that is short (a title, "Invoice number, 123"),
    the widest of the first rows. "row N" in a message is the N-th row below the header."""
    import fastexcel
    import polars as pl

    from ingest import formats

    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError) as e:
        return [IngestError(f"{name}: is not a readable Excel workbook ({e}); open and save it again in Excel, or "
                            "export the sheet as CSV")]
    if expanded > limit:
        return [IngestError(f"{name}: expands past the {limit:,}-byte limit (MODELMIX_MAX_UNZIPPED_BYTES) and was not "
                            "read; save the sheet with the usage as CSV and upload that")]
    try:
        book = fastexcel.read_excel(str(path))
        sheet_names = list(book.sheet_names)
    except Exception as e:   # fastexcel raises its own error types for a damaged workbook
        return [IngestError(f"{name}: is not a readable Excel workbook ({_first(e)}); open and save it again in "
                            "Excel, or export the sheet as CSV")]
    sheets: list[tuple[str, SourceFile | IngestError, bool]] = []
    skipped: list[str] = []
    for sheet in sheet_names:
        member = f"{name}/{sheet}"
        try:
            frame = book.load_sheet(sheet, header_row=None, dtypes="string").to_polars()
        except Exception as e:
            sheets.append((sheet, IngestError(f"{member}: this sheet cannot be read ({_first(e)}); export it as CSV "
                                              "and upload that"), False))
            continue
        if frame.height == 0 or frame.width == 0:
            skipped.append(f"{sheet} (empty)")
            continue
        head = frame.head(SHEET_HEAD_ROWS).rows()
        widths = [sum(1 for c in row if c is not None and str(c).strip()) for row in head]
        at = next((i for i, w in enumerate(widths) if w), None)
        if at is None:
            skipped.append(f"{sheet} (empty)")
            continue
        widest = max(range(len(head)), key=lambda i: widths[i])
        if widths[at] <= 3 and widths[widest] > widths[at]:
            at = widest
        header = [str(c).strip() if c is not None else "" for c in head[at]]
        keep = [(i, h) for i, h in enumerate(header) if h]
        names = [h for _, h in keep]
        if repeated := sorted({n for n in names if [m.lower() for m in names].count(n.lower()) > 1}):
            sheets.append((sheet, IngestError(f"{member}: has duplicate column name(s) {', '.join(repeated)} in its "
                                              "header; rename or remove the repeated column and upload again"), False))
            continue
        data = frame.slice(at + 1).select([pl.col(frame.columns[i]).alias(h) for i, h in keep])
        data = data.filter(pl.any_horizontal(pl.all().is_not_null() & (pl.all().str.strip_chars() != "")))
        # written as CSV (every value text), so each CSV format reads a sheet exactly as its own export
        target = Path(tempfile.mkdtemp(dir=workdir)) / "sheet.csv"
        data.write_csv(target)
        known = formats.detect(Sample("csv", frozenset(names))) is not None
        sheets.append((sheet, SourceFile(target, member, "none"), known))
    if any(known for _, _, known in sheets):
        out: list[SourceFile | IngestError] = [item for _, item, known in sheets if known]
        skipped += [f"{sheet}" for sheet, item, known in sheets if not known]
    else:
        out = [item for _, item, _ in sheets]
    if skipped and any(isinstance(o, SourceFile) for o in out):
        out.append(IngestError(f"{name}: sheet(s) {', '.join(skipped)} skipped, not a known export; if one holds "
                               "usage, save it as CSV and load it with --format or --mapping"))
    elif not out:
        out.append(IngestError(f"{name}: no sheet holds a table ({', '.join(skipped) or 'no sheets'}); check that "
                               "it is the export workbook"))
    return out


def _first(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__


def _unzip(path: Path, name: str, workdir: Path, limit: int) -> list[SourceFile | IngestError]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        return [IngestError(f"{name}: not a readable zip file ({e}); download or copy it again")]
    out: list[SourceFile | IngestError] = []
    total = 0
    with archive:
        if refused := _zip_refusal(archive, name):
            return [refused]
        for info in archive.infolist():
            if total > limit:       # said once, on the member that crossed it
                break
            if info.is_dir():
                continue
            member = clean_name(f"{name}/{info.filename}")
            if refused := _member_refusal(info, member):
                out.append(refused)
                continue
            # never trust member paths: only the base name's suffix is used, for a file of our own naming
            safe = Path(info.filename.replace("\\", "/")).name
            if not safe or Path(safe).suffix.lower() not in DATA_SUFFIXES - {".zip"}:
                what = "a zip inside a zip is not read" if safe.lower().endswith(".zip") else "skipped, not a data file"
                out.append(IngestError(f"{member}: {what} (zip members must be csv/tsv/json/jsonl/parquet/xlsx/gz); extract "
                                       "the data files and upload them"))
                continue
            target = Path(tempfile.mkdtemp(dir=workdir)) / f"member{Path(safe).suffix.lower()}"
            written = 0
            try:
                with archive.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        total += len(chunk)
                        if written > limit:
                            raise IngestError(f"{member}: expands past the {limit:,}-byte limit (MODELMIX_MAX_UNZIPPED_BYTES)")
                        if total > limit:
                            raise IngestError(f"{member}: the zip's files together expand past the {limit:,}-byte "
                                              "limit (MODELMIX_MAX_UNZIPPED_BYTES); the rest was not read")
                        dst.write(chunk)
            except IngestError as e:
                target.unlink(missing_ok=True)
                out.append(e)
                continue
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
                out.append(IngestError(f"{member}: cannot be extracted ({e})"))
                continue
            if _magic(target).startswith(b"PK\x03\x04") and not _is_workbook(target, member):
                out.append(IngestError(f"{member}: a zip inside a zip is not read; extract it first"))
                continue
            out.extend(_open_one(target, member, workdir, limit))
    return out


def _head(src: SourceFile) -> bytes:
    try:
        if src.compression == "gzip":
            with gzip.open(src.path, "rb") as fh:
                return fh.read(HEAD_BYTES)
        with open(src.path, "rb") as fh:
            return fh.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as e:
        raise IngestError(f"{src.name}: cannot be read ({e}); is the gzip file complete?") from e


def _decode(src: SourceFile, raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise IngestError(f"{src.name}: is UTF-16 text; save it as UTF-8 (CSV UTF-8 in Excel) and upload again")
    if b"\x00" in raw[:4096]:
        raise IngestError(f"{src.name}: is binary, not CSV/JSON text or Parquet; check that you picked the usage "
                          "export (CSV, JSON or Parquet) and upload that")
    text = raw.decode("utf-8", errors="strict" if len(raw) < HEAD_BYTES else "ignore") if raw else ""
    return text.removeprefix("\ufeff")


def sample(src: SourceFile) -> Sample:
    raw = _head(src)
    if not raw.strip():
        raise IngestError(f"{src.name}: is empty; export the usage again (with its rows) and upload that")
    if raw.startswith(b"PAR1"):
        return Sample("parquet", frozenset(_parquet_columns(src)))
    try:
        text = _decode(src, raw)
    except UnicodeDecodeError as e:
        raise IngestError(
            f"{src.name}: is not UTF-8 text (byte {e.start}); save it as UTF-8 and upload again"
        ) from e
    stripped = text.lstrip()
    if stripped[:1] in "{[":
        return Sample("json", frozenset(_KEY.findall(text[:HEAD_BYTES])), text[:4096])
    delimiter, first_line, pad = _dialect(stripped)
    names = [c.strip() for c in first_line if c.strip()]
    # refused by `check_sample` once the format is known: DuckDB would read the second as `model_1` and the
    # ledger would silently take the first; before that, the names are a file's text that may not be shown
    repeated = tuple(sorted({n for n in names if [m.lower() for m in names].count(n.lower()) > 1}))
    return Sample("csv", frozenset(names), text[:4096], delimiter=delimiter, pad=pad, repeated=repeated)


def _parquet_columns(src: SourceFile) -> list[str]:
    """A Parquet file's column names, described by DuckDB (warehouse.files), not pyarrow: importing
    pyarrow.parquet cost a Parquet load 0.07-0.08 CPU s (docs/benchmarks.md, ninth session)."""
    import duckdb

    from warehouse import files

    try:
        return files.parquet_columns(src.path)
    except duckdb.Error as e:   # a damaged or truncated footer, a file that only starts like Parquet
        # DuckDB's first line, without its error class and with the file as the user names it
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        reason = re.sub(r"^[A-Za-z ]+ Error: ", "", first).replace(str(src.path), src.name)[:200]
        raise IngestError(f"{src.name}: is not a readable Parquet file ({reason}); re-export it or upload the CSV "
                          "export instead") from e


def unrecognised(src: SourceFile, sample: Sample) -> str:
    """The message for a file no format recognises: described, never quoted (warehouse.errors, "quoting")."""
    from ingest import formats

    return f"{src.name}: format not recognised ({formats.describe(sample)})"


def repeated_columns(src: SourceFile, sample: Sample) -> str | None:
    """The message for a recognised CSV whose header repeats a name, or None."""
    if not sample.repeated:
        return None
    return (f"{src.name}: has duplicate column name(s) {', '.join(quote(n) for n in sample.repeated)} in its "
            "header; rename or remove the repeated column and upload again")


DELIMITERS = (",", "\t", ";", "|")


def _dialect(text: str) -> tuple[str, list[str], bool]:
    """The delimiter, the header's cells and whether records carry empty cells past the header, from the head.

    Lines may end in LF, CRLF or a lone CR (old Mac / Excel): the head is read in universal-newline mode. The
    delimiter is the candidate (comma, tab, semicolon, pipe) whose header is widest (comma on a tie), so a
    tab-separated export whose values hold commas ("gpt-4o, input") is still read by tab. A metadata preamble
    before the header (GCP console cost table: "Invoice number,123,") is skipped: the header is the first line
    of the widest raw width when that is wider than a short first line. `pad`: a record has more cells than the
    header and every extra one is empty (a spreadsheet's trailing tab on an empty bucket), which DuckDB reads
    only with null padding."""
    best: tuple[str, list[str], bool] = (",", [], False)
    for sep in DELIMITERS:
        try:
            lines = list(itertools.islice(csv.reader(io.StringIO(text, newline=None), delimiter=sep), 30))
        except csv.Error:
            continue
        first = lines[0] if lines else []
        at = 0
        widest = max(lines, key=len, default=[])
        if len(widest) > len(first) and len(first) <= 3:
            at = lines.index(widest)
            first = widest
        if len(first) > len(best[1]):
            rest = lines[at + 1:]
            if len(text) >= HEAD_BYTES:
                rest = rest[:-1]     # the last line of a cut head may be cut too
            pad = any(len(r) > len(first) and not any(c.strip() for c in r[len(first):]) for r in rest)
            best = (sep, first, pad)
    return best


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def is_json_lines(s: Sample) -> bool:
    """True when the head holds more than one top-level JSON value (JSON lines)."""
    first = s.head.lstrip().split("\n", 1)[0]
    try:
        json.loads(first)
    except (ValueError, RecursionError):     # RecursionError: nested deeper than Python's json parser goes
        return False
    return "\n" in s.head.strip()


def cleanup(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
