"""Hostile names and archives (issue 18, item 5): upload and command-line names with `../`, absolute paths, NUL
bytes, line breaks, bidirectional overrides and very long names; zips with traversal members, symbolic links,
nested zips, many tiny members and members that together expand past the limit. Each is refused or contained:
files are created only under server-chosen names inside the staging folder, and a name is display text,
cleaned before a message shows it or the ledger stores it. (The archive cases also run through every path of
`test_reliability_bad_input.py` as corpus files.)"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from bad_corpus import BAD, GOOD, HEADER, _zip
from dashboard.services import upload as svc
from ingest import ingest_paths, read
from ingest.read import MAX_NAME_CHARS, clean_name
from test_reliability_ops import one_clear_line, run_cli
from warehouse import Warehouse
from warehouse.errors import IngestError

CSV = f"{HEADER}\n{GOOD}\n".encode()
NAMES = ["../../../../tmp/modelmix-upload-escape.csv", "/etc/modelmix-absolute-upload.csv", "nul\0byte.csv",
         "a" * 5_000 + ".csv", "line\nbreak\r.csv", "..", "", "C:\\Windows\\evil.csv", "invoice\u202ecsv.exe",
         "tab\there.csv", "\x1b[31mred.csv"]


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_clean_name():
    assert clean_name("usage.csv") == "usage.csv"
    assert clean_name("a\0b\nc\rd\te\x1bf\u202eg\u2066h") == "a?b?c?d?e?f?g?h"
    long = clean_name("x" * 5_000 + "-end.csv")
    assert len(long) == MAX_NAME_CHARS and long.endswith("-end.csv") and "…" in long
    assert clean_name("") == clean_name("  ") == "(unnamed file)"
    assert clean_name("../../etc/passwd") == "../../etc/passwd"        # display text only: never a path we open


@pytest.mark.parametrize("name", NAMES, ids=lambda n: repr(n[:30]))
def test_upload_names_are_contained_and_cleaned(name, tmp_path):
    db = tmp_path / "l.duckdb"
    folder = tmp_path / "uploads"
    escape = [Path("/tmp/modelmix-upload-escape.csv"), Path("/etc/modelmix-absolute-upload.csv")]
    staged = svc.stage(io.BytesIO(CSV), name, folder)
    assert staged.parent == folder and staged.name[:32].isalnum() and staged.name.endswith((".csv", "")), staged
    assert len(staged.name) <= 40
    [inspection] = svc.inspect(staged, name)
    assert inspection.ready and "\0" not in inspection.name and "\n" not in inspection.name
    with Warehouse(db) as wh:
        [r] = svc.load(wh, staged, name)
        assert r.status == "loaded" and r.rows_loaded == 1, r
        [(stored,)] = wh.sql("select file_name from ingest_log").rows()
    assert stored == clean_name(name) == r.path
    assert len(stored) <= MAX_NAME_CHARS and not any(c in stored for c in "\0\n\r\t\x1b\u202e")
    assert _files_under(folder) == {staged}                  # only the server-named copy, nothing beside it
    assert not any(p.exists() for p in escape)


@pytest.mark.slow
def test_command_line_names(tmp_path):
    db = tmp_path / "l.duckdb"
    # too long for the file system: one clear line, exit 1, no traceback
    line = one_clear_line(run_cli("ingest", str(tmp_path / ("a" * 5_000 + ".csv")), "--db", str(db)),
                          "cannot be read", "File name too long")
    assert len(line) < 800
    # a real file whose name holds a line break and an escape sequence: loads, named with `?` in the log
    odd = tmp_path / "two\nlines\x1b[2J.csv"
    odd.write_bytes(CSV)
    p = run_cli("ingest", str(odd), "--db", str(db), "--json")
    assert p.returncode == 0, p.stderr
    with Warehouse(db) as wh:
        [(stored,)] = wh.sql("select file_name from ingest_log").rows()
    assert stored == clean_name(str(odd)) and "\n" not in stored and "\x1b" not in stored
    # `../` in an operator's path is just a path; a NUL byte (not possible in argv) is refused in-process
    rel = os.path.relpath(odd, Path.cwd())
    assert ".." in rel
    with Warehouse(db) as wh:
        [r] = ingest_paths(wh, [rel])
        assert r.status == "duplicate"                          # the same file, read through `..`
        [bad] = ingest_paths(wh, [str(tmp_path / "nul\0.csv")])
        assert bad.status == "rejected" and "\0" not in bad.error and "nul?.csv: no such file" in bad.error


def _expand(path: Path, workdir: Path, limit: int = 20 * 2**20) -> list:
    workdir.mkdir()
    return read.expand([path], workdir, limit, {str(path): path.name})


def test_zip_members_are_extracted_only_into_the_workdir_under_our_names(tmp_path):
    outside_before = _files_under(tmp_path)
    got = _expand(BAD / "zip_path_traversal.zip", tmp_path / "work")
    got += _expand(BAD / "zip_hostile_member_names.zip", tmp_path / "work2")
    assert len(got) == 5 and not [g for g in got if isinstance(g, IngestError)]
    for src in got:
        assert src.path.resolve().is_relative_to(tmp_path.resolve()) and src.path.name == "member.csv"
        assert "\n" not in src.name and len(src.name) <= MAX_NAME_CHARS
    made = _files_under(tmp_path) - outside_before
    assert made == {src.path for src in got}
    assert not Path("/tmp/modelmix-escaped.csv").exists() and not Path("/etc/modelmix-absolute.csv").exists()


def test_zip_symlink_is_not_followed_nor_read(tmp_path):
    [err] = _expand(BAD / "zip_symlink_member.zip", tmp_path / "work")
    assert isinstance(err, IngestError) and "symbolic link" in err.message
    assert not _files_under(tmp_path / "work")               # not even the link's text was written


def test_many_tiny_members_are_refused_before_anything_is_extracted(tmp_path):
    [err] = _expand(BAD / "zip_many_tiny_members.zip", tmp_path / "work")
    assert isinstance(err, IngestError) and "1,001 files" in err.message
    assert not list((tmp_path / "work").iterdir())
    # at the limit it loads: 1,000 members are 1,000 files
    at_limit = tmp_path / "thousand.zip"
    with zipfile.ZipFile(BAD / "zip_many_tiny_members.zip") as src, zipfile.ZipFile(at_limit, "w") as dst:
        for info in src.infolist()[:1_000]:
            dst.writestr(info, src.read(info))
    got = _expand(at_limit, tmp_path / "work2")
    assert len(got) == 1_000 and not [g for g in got if isinstance(g, IngestError)]


def test_zip_members_together_past_the_limit(tmp_path):
    body = (HEADER + "\n" + "\n".join([GOOD] * 30_000) + "\n").encode()     # 1.65 MB each
    archive = tmp_path / "three.zip"
    archive.write_bytes(_zip({"a.csv": body, "b.csv": body, "c.csv": body, "d.csv": body}))
    got = _expand(archive, tmp_path / "work", limit=4 * 2**20)
    errors = [g for g in got if isinstance(g, IngestError)]
    assert len(got) == 3 and len(errors) == 1, got        # two whole files, then one message; d.csv not touched
    assert "together expand past" in errors[0].message and "three.zip/c.csv" in errors[0].message
    assert sum(p.stat().st_size for p in _files_under(tmp_path / "work")) <= 4 * 2**20


def test_nested_zip_is_refused_not_expanded(tmp_path):
    for name in ("zip_inside_zip.zip", "zip_inside_zip_renamed.zip"):
        work = tmp_path / name
        [err] = _expand(BAD / name, work)
        assert isinstance(err, IngestError) and "zip inside a zip" in err.message
        assert len(_files_under(work)) <= 1                # at most the inner archive's bytes, never its members
        shutil.rmtree(work)
