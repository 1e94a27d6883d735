"""Background warm-up: the replays behind the first render of What-if, Outlook and Budgets, computed before
anyone asks, when the dashboard opens the ledger and again after every change of data.

Each job calls the very service function the page calls with the page's default arguments, so what it computes
lands in the simulator's shared caches under the key the page will ask for (`simulate.replay.RUNS`,
`simulate.frontier.PREPARED`: per ledger, data_version, team scope and scenario). A page opened before the
warm-up finishes waits for the same computation instead of starting a second one (`simulate.memo`). Only the
unrestricted scope is warmed; a team-restricted viewer's first render replays their own teams. No streamlit here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import simulate
from dashboard.services import finance, ledger, outlook, whatif

if TYPE_CHECKING:
    from warehouse.db import Warehouse

log = logging.getLogger(__name__)
_ACTIVE: dict[str, Warmer] = {}    # ledger path -> its warmer (one owner per ledger and process)
SETTLE_SECONDS = 1.0   # after a change, the warm-up waits for this long a pause in the writes before it replays


def default_jobs(wh: Warehouse) -> list[tuple[str, Callable[[], Any]]]:
    """(page, job) for each page's default first render on the ledger as it is now; none for an empty ledger."""
    run = wh.query
    bounds = ledger.date_bounds(run)
    if bounds is None:
        return []
    start, end = ledger.default_range(*bounds)
    preset = simulate.load_scenario(whatif.preset_names()[0])
    outlook_body = next(iter(outlook.scenario_choices(run).values()))
    impact = finance.scenario_text(finance.DEFAULT_IMPACT_PRESET)
    return [
        ("What-if", lambda: whatif.outcome(wh, whatif.with_period(preset, start, end))),
        ("Outlook", lambda: outlook.daily_history(wh, outlook_body)),
        ("Budgets & forecast", lambda: finance.scenario_impact(wh, impact, as_of=end)),
    ]


def running(path: str | Path) -> Warmer | None:
    """The warmer of the ledger at `path` in this process, if the dashboard opened it with the warm-up on."""
    return _ACTIVE.get(str(Path(path).resolve()))


class Warmer:
    """One daemon thread per open ledger: runs `default_jobs` at start and after each published change of data,
    once the writes pause for `settle` seconds (a change during a run starts it over on the new data). A job of
    several files handed over through the inbox is one change (`Warehouse.one_version`), and so is a pull run
    (`pull.sink.one_run`). `idle` is set while
    there is nothing left to do, and cleared the moment a change is published."""

    def __init__(self, wh: Warehouse, jobs: Callable[[Warehouse], list] = default_jobs, *,
                 settle: float = SETTLE_SECONDS):
        self._wh, self._jobs, self._settle = wh, jobs, settle
        self._wake, self._stopped = threading.Event(), False
        self.idle = threading.Event()
        self.last_run: list[tuple[str, float]] = []    # (page, seconds) of the last completed run
        self.runs = 0                                   # runs started (tests and benches read it)
        wh.on_commit(self._changed)
        wh.on_close(self.stop)
        _ACTIVE[str(wh.path.resolve())] = self
        self._wake.set()
        self._thread = threading.Thread(target=self._loop, name="modelmix-warmup", daemon=True)
        self._thread.start()

    def _changed(self) -> None:
        self.idle.clear()       # at once, so whoever waits for `idle` after a write waits for this run
        self._wake.set()

    def _quiet(self) -> None:
        """Wait until no change came for `settle` seconds (at most 10 settles): jobs handed over a moment apart (an
        ingest, then a pull, each one change) would otherwise each start a run, and each run replays the whole
        ledger."""
        deadline = time.monotonic() + 10 * self._settle
        while not self._stopped and self._wake.wait(min(self._settle, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                break
            self._wake.clear()

    def _loop(self) -> None:
        first = True
        while True:
            self._wake.wait()
            if self._stopped:
                return
            self._wake.clear()
            self.idle.clear()
            if not first:
                self._quiet()
                if self._stopped:
                    return
                self._wake.clear()
            first = False
            self.runs += 1
            done: list[tuple[str, float]] = []
            try:
                for page, job in self._jobs(self._wh):
                    if self._wake.is_set() or self._stopped:
                        break                              # newer data, or closing: this run is moot
                    started = time.perf_counter()
                    job()
                    done.append((page, time.perf_counter() - started))
                else:
                    self.last_run = done
            except Exception as e:   # noqa: BLE001 -- a failed warm-up only means a slower first render
                log.warning("warm-up stopped: %s", e)
            if not self._wake.is_set():
                self.idle.set()

    def stop(self) -> None:
        _ACTIVE.pop(str(self._wh.path.resolve()), None)
        self._stopped = True
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=60)
