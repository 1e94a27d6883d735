"""Small LRU caches shared by every session of the process.

`Memo`: results of the expensive replays kept per (ledger, data_version, team scope, key), whose concurrent misses
on one key compute once (a second caller waits for the first, so a background warm-up and a person opening the
page never replay the same thing twice).

A result is keyed on the ledger's `data_version`, so any committed write makes it unreachable; the scope
(`Warehouse.scope_key`) is part of the key, so a team-restricted view never gets a result computed for everyone.
Cached values are shared: callers must not mutate them.

`Kept`: values computed from objects held in memory (a scenario's per-request columns, an upload's parsed grades),
kept while those very objects are (`held`: their identities are part of the key, and the entry holds them, so an
id cannot be reused while it lives).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse.db import Warehouse


class Memo:
    def __init__(self, size: int):
        self.size = size
        self._done: OrderedDict[tuple, Any] = OrderedDict()
        self._running: dict[tuple, Future] = {}
        self._lock = threading.Lock()
        self.computed = 0   # how many misses ran `compute` (tests and benches read it)

    def get(self, wh: Warehouse, key: Hashable, compute: Callable[[], Any]) -> Any:
        full = (str(wh.path.resolve()), wh.data_version, wh.scope_key, key)
        with self._lock:
            if full in self._done:
                self._done.move_to_end(full)
                return self._done[full]
            running = self._running.get(full)
            if running is None:
                running = self._running[full] = Future()
                mine = True
            else:
                mine = False
        if not mine:
            return running.result()
        try:
            value = compute()
        except BaseException as e:
            with self._lock:
                del self._running[full]
            running.set_exception(e)
            raise
        with self._lock:
            self.computed += 1
            self._done[full] = value
            while len(self._done) > self.size:
                self._done.popitem(last=False)
            del self._running[full]
        running.set_result(value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._done.clear()


class Kept:
    def __init__(self, size: int):
        self.size = size
        self._done: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any], held: tuple = ()) -> Any:
        """The value kept for `key` and the objects `held` (the same objects, not equal ones), else `compute()`."""
        full = (key, *(id(o) for o in held))
        with self._lock:
            entry = self._done.get(full)
            if entry is not None and all(a is b for a, b in zip(entry[0], held, strict=True)):
                self._done.move_to_end(full)
                return entry[1]
        value = compute()
        with self._lock:
            self._done[full] = (held, value)
            while len(self._done) > self.size:
                self._done.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._done.clear()
