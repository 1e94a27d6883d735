"""The inbox: how `modelmix ingest` hands files to the process that holds the database (DuckDB allows one).

Layout beside the database file `ledger.duckdb`: folder `ledger.duckdb.inbox/` with, per job, a folder
`<job>/` of copied files and a `<job>.request.json`; the owner answers with `<job>.result.json`. Every file
appears by atomic rename (written under a temporary name first), so neither side ever reads half a file.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from warehouse import audit
from warehouse.errors import ModelMixError


class InboxTimeout(ModelMixError):
    title = "No answer from the dashboard"


def inbox_dir(db_path: str | Path) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".inbox")


def _write_atomic(path: Path, payload: dict) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload), encoding="utf-8")
    os.replace(tmp, path)


def hand_over(db_path: str | Path, files: list[Path], options: dict, *, timeout: float,
              poll: float = 0.25) -> dict:
    """Client side: copy `files` into the inbox, ask the owner to ingest them, wait for and return its answer."""
    box = inbox_dir(db_path)
    job = uuid.uuid4().hex
    folder = box / job
    folder.mkdir(parents=True)
    names = {}
    for i, f in enumerate(files):
        target = folder / f"{i:04d}_{f.name}"
        part = target.with_name(target.name + ".part")
        shutil.copyfile(f, part)
        os.replace(part, target)
        names[target.name] = str(f)
    # who asked: the owner records the ingest in the audit log under this process's user
    options = {**options, "actor": audit.default_actor()}
    _write_atomic(box / f"{job}.request.json", {"job": job, "files": names, "options": options})
    result_path = box / f"{job}.result.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result_path.exists():
            answer = json.loads(result_path.read_text(encoding="utf-8"))
            result_path.unlink(missing_ok=True)
            return answer
        time.sleep(poll)
    raise InboxTimeout(f"the process holding {db_path} did not load the files within {timeout:.0f} s; "
                       f"they wait in {folder} and will be loaded when it next looks")


class InboxWatcher:
    """Owner side: a daemon thread that loads every job that appears in the inbox through `handle`.
    `handle(paths, display_names, options) -> dict` is given by the composition root (it runs the ingest)."""

    def __init__(self, db_path: str | Path, handle: Callable[[list[Path], dict[str, str], dict], dict],
                 poll: float = 1.0):
        self.box = inbox_dir(db_path)
        self._handle = handle
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modelmix-inbox", daemon=True)

    def start(self) -> InboxWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def run_once(self) -> int:
        """Load every waiting job; returns how many were handled."""
        if not self.box.is_dir():
            return 0
        done = 0
        for request in sorted(self.box.glob("*.request.json")):
            try:
                job = json.loads(request.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a half-visible request can't happen (atomic rename); skip anything foreign
            folder = self.box / job["job"]
            paths = [folder / name for name in job["files"]]
            display = {str(folder / name): original for name, original in job["files"].items()}
            try:
                answer = self._handle(paths, display, job.get("options", {}))
            except Exception as e:  # the client must get an answer whatever happened
                answer = {"files": [], "error": f"{type(e).__name__}: {e}"}
            _write_atomic(self.box / f"{job['job']}.result.json", answer)
            request.unlink(missing_ok=True)
            shutil.rmtree(folder, ignore_errors=True)
            done += 1
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except OSError:
                pass  # e.g. the folder vanished; look again next time
            self._stop.wait(self._poll)
