"""The Prices page's data: the catalog search, the price in force for a model on a date, the overrides and
aliases as editable tables (validated through warehouse.config, saved with its replace_* functions), and the
unpriced models with a hint each. No streamlit here.

Prices are USD per 1M tokens. Money comes back as Float64 for display (exact sums stay in SQL).
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

import polars as pl

from dashboard.services import QueryRunner, money_as_float
from dashboard.services.editing import load_upload, table_entries
from warehouse import config, prices
from warehouse.config import ModelAlias, PriceOverride
from warehouse.db import Warehouse
from warehouse.errors import ConfigError

QUERIES = {
    "catalog": "catalog_search",
    "providers": "catalog_providers",
    "choices": "price_model_choices",
    "price_in_force": "price_in_force",
    "overrides": "price_overrides",
    "aliases": "model_aliases",
    "unpriced": "unpriced_models",
}
CATALOG_LIMIT = 200
OVERRIDE_COLUMNS = list(config.OVERRIDE_COLUMNS)
ALIAS_COLUMNS = list(config.ALIAS_COLUMNS)
PRICE_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")


def _ts(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


# --- the catalog ----------------------------------------------------------------------------------------------
def catalog_providers(run: QueryRunner, on: dt.date) -> list[str]:
    return run(QUERIES["providers"], on=_ts(on))["provider"].to_list()


def search_catalog(run: QueryRunner, search: str, provider: str | None, on: dt.date,
                   limit: int = CATALOG_LIMIT) -> pl.DataFrame:
    """Catalog models in force on `on` whose id or name contains `search` (case-insensitive), optionally of
    one catalog provider; at most `limit` rows (ask for one more to tell the page the list was cut)."""
    return money_as_float(run(QUERIES["catalog"], search=(search or "").strip(), provider=provider or None,
                              on=_ts(on), limit=int(limit)))


def model_choices(run: QueryRunner) -> list[str]:
    """Every model id a price can be asked for: catalog ids, overrides' custom models, the ledger's models."""
    return run(QUERIES["choices"])["model"].to_list()


def catalog_ids(run: QueryRunner) -> list[str]:
    """The catalog's model ids (any date), for the unpriced models' hints."""
    df = run(QUERIES["choices"])
    return df.filter(pl.col("origins").str.contains("catalog"))["model"].to_list()


def price_in_force(wh: Warehouse, model: str, on: dt.date, provider: str | None = None) -> pl.DataFrame:
    """Catalog and override rows that apply to `model` on `on` (one per source and provider). Catalog rows
    with no price at all (a provider that lists the model without prices) are left out; the catalog's
    open-ended validity bounds (1970, 9999) come back empty."""
    df = money_as_float(prices.price_in_force(wh, model, on, provider or None))
    listed = (pl.col("source") != "catalog") | pl.any_horizontal(pl.col(k).is_not_null() for k in PRICE_KEYS)
    return df.filter(listed).with_columns(
        valid_from=pl.when(pl.col("valid_from").dt.year() > 1970).then(pl.col("valid_from")),
        valid_to=pl.when(pl.col("valid_to").dt.year() < 9999).then(pl.col("valid_to")),
    )


def effective_price(rows: pl.DataFrame) -> dict[str, Any] | None:
    """What the ledger bills for one provider's rows of `price_in_force` (as the `usage` view prices them):
    explicit override prices replace the catalog's (a missing one falls back to the catalog), else the catalog's
    prices less the override's discount. None unless the rows are one provider's (a catalog row and/or one
    override)."""
    catalog = rows.filter(pl.col("source") == "catalog")
    override = rows.filter(pl.col("source") == "override")
    if rows.is_empty() or catalog.height > 1 or override.height > 1:
        return None
    c = catalog.row(0, named=True) if catalog.height else {}
    o = override.row(0, named=True) if override.height else {}
    if o and o.get("input_mtok") is not None:
        out = {k: o.get(k) if o.get(k) is not None else c.get(k) for k in PRICE_KEYS}
        basis = "override prices"
    else:
        keep = 1 - (o.get("discount_pct") or 0) / 100 if o else 1
        out = {k: None if c.get(k) is None else c[k] * keep for k in PRICE_KEYS}
        basis = f"catalog less {o['discount_pct']:g}%" if o and o.get("discount_pct") else "catalog"
    # cached tokens without a cache price are billed at the input price (never 0)
    for k in ("cache_read_mtok", "cache_write_mtok"):
        if out[k] is None:
            out[k] = out["input_mtok"]
    return {**out, "basis": basis}


# --- overrides ------------------------------------------------------------------------------------------------
def override_table(run: QueryRunner) -> pl.DataFrame:
    """The overrides as the editable table: prices and discount as floats."""
    return run(QUERIES["overrides"]).with_columns(pl.col(pl.Decimal).cast(pl.Float64)).select(OVERRIDE_COLUMNS)


def override_entries(frame: Any) -> list[PriceOverride]:
    """The edited overrides table validated through `PriceOverride`; errors name the row and the field."""
    return table_entries(frame, PriceOverride, OVERRIDE_COLUMNS, "Invalid price overrides")


def save_overrides(wh: Warehouse, frame: Any) -> int:
    """Replace the overrides with the edited table (validated first; nothing is written on an error)."""
    items = override_entries(frame)
    config.replace_overrides(wh, items)
    return len(items)


def load_override_file(wh: Warehouse, filename: str, data: bytes) -> int:
    """Replace the overrides with an uploaded YAML (`overrides:` list) or CSV file."""
    items = load_upload(filename, data, config.load_overrides_file, "Invalid overrides file",
                        (".yaml", ".yml", ".csv"))
    config.replace_overrides(wh, items)
    return len(items)


# --- aliases --------------------------------------------------------------------------------------------------
def alias_table(run: QueryRunner) -> pl.DataFrame:
    return run(QUERIES["aliases"]).select(ALIAS_COLUMNS)


def alias_entries(frame: Any) -> list[ModelAlias]:
    items = table_entries(frame, ModelAlias, ALIAS_COLUMNS, "Invalid model aliases")
    seen: dict[str, int] = {}
    for i, a in enumerate(items, start=1):
        if a.alias.lower() in seen:
            raise ConfigError(f"row {i}, field alias: {a.alias!r} is already on row {seen[a.alias.lower()]} "
                              "(aliases are case-insensitive)", title="Invalid model aliases")
        seen[a.alias.lower()] = i
    return items


def save_aliases(wh: Warehouse, frame: Any) -> int:
    items = alias_entries(frame)
    config.replace_aliases(wh, items)
    return len(items)


# --- unpriced -------------------------------------------------------------------------------------------------
def hint(model: str, known: list[str]) -> str:
    """What to do about one unpriced model: an alias when a catalog id looks like it, else an override."""
    close = difflib.get_close_matches(model.lower(), known, n=1, cutoff=0.75)
    if close:
        return f"Looks like {close[0]}: add the alias {model} → {close[0]}"
    return "Add an override with its prices (custom or self-hosted model)"


def unpriced_models(run: QueryRunner, start: dt.date, end: dt.date,
                    known: list[str] | None = None) -> pl.DataFrame:
    """Models with no catalog price in the range, with their rows, requests, billed spend and a hint (`known`:
    the catalog's ids, see `catalog_ids`)."""
    df = money_as_float(run(QUERIES["unpriced"], start=start, end=end))
    ids = [m.lower() for m in (known if known is not None else [])]
    return df.with_columns(pl.Series("hint", [hint(m, ids) for m in df["model"]], dtype=pl.String))
