"""The price catalog: genai-prices' offline snapshot flattened into `catalog_prices`, model-name resolution
into `model_map`, and the price in force for a model on a date (catalog + overrides).

genai-prices is the source of truth for list prices (dated, tiered, cache read/write). We flatten it once per
package version so that pricing 5 M rows is a SQL join, not 5 M Python calls; names are resolved once per
distinct (provider, model) with the package's own matcher.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import polars as pl
    from genai_prices import types as genai_types

    from warehouse.db import Warehouse

# ModelMix provider id -> genai-prices provider id (where they differ)
CATALOG_PROVIDER = {
    "aws-bedrock": "aws",
    "azure-openai": "azure",
    "google-vertex": "google",
    "google-gemini": "google",
}
# prefixes gateways put in front of model names ("anthropic/claude-…", "bedrock/…")
_GATEWAY_PREFIX = {
    "openai": "openai", "anthropic": "anthropic", "bedrock": "aws", "azure": "azure", "vertex_ai": "google",
    "gemini": "google", "google": "google", "mistral": "mistral", "groq": "groq", "deepseek": "deepseek",
    "x-ai": "x-ai", "xai": "x-ai", "meta-llama": "meta", "together_ai": "together", "openrouter": "openrouter",
}
_EPOCH = dt.datetime(1970, 1, 1)
_END = dt.datetime(9999, 12, 31)
_PRICE_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")


def _base_and_tier(value: Any) -> tuple[Decimal | None, int | None, Decimal | None]:
    if value is None:
        return None, None, None
    from genai_prices import types

    if isinstance(value, types.TieredPrices):
        first = value.tiers[0] if value.tiers else None
        return value.base, (first.start if first else None), (first.price if first else None)
    return Decimal(value), None, None


def _flatten_price(provider: str, model: genai_types.ModelInfo, price: genai_types.ModelPrice, start: dt.datetime,
                   end: dt.datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "catalog_provider": provider, "model": model.id, "model_name": model.name,
        "valid_from": start, "valid_to": end, "tier_start": None,
    }
    for key in _PRICE_KEYS:
        base, tier_start, tier_price = _base_and_tier(getattr(price, key, None))
        row[key] = base
        row[f"tier_{key}"] = tier_price
        if tier_start is not None:
            row["tier_start"] = tier_start
    return row


def catalog_rows() -> list[dict[str, Any]]:
    """One row per (provider, model, validity interval) of the bundled genai-prices snapshot."""
    from genai_prices import data_snapshot, types

    rows = []
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            prices = model.prices
            if isinstance(prices, types.ModelPrice):
                rows.append(_flatten_price(provider.id, model, prices, _EPOCH, _END))
                continue
            # dated prices: the last started one applies; time-of-day discounts are left out (base price kept)
            dated = []
            for cp in prices:
                if cp.constraint is None:
                    dated.append((_EPOCH, cp.prices))
                elif isinstance(cp.constraint, types.StartDateConstraint):
                    d = cp.constraint.start_date
                    dated.append((dt.datetime(d.year, d.month, d.day), cp.prices))
            dated.sort(key=lambda x: x[0])
            for i, (start, price) in enumerate(dated):
                end = dated[i + 1][0] if i + 1 < len(dated) else _END
                if end > start:
                    rows.append(_flatten_price(provider.id, model, price, start, end))
    return rows


@cache
def _catalog_version() -> str:
    # the installed package's version, without importing it: genai_prices (its price snapshot) is imported only
    # where a name is resolved or the catalog reloaded, not by every process that opens a ledger (≈ 0.2 CPU s)
    return importlib.metadata.version("genai-prices")


def ensure_catalog(wh: Warehouse) -> None:
    """(Re)load `catalog_prices` when the installed genai-prices version differs from the loaded one. On a ledger
    with usage, every name is resolved again under the new catalog and every derived table rebuilt from the rows
    (ledger.refresh_derived), in the same transaction: the rollups and the stored replay rows were priced by the
    old catalog, and the view alone would price under the new one (a full rebuild, once per package upgrade)."""
    from warehouse import ledger       # late: ledger imports this module

    cur = wh.cursor()
    try:
        loaded = cur.execute("select value from meta where key = 'catalog_version'").fetchone()
        if loaded and loaded[0] == _catalog_version():
            return
        import polars as pl

        frame = pl.DataFrame(catalog_rows(), infer_schema_length=None)
        cur.begin()
        try:
            cur.execute("delete from catalog_prices")
            cur.register("catalog_frame", frame.to_arrow())
            cur.execute("insert into catalog_prices by name select * from catalog_frame")
            cur.unregister("catalog_frame")
            cur.execute("insert or replace into meta values ('catalog_version', ?)", [_catalog_version()])
            # names may resolve differently under a new catalog
            cur.execute("delete from model_map")
            derived = cur.execute("select 1 from duckdb_tables() where table_name = 'usage_daily'").fetchone()
            if derived and cur.execute("select 1 from usage_raw limit 1").fetchone():
                ledger.refresh_derived(cur)
            cur.commit()
        except BaseException:
            cur.rollback()
            raise
    finally:
        cur.close()


@cache
def _owner_of() -> dict[int, str]:
    """id(ModelInfo) -> the provider that lists it. A provider may answer for another's model (Azure falls back
    to OpenAI's list), and the flattened catalog holds each model under the provider that lists it."""
    from genai_prices import data_snapshot

    return {id(m): p.id for p in data_snapshot.get_snapshot().providers for m in p.models}


def resolve(provider: str, model: str, aliases: dict[str, str] | None = None) -> tuple[str | None, str | None]:
    """(catalog provider, catalog model id) for a name as a file gives it, or (None, None) if unknown."""
    from genai_prices import data_snapshot

    name = (aliases or {}).get(model.lower(), model).strip()
    snapshot = data_snapshot.get_snapshot()
    wanted = CATALOG_PROVIDER.get(provider, provider)
    candidates: list[tuple[str | None, str]] = []
    if "/" in name:
        prefix, rest = name.split("/", 1)
        if prefix.lower() in _GATEWAY_PREFIX:
            candidates.append((_GATEWAY_PREFIX[prefix.lower()], rest))
    candidates += [(wanted, name), (None, name)]
    for provider_id, ref in candidates:
        try:
            found_provider, found = snapshot.find_provider_model(ref, None, provider_id, None)
        except LookupError:
            continue
        return _owner_of().get(id(found), found_provider.id), found.id
    return None, None


def resolve_new_models(cur: duckdb.DuckDBPyConnection, days: dict | None = None) -> int:
    """Fill `model_map` for every (provider, model) in usage_raw it lacks; one Python call per distinct name.
    `days`: {"first_day", "last_day"} (dates, or None for all): look only at the rows of those days (the only
    ones a write added)."""
    missing = cur.execute(
        "select distinct u.provider, u.model from usage_raw u "
        "anti join model_map m on m.provider = u.provider and m.model = u.model "
        "where (cast($first_day as date) is null or u.ts >= cast($first_day as date)) "
        "and (cast($last_day as date) is null or u.ts < cast($last_day as date) + interval 1 day)",
        days or {"first_day": None, "last_day": None},
    ).fetchall()
    if not missing:
        return 0
    aliases = dict(cur.execute("select lower(alias), model from model_aliases").fetchall())
    rows = [(p, m, *resolve(p, m, aliases)) for p, m in missing]
    cur.executemany("insert into model_map values (?, ?, ?, ?)", rows)
    return len(rows)


def price_in_force(wh: Warehouse, model: str, on: dt.date, provider: str | None = None) -> pl.DataFrame:
    """The catalog and override prices for `model` on `on` (USD per 1M tokens), one row per provider."""
    return wh.query("price_in_force", model=model, on=dt.datetime(on.year, on.month, on.day), provider=provider,
                    catalog_provider=CATALOG_PROVIDER.get(provider, provider) if provider else None)
