"""Opening the ledger as its owner: the Warehouse plus the inbox watcher that loads files handed over by
`modelmix ingest` processes while this one holds the database file."""

from __future__ import annotations

from pathlib import Path

from warehouse import Warehouse


def open_owner(path: str | Path) -> Warehouse:
    return Warehouse(path)
