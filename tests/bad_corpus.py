"""The hostile-input corpus of tests/data/bad/: how each file is made and what ModelMix must do with it.

Small files are committed (regenerate them on purpose with `python tests/bad_corpus.py`, then review the diff);
big ones (a 100 MB single line, a file whose bad byte sits past the 64 KiB sample) are written at test time by
`generate`. Every file is named after its failure. `EXPECT` says, per file, one of:

- `rejected`: the whole file is refused, the ledger is unchanged; the message names the file, says what is
  wrong and what to do (each listed fragment must appear);
- `partial`: the good rows load, each bad row is set aside with its row number and column;
- `loaded`: every row loads, hostile text stored verbatim;
- `nothing`: the file holds no row to load (a header only): a result, not an error, saying so; nothing written.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

BAD = Path(__file__).resolve().parent / "data" / "bad"
HEADER = "ts,provider,model,project,input_tokens,output_tokens,cost_usd"
GOOD = "2026-03-01T10:00:00Z,openai,gpt-4o,alpha,1000,100,0.0035"
GOOD2 = "2026-03-02T10:00:00Z,anthropic,claude-sonnet-4-5,beta,2000,200,0.009"
# the limit the tests set for zip members and gzip files (MODELMIX_MAX_UNZIPPED_BYTES): the bomb expands past it
TEST_UNZIPPED_LIMIT = 20 * 2**20
INJECTION = "'; drop table usage; --"
# names that must be stored verbatim and never run as SQL or as a spreadsheet formula
HOSTILE_NAMES = {
    "model": ["gpt-4o'; drop table usage; --", 'model "quoted"', "semi;colon;model", "=HYPERLINK(\"http://x\")",
              "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"],
    "project": [INJECTION, "it's \"quoted\"", "a;b;c", "line one\nline two", "=1+1", "+1", "-1", "@me", "\tTAB"],
}


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _quote(v: str) -> str:
    return '"' + v.replace('"', '""') + '"'


def _hostile_names_csv() -> bytes:
    rows = []
    for i, model in enumerate(HOSTILE_NAMES["model"]):
        rows.append(f"2026-03-01T{i:02d}:00:00Z,openai,{_quote(model)},alpha,10,1,0.001")
    for i, project in enumerate(HOSTILE_NAMES["project"]):
        rows.append(f"2026-03-02T{i:02d}:00:00Z,openai,gpt-4o,{_quote(project)},10,1,0.001")
    return _csv(*rows)


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(zipfile.ZipInfo(name, (2026, 3, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _zip_with_symlink(link: str, target: str) -> bytes:
    """A zip whose member `link` is a symbolic link to `target` (as `zip --symlinks` stores one)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo(link, (2026, 3, 1, 0, 0, 0))
        info.create_system = 3                       # unix: the mode bits below are meant
        info.external_attr = (0o120777 << 16)        # S_IFLNK | rwx
        z.writestr(info, target)
    return buf.getvalue()


def _zip_many_tiny(n: int) -> bytes:
    return _zip({f"part-{i:05d}.csv": _csv(GOOD.replace("10:00", f"{i // 60 % 24:02d}:{i % 60:02d}"))
                 for i in range(n)})


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _bomb() -> bytes:
    """~100 KB of gzip that expands to ~100 MB of one repeated canonical row (past TEST_UNZIPPED_LIMIT)."""
    out = io.BytesIO()
    row = (GOOD + "\n").encode()
    block = row * ((1 << 20) // len(row))
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(HEADER.encode() + b"\n")
        for _ in range(100):
            gz.write(block)
    return out.getvalue()


def _nested_json(depth: int) -> bytes:
    return ('{"ts": "2026-03-01T00:00:00Z", "provider": "openai", "model": "gpt-4o", "input_tokens": 1, '
            '"output_tokens": 1, "x": ' + "[" * depth + "]" * depth + "}\n").encode()


# name -> bytes of every committed file
def committed() -> dict[str, bytes]:
    nested_lines = _nested_json(10_000)
    return {
        "empty.csv": b"",
        "whitespace_only.csv": b" \n\n\t\n",
        "header_only.csv": _csv(),
        "binary_garbage.csv": bytes((i * 7919 + 13) % 256 for i in range(4096)),
        "nul_bytes_in_text.csv": _csv(GOOD).replace(b"alpha", b"al\x00pha"),
        "utf8_bom.csv": codecs.BOM_UTF8 + _csv(GOOD, GOOD2),
        "utf16_le_bom.csv": _csv(GOOD).decode().encode("utf-16"),
        "utf16_be_bom.csv": codecs.BOM_UTF16_BE + _csv(GOOD).decode().encode("utf-16-be"),
        "latin1_text.csv": _csv(GOOD.replace("alpha", "Café España")).decode().encode("latin-1"),
        "truncated.csv.gz": _gzip(_csv(*[GOOD.replace("10:00", f"{h:02d}:{m:02d}") for h in range(24)
                                         for m in range(60)]))[:600],
        "empty.csv.gz": _gzip(b""),
        "gzip_bomb.csv.gz": _bomb(),
        "not_gzip_named.csv.gz": _csv(GOOD),
        "zip_path_traversal.zip": _zip({"../../../../tmp/modelmix-escaped.csv": _csv(GOOD.replace("10:00", "10:01")),
                                        "/etc/modelmix-absolute.csv": _csv(GOOD2.replace("10:00", "10:01"))}),
        "zip_inside_zip.zip": _zip({"inner.zip": _zip({"usage.csv": _csv(GOOD)})}),
        "zip_inside_zip_renamed.zip": _zip({"inner.csv": _zip({"usage.csv": _csv(GOOD)})}),
        "truncated.zip": _zip({"usage.csv": _csv(GOOD, GOOD2)})[:40],
        "zip_of_non_data.zip": _zip({"readme.exe": b"MZ\x90\x00"}),
        "zip_symlink_member.zip": _zip_with_symlink("usage.csv", "/etc/passwd"),
        "zip_many_tiny_members.zip": _zip_many_tiny(1_001),
        "zip_hostile_member_names.zip": _zip({
            "..\\..\\..\\windows-traversal.csv": _csv(GOOD.replace("10:00", "10:02")),
            "x" * 300 + ".csv": _csv(GOOD.replace("10:00", "10:03")),
            "line\nbreak\u202eslx.csv": _csv(GOOD.replace("10:00", "10:04"))}),
        "inconsistent_column_counts.csv": _csv(GOOD, "2026-03-01T11:00:00Z,openai,gpt-4o,alpha,1,1,0.1,EXTRA,MORE",
                                               "2026-03-01T12:00:00Z,openai", GOOD2),
        "unterminated_quote.csv": _csv(GOOD, '2026-03-01T11:00:00Z,openai,"gpt-4o,alpha,1,1,0.1', GOOD2),
        "duplicate_header_names.csv": _csv("2026-03-01T10:00:00Z,openai,gpt-4o,gpt-4o-mini,alpha,1000,100,0.0035",
                                           header="ts,provider,model,model,project,input_tokens,output_tokens,"
                                                  "cost_usd"),
        "sql_in_header.csv": _csv("2026-03-01T10:00:00Z,openai,gpt-4o,alpha,1000,100,0.0035,1",
                                  header=HEADER + ',"cost""); drop table usage; --"'),
        "unknown_columns.csv": b"a,b,c\n1,2,3\n",
        "json_nested_10000_deep.json": nested_lines,
        "json_nested_10000_deep_array.json": b"[" * 10_000 + b"]" * 10_000,
        "json_truncated.json": b'[{"ts": "2026-03-01T00:00:00Z", "provider": "openai", "model": "gpt-4o", "inp',
        "jsonl_garbage_line.jsonl": (json.dumps({"ts": "2026-03-01T00:00:00Z", "provider": "openai",
                                                 "model": "gpt-4o", "input_tokens": 1, "output_tokens": 1})
                                     + "\nthis is not json\n").encode(),
        "parquet_magic_garbage.parquet": b"PAR1" + b"\x00garbage" * 50 + b"PAR1",
        "numbers_1e400.csv": _csv(GOOD, "2026-03-01T11:00:00Z,openai,gpt-4o,alpha,1e400,100,0.1"),
        "numbers_nan.csv": _csv(GOOD, "2026-03-01T11:00:00Z,openai,gpt-4o,alpha,NaN,100,0.1",
                                "2026-03-01T12:00:00Z,openai,gpt-4o,alpha,1,inf,0.1"),
        "negative_tokens.csv": _csv(GOOD, "2026-03-01T11:00:00Z,openai,gpt-4o,alpha,-5,100,0.1"),
        "fractional_and_huge_tokens.csv": _csv(GOOD, "2026-03-01T11:00:00Z,openai,gpt-4o,alpha,1.5,100,0.1",
                                               "2026-03-01T12:00:00Z,openai,gpt-4o,alpha,99999999999999999999,1,0.1"),
        "cost_not_a_number.csv": _csv(GOOD, "2026-03-01T11:00:00Z,openai,gpt-4o,alpha,1,1,12 dollars"),
        "timestamps_1970_and_9999.csv": _csv(GOOD, "1970-01-01T00:00:00Z,openai,gpt-4o,alpha,1,1,0.1",
                                             "9999-12-31T23:59:59Z,openai,gpt-4o,alpha,1,1,0.1"),
        "timestamp_not_a_date.csv": _csv(GOOD, "2026-02-30T00:00:00Z,openai,gpt-4o,alpha,1,1,0.1"),
        "every_row_bad.csv": _csv("yesterday,openai,gpt-4o,alpha,-1,1,0.1", "1970-01-01,,,alpha,x,1,0.1"),
        "names_quotes_semicolons_injection_formulas.csv": _hostile_names_csv(),
        "crlf_line_endings.csv": _csv(GOOD, GOOD2).replace(b"\n", b"\r\n"),
    }


# name -> what must happen; `says` fragments (case-insensitive) must all be in the message
@dataclass(frozen=True)
class Expect:
    outcome: str                        # rejected | partial | loaded | nothing
    says: tuple[str, ...] = ()
    rows: int = 0                       # rows loaded (partial/loaded)
    where: tuple[tuple[int, str], ...] = ()   # (row, column) of each set-aside row (partial)
    warned: tuple[tuple[int, str], ...] = ()  # (row, column) of each row kept with a warning (its money counts)


# a message says what to do: one of these verbs
DO = ("save", "upload", "fix", "extract", "pass --format", "export", "download", "check", "split", "raise",
      "rename", "pick")

EXPECT: dict[str, Expect] = {
    "empty.csv": Expect("rejected", ("is empty",)),
    "whitespace_only.csv": Expect("rejected", ("is empty",)),
    "header_only.csv": Expect("nothing", ("0 rows", "nothing to load")),
    "binary_garbage.csv": Expect("rejected", ("binary",)),
    "nul_bytes_in_text.csv": Expect("rejected", ("binary",)),
    "utf8_bom.csv": Expect("loaded", rows=2),
    "utf16_le_bom.csv": Expect("rejected", ("utf-16", "utf-8")),
    "utf16_be_bom.csv": Expect("rejected", ("utf-16", "utf-8")),
    "latin1_text.csv": Expect("rejected", ("not utf-8", "save it as utf-8")),
    "truncated.csv.gz": Expect("rejected", ("gzip",)),
    "empty.csv.gz": Expect("rejected", ("is empty",)),
    "gzip_bomb.csv.gz": Expect("rejected", ("expands past", "MODELMIX_MAX_UNZIPPED_BYTES")),
    "not_gzip_named.csv.gz": Expect("loaded", rows=1),
    "zip_path_traversal.zip": Expect("loaded", rows=2),
    "zip_inside_zip.zip": Expect("rejected", ("zip",)),
    "zip_inside_zip_renamed.zip": Expect("rejected", ("zip inside a zip", "extract")),
    "truncated.zip": Expect("rejected", ("zip",)),
    "zip_of_non_data.zip": Expect("rejected", ("not a data file",)),
    "zip_symlink_member.zip": Expect("rejected", ("symbolic link", "extract")),
    "zip_many_tiny_members.zip": Expect("rejected", ("1,001 files", "more than the 1,000")),
    "zip_hostile_member_names.zip": Expect("loaded", rows=3),
    "inconsistent_column_counts.csv": Expect("rejected", ("line", "columns")),
    # DuckDB reads a quote inside an unquoted field as a character: the model is stored as `"gpt-4o`, verbatim
    "unterminated_quote.csv": Expect("loaded", rows=3),
    "duplicate_header_names.csv": Expect("rejected", ("duplicate column", "model")),
    "sql_in_header.csv": Expect("loaded", rows=1),
    "unknown_columns.csv": Expect("rejected", ("format not recognised",)),
    "json_nested_10000_deep.json": Expect("rejected", ("format not recognised",)),
    "json_nested_10000_deep_array.json": Expect("rejected", ("format not recognised",)),
    "json_truncated.json": Expect("rejected", ()),
    "jsonl_garbage_line.jsonl": Expect("rejected", ()),
    "parquet_magic_garbage.parquet": Expect("rejected", ("parquet",)),
    "numbers_1e400.csv": Expect("partial", rows=1, where=((2, "input_tokens"),)),
    "numbers_nan.csv": Expect("partial", rows=1, where=((2, "input_tokens"), (3, "output_tokens"))),
    # plausibility problems load with a named warning; only what cannot be placed is set aside (issue 12)
    "negative_tokens.csv": Expect("loaded", rows=2, warned=((2, "input_tokens"),)),
    "fractional_and_huge_tokens.csv": Expect("partial", rows=2, where=((3, "input_tokens"),),
                                             warned=((2, "input_tokens"),)),
    "cost_not_a_number.csv": Expect("partial", rows=1, where=((2, "cost_usd"),)),
    "timestamps_1970_and_9999.csv": Expect("loaded", rows=3, warned=((2, "ts"), (3, "ts"))),
    "timestamp_not_a_date.csv": Expect("partial", rows=1, where=((2, "ts"),)),
    "every_row_bad.csv": Expect("rejected", ("every row failed", "row 1", "row 2")),
    "names_quotes_semicolons_injection_formulas.csv": Expect(
        "loaded", rows=len(HOSTILE_NAMES["model"]) + len(HOSTILE_NAMES["project"])),
    "crlf_line_endings.csv": Expect("loaded", rows=2),
    # generated at test time
    "single_line_100mb.csv": Expect("rejected", ("line",)),
    "latin1_after_64k.csv": Expect("rejected", ("utf-8",)),
}
GENERATED = ("single_line_100mb.csv", "latin1_after_64k.csv")


def generate(folder: Path) -> dict[str, Path]:
    """The big files, written at test time (never committed)."""
    folder.mkdir(parents=True, exist_ok=True)
    line = folder / "single_line_100mb.csv"
    with open(line, "wb") as f:                   # a header, then one 100 MB data line with no newline
        f.write(HEADER.encode() + b"\n2026-03-01T10:00:00Z,openai,gpt-4o,")
        chunk = b"x" * (1 << 20)
        for _ in range(100):
            f.write(chunk)
        f.write(b",1,1,0.1")
    latin = folder / "latin1_after_64k.csv"
    rows = [GOOD.replace("10:00:00", f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}") for i in range(2000)]
    latin.write_bytes(_csv(*rows, GOOD2.replace("beta", "Café")).decode().encode("latin-1"))
    return {"single_line_100mb.csv": line, "latin1_after_64k.csv": latin}


def corpus_paths(tmp: Path) -> dict[str, Path]:
    files = {p.name: p for p in sorted(BAD.iterdir()) if p.is_file()}
    return {**files, **generate(tmp)}


if __name__ == "__main__":
    BAD.mkdir(parents=True, exist_ok=True)
    for name, data in committed().items():
        (BAD / name).write_bytes(data)
    print(f"wrote {len(committed())} files to {BAD}")
