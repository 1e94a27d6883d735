"""Opening the ledger as its owner: the Warehouse, the configured rules and overrides files, and the inbox
watcher that loads files handed over by `modelmix ingest` processes while this one holds the database."""

from __future__ import annotations

from pathlib import Path

from ingest import ingest_paths
from modelmix.settings import Settings
from modelmix.settings import settings as get_settings
from warehouse import Warehouse, config
from warehouse.inbox import InboxWatcher


def load_configured_files(wh: Warehouse, settings: Settings) -> None:
    if settings.rules:
        config.replace_rules(wh, config.load_rules_file(settings.rules))
    if settings.price_overrides:
        config.replace_overrides(wh, config.load_overrides_file(settings.price_overrides))


def inbox_handler(wh: Warehouse, settings: Settings):
    def handle(paths: list[Path], display: dict[str, str], options: dict) -> dict:
        # one new data_version per handed-over job, however many files it commits: every open session's caches
        # and the warm-up recompute once, after the job (each file still commits whole or not at all)
        with wh.one_version():
            return _handle(paths, display, options)

    def _handle(paths: list[Path], display: dict[str, str], options: dict) -> dict:
        # audited as the other process's user; a request from an older client says only that it came this way
        who = wh.as_user(f"{options.get('actor') or 'cli:unknown'} via inbox")
        if "pull" in options:  # a `modelmix pull` / `jobs run` process: its pages and its pull state
            from pull.sink import serve_inbox

            return serve_inbox(who, paths, options["pull"], max_unzipped_bytes=settings.max_unzipped_bytes)
        if "users" in options:  # a `modelmix users` process: list, add or remove, audited as its user
            from warehouse.users import serve_inbox as serve_users

            return serve_users(who, options["users"])
        results = ingest_paths(who, paths, format_id=options.get("format"), strict=bool(options.get("strict")),
                               max_unzipped_bytes=settings.max_unzipped_bytes, display_names=display)
        return {"files": [r.to_json() for r in results]}

    return handle


def open_owner(path: str | Path, settings: Settings | None = None, *, watch_inbox: bool = True) -> Warehouse:
    """Open the ledger for this process; with `watch_inbox`, also serve CLI ingests handed over through it."""
    settings = settings or get_settings()
    wh = Warehouse(path, memory_limit=settings.memory_limit or None)
    from pull.state import clear_dead_runs

    clear_dead_runs(wh)     # a pull killed while an earlier process held the ledger: failed, not 'running' forever
    load_configured_files(wh, settings)
    if watch_inbox:
        watcher = InboxWatcher(path, inbox_handler(wh, settings), poll=settings.inbox_poll_seconds)
        watcher.run_once()  # files left waiting while nobody held the database
        wh.inbox_watcher = watcher.start()
    return wh
