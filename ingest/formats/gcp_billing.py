"""Google Cloud billing: `gcp-billing-export` (the BigQuery billing export flattened to CSV/Parquet) and
`gcp-cost-table` (the console's Billing -> Reports -> "Cost table" CSV download). docs/research.md "Google Cloud
Billing export".

Only Vertex AI / Gemini API rows are read. The SKU description carries model, token class, modality, context
band and tier ("Gemini 2.5 Flash Text Input - Predictions", "Generate content cached input token count gemini
2.5 flash text", "... batch"); both adapters parse it with the same regular expressions.

`gcp-billing-export`: BigQuery cannot write nested columns to CSV, so every flattening is user-made: headers
are accepted dotted (`sku.description`) or underscored (`sku_description`), read by name from the row as JSON.
`credits` is the repeated record as JSON (its amounts, negative, are added to `cost`) or an already summed
number; `labels` a JSON list of {key, value} or a JSON object. Cost in `currency`, divided by
`currency_conversion_rate` (local currency per USD) when not USD, else the file is refused naming `currency`.

`gcp-cost-table`: metadata lines before the header (found by `ingest.read.sample`, skipped by DuckDB's
sniffer), "Rounding error"/"Total" footer rows dropped, thousands separators in `Usage amount`, currency in
the cost header (`Cost ($)`); credit rows are their own rows (money only). Dates only (`Usage start date`):
the rows are period totals, granularity from the date span.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.formats.base import Format, Sample


@dataclass(frozen=True)
class SpellingsFormat(Format):
    """A format whose required columns each have several accepted spellings (the first is the one reported)."""

    spellings: tuple[tuple[str, ...], ...] = ()

    def missing_columns(self, sample: Sample) -> list[str]:
        have = sample.lower
        return [names[0] for names in self.spellings if not any(n.lower() in have for n in names)]


EXPORT_SPELLINGS = (
    ("service.description", "service_description"),
    ("sku.description", "sku_description"),
    ("usage_start_time",),
    ("usage_end_time",),
    ("usage.amount", "usage_amount"),
    ("usage.unit", "usage_unit"),
    ("cost",),
    ("currency",),
)


def _export(sample: Sample) -> bool:
    keys = sample.lower
    return bool(keys & {"sku.description", "sku_description"}) and bool(
        keys & {"service.description", "service_description", "usage_start_time"})


def _cost_table(sample: Sample) -> bool:
    return {"service description", "sku description"} <= sample.lower


EXPORT = SpellingsFormat(
    id="gcp-billing-export",
    parts=True,
    kind="billing",
    reads="Google Cloud billing export (BigQuery gcp_billing_export_v1 flattened to CSV/Parquet, dotted or "
          "underscored headers): Vertex AI / Gemini API SKU rows, one per usage window x SKU x project x labels",
    containers=("csv", "parquet"),
    required=tuple(names[0] for names in EXPORT_SPELLINGS),
    spellings=EXPORT_SPELLINGS,
    detect=_export,
    sources={"ts": "usage_start_time", "granularity": "usage_end_time", "model": "sku.description",
             "input_tokens": "usage.amount", "cache_read_tokens": "usage.amount", "output_tokens": "usage.amount",
             "reasoning_tokens": "usage.amount", "cost_usd": "cost"},
    selects='for an AI service (Vertex AI, Gemini API)',
    data_rows="""nullif(trim("Service description"), '') is not null""",    # not the Total / Rounding error footers
    labels=True,   # labels
)

COST_TABLE = Format(
    id="gcp-cost-table",
    kind="billing",
    reads="Google Cloud console Reports 'Cost table' CSV (preamble lines, Total/Rounding error footers, "
          "thousands separators): Vertex AI / Gemini API SKU rows per project for the period",
    containers=("csv",),
    required=("Project ID", "Service description", "SKU description", "Usage start date", "Usage end date",
              "Usage amount", "Usage unit", "Cost type"),
    optional=("Billing account ID", "Credit type"),
    detect=_cost_table,
    sources={"ts": "Usage start date", "granularity": "Usage end date", "model": "SKU description",
             "input_tokens": "Usage amount", "cache_read_tokens": "Usage amount", "output_tokens": "Usage amount",
             "reasoning_tokens": "Usage amount", "cost_usd": "Cost ($)"},
    selects='for an AI service (Vertex AI, Gemini API)',
    data_rows="""nullif(trim("Service description"), '') is not null""",    # not the Total / Rounding error footers
)
