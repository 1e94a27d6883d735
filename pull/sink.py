"""Where pulled files go: straight into the ledger this process holds (`LocalSink`), or, while another process
(the dashboard) holds it, through the inbox of docs/design.md (`InboxSink`): the owner ingests the files and records
the pull state, so the single-writer rule holds and the cursor moves only with the rows it describes.

Both speak the same four operations: `cursor`, `start`, `load` (ingest one page's files; on success count the
rows and move the cursor), `finish`. `serve_inbox` is the owner's side of `InboxSink`.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ingest import ingest_paths
from pull import state
from pull.errors import PullError
from warehouse import Warehouse


@dataclass
class PageResult:
    loaded: int = 0
    duplicate: int = 0
    rejected: int = 0


class Sink(Protocol):
    def cursor(self, source: str, stream: str) -> dt.datetime | None: ...
    def last_ok(self, source: str, streams: list[str]) -> dt.datetime | None: ...
    def status(self) -> list[dict]: ...
    def start(self, source: str, stream: str, kind: str, now: dt.datetime) -> None: ...
    def load(self, source: str, stream: str, files: list[Path], *, format_id: str | None = None,
             mapping: Path | None = None, display: dict[str, str] | None = None,
             loaded_until: dt.datetime | None = None) -> PageResult: ...
    def finish(self, source: str, stream: str, now: dt.datetime, error: str | None) -> None: ...
    def scratch(self) -> tempfile.TemporaryDirectory: ...


def _summarise(files: list[dict]) -> PageResult:
    bad = [f for f in files if f["status"] == "rejected"]
    if bad:
        raise PullError("; ".join(f["error"] or f"{f['path']}: rejected" for f in bad), title="Pulled data rejected")
    return PageResult(loaded=sum(f["rows_loaded"] for f in files),
                      duplicate=sum(f["rows_duplicate"] for f in files),
                      rejected=sum(f["rows_rejected"] for f in files))


def one_run(wh: Warehouse, source: str, stream: str, *, last: bool = False):
    """A pull run of (source, stream) is one new data version, like an ingest: its start, pages and finish (each
    its own inbox hand-over when the dashboard holds the ledger) publish together at the finish, so every open
    session's caches and the warm-up recompute once per run, not once per write (`Warehouse.held_version`; a
    run whose process dies publishes what it committed 30 s after its last call)."""
    return wh.held_version(("pull", source, stream), release=last)


class LocalSink:
    """This process holds the ledger: ingest with `ingest_paths`, record state with the single writer."""

    def __init__(self, wh: Warehouse, *, max_unzipped_bytes: int = 20 * 2**30):
        self.wh = wh
        self.max_unzipped_bytes = max_unzipped_bytes

    def cursor(self, source: str, stream: str) -> dt.datetime | None:
        return state.cursor(self.wh, source, stream)

    def last_ok(self, source: str, streams: list[str]) -> dt.datetime | None:
        return state.last_ok(self.wh, source, streams)

    def status(self) -> list[dict]:
        return state.status(self.wh).to_dicts()

    def start(self, source: str, stream: str, kind: str, now: dt.datetime) -> None:
        with one_run(self.wh, source, stream):
            state.start(self.wh, source, stream, kind, now)

    def load(self, source: str, stream: str, files: list[Path], *, format_id: str | None = None,
             mapping: Path | None = None, display: dict[str, str] | None = None,
             loaded_until: dt.datetime | None = None) -> PageResult:
        fmt = None
        if mapping is not None:
            from ingest.formats.mapped import load_mapping

            fmt = load_mapping(mapping)
        with one_run(self.wh, source, stream):
            results = ingest_paths(self.wh, files, format_id=format_id, fmt=fmt, display_names=display,
                                   max_unzipped_bytes=self.max_unzipped_bytes)
            page = _summarise([r.to_json() for r in results])  # raises on a rejected file: the cursor stays
            state.page(self.wh, source, stream, page.loaded, page.duplicate, loaded_until)
        return page

    def finish(self, source: str, stream: str, now: dt.datetime, error: str | None) -> None:
        with one_run(self.wh, source, stream, last=True):
            state.finish(self.wh, source, stream, now, error)

    def scratch(self) -> tempfile.TemporaryDirectory:
        """A folder for the pulled pages: inside the ledger's staging folder (removed when the pull ends, or at
        the next open if this process is killed), never the system temp directory."""
        return self.wh.staging_area()


def _iso(t: dt.datetime | None) -> str | None:
    return state.utc_aware(t).isoformat() if t is not None else None


def _from_iso(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


class InboxSink:
    """Another process holds the ledger: every operation is a job handed over through its inbox."""

    def __init__(self, db_path: str | Path, *, timeout: float = 3600.0):
        self.db_path = Path(db_path)
        self.timeout = timeout

    def _ask(self, files: list[Path], op: dict) -> dict:
        from warehouse.inbox import hand_over

        answer = hand_over(self.db_path, files, {"pull": op}, timeout=self.timeout)
        if answer.get("error"):
            raise PullError(answer["error"], title="The dashboard could not take the pulled data")
        return answer

    def cursor(self, source: str, stream: str) -> dt.datetime | None:
        return _from_iso(self._ask([], {"op": "cursor", "source": source, "stream": stream}).get("cursor"))

    def last_ok(self, source: str, streams: list[str]) -> dt.datetime | None:
        return _from_iso(self._ask([], {"op": "last_ok", "source": source, "streams": streams}).get("last_ok"))

    def status(self) -> list[dict]:
        rows = self._ask([], {"op": "status"})["status"]
        for r in rows:
            for k in ("loaded_until", "last_run_at", "last_ok_at"):
                r[k] = dt.datetime.fromisoformat(r[k]) if r.get(k) else None
        return rows

    def start(self, source: str, stream: str, kind: str, now: dt.datetime) -> None:
        self._ask([], {"op": "start", "source": source, "stream": stream, "kind": kind, "now": _iso(now)})

    def load(self, source: str, stream: str, files: list[Path], *, format_id: str | None = None,
             mapping: Path | None = None, display: dict[str, str] | None = None,
             loaded_until: dt.datetime | None = None) -> PageResult:
        answer = self._ask(files, {"op": "load", "source": source, "stream": stream, "format": format_id,
                                   "mapping": str(Path(mapping).resolve()) if mapping else None,
                                   "display": [(display or {}).get(str(f), str(f)) for f in files],
                                   "loaded_until": _iso(loaded_until)})
        return _summarise(answer["files"])

    def scratch(self) -> tempfile.TemporaryDirectory:
        """A folder for the pulled pages inside the ledger's staging folder (as `LocalSink.scratch`; named for this
        process, so the owner's next open removes it if this process is killed)."""
        staging = self.db_path.with_name(self.db_path.name + ".staging")
        staging.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(prefix=f"ingest-{os.getpid()}-pull-", dir=staging)

    def finish(self, source: str, stream: str, now: dt.datetime, error: str | None) -> None:
        self._ask([], {"op": "finish", "source": source, "stream": stream, "now": _iso(now), "error": error})


def serve_inbox(wh: Warehouse, paths: list[Path], op: dict, *, max_unzipped_bytes: int = 20 * 2**30) -> dict:
    """The owner's side of `InboxSink`: run one handed-over operation on the ledger it holds."""
    sink = LocalSink(wh, max_unzipped_bytes=max_unzipped_bytes)
    kind = op.get("op")
    if kind == "cursor":
        return {"files": [], "cursor": _iso(sink.cursor(op["source"], op["stream"]))}
    if kind == "last_ok":
        return {"files": [], "last_ok": _iso(sink.last_ok(op["source"], op["streams"]))}
    if kind == "status":
        rows = sink.status()
        for r in rows:
            for k, v in r.items():
                if isinstance(v, dt.datetime):
                    r[k] = v.isoformat()
        return {"files": [], "status": rows}
    if kind == "start":
        sink.start(op["source"], op["stream"], op["kind"], _from_iso(op["now"]))
        return {"files": []}
    if kind == "finish":
        sink.finish(op["source"], op["stream"], _from_iso(op["now"]), op.get("error"))
        return {"files": []}
    if kind == "load":
        fmt = None
        if op.get("mapping"):
            from ingest.formats.mapped import load_mapping

            fmt = load_mapping(op["mapping"])
        # the inbox copies are named NNNN_<name>; the user knows them by the display names the client sent
        display = {str(p): name for p, name in zip(paths, op.get("display") or [])}
        with one_run(wh, op["source"], op["stream"]):
            results = ingest_paths(wh, paths, format_id=op.get("format"), fmt=fmt, display_names=display,
                                   max_unzipped_bytes=max_unzipped_bytes)
            files = [r.to_json() for r in results]
            if not any(f["status"] == "rejected" for f in files):
                page = _summarise(files)
                state.page(wh, op["source"], op["stream"], page.loaded, page.duplicate,
                           _from_iso(op.get("loaded_until")))
        return {"files": files}
    return {"files": [], "error": f"unknown pull operation {kind!r}"}
