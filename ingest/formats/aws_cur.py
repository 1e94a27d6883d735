"""`aws-cur` and `aws-cur2`: the Bedrock line items of an AWS Cost and Usage Report (docs/research.md "AWS Cost and
Usage Report").

`aws-cur` reads the legacy CUR CSV (`lineItem/UsageType`, `pricing/unit`, `product/ProductName`,
`resourceTags/user:team` headers); `aws-cur2` reads CUR 2.0 / Data Exports (snake_case `line_item_usage_type`,
`product` and `resource_tags` as JSON maps, `line_item_iam_principal`). Each id's SQL file only renames its
columns to one shared set (`cur`); `sql/adapters/aws_cur_lines.sql` does the rest for both, so the two header
styles cannot drift apart.

Only Bedrock rows are read (product code `AmazonBedrock`/`AmazonBedrockService`, or a Marketplace `MP:` usage type
whose product name says "Amazon Bedrock"); every other AWS service in the report is skipped. Model, token class,
region and tier come from the usage type (`USE1-Claude3Sonnet-input-tokens`,
`USE1-Claude4Sonnet-cache-read-input-token-count-cross-region-global`, `USE1-MP:USE1_InputTokenCount_Batch-Units`),
quantities from the row's pricing unit (`1K tokens` -> x 1000). Kind `billing`: the invoice's own line items.
"""

from __future__ import annotations

from dataclasses import dataclass

import sql
from ingest.formats.base import Format, Sample


@dataclass(frozen=True)
class CurFormat(Format):
    """A CUR header style: its own renaming select (`adapters/<id>`) feeding the shared line-item mapping."""

    @property
    def sql(self) -> sql.Text:
        """The two files as one select, remembering both (`sql/adapters/aws_cur.sql + sql/adapters/aws_cur_lines.sql`),
        so an error running it names where its SQL lives, as every other format's does."""
        rename, lines = sql.load(f"adapters/{self.id.replace('-', '_')}"), sql.load("adapters/aws_cur_lines")
        return sql.Text(f"with cur as (\n{rename}\n)\nselect * from (\n{lines}\n)", f"{rename.origin} + {lines.origin}")


LEGACY_REQUIRED = ("identity/LineItemId", "lineItem/LineItemType", "lineItem/UsageStartDate",
                   "lineItem/UsageEndDate", "lineItem/UsageAccountId", "lineItem/ProductCode", "lineItem/UsageType",
                   "lineItem/Operation", "lineItem/ResourceId", "lineItem/UsageAmount", "lineItem/CurrencyCode",
                   "lineItem/UnblendedCost", "lineItem/LineItemDescription", "product/ProductName", "pricing/unit")
CUR2_REQUIRED = ("line_item_line_item_type", "line_item_usage_start_date", "line_item_usage_end_date",
                 "line_item_product_code", "line_item_usage_type", "line_item_usage_amount", "pricing_unit",
                 "line_item_unblended_cost", "line_item_currency_code")
CUR2_OPTIONAL = ("identity_line_item_id", "line_item_usage_account_id", "line_item_operation", "line_item_resource_id",
                 "line_item_line_item_description", "line_item_iam_principal", "product", "product_product_name",
                 "resource_tags")


def _legacy(sample: Sample) -> bool:
    return {"lineitem/usagetype", "lineitem/productcode"} <= sample.lower


def _cur2(sample: Sample) -> bool:
    return {"line_item_usage_type", "line_item_product_code"} <= sample.lower


SOURCES_LEGACY = {"ts": "lineItem/UsageStartDate", "granularity": "lineItem/UsageEndDate",
                  "model": "lineItem/UsageType", "input_tokens": "lineItem/UsageAmount",
                  "cache_read_tokens": "lineItem/UsageAmount", "cache_write_tokens": "lineItem/UsageAmount",
                  "output_tokens": "lineItem/UsageAmount", "cost_usd": "lineItem/UnblendedCost",
                  "service_tier": "lineItem/UsageType", "account": "lineItem/UsageAccountId"}
SOURCES_CUR2 = {"ts": "line_item_usage_start_date", "granularity": "line_item_usage_end_date",
                "model": "line_item_usage_type", "input_tokens": "line_item_usage_amount",
                "cache_read_tokens": "line_item_usage_amount", "cache_write_tokens": "line_item_usage_amount",
                "output_tokens": "line_item_usage_amount", "cost_usd": "line_item_unblended_cost",
                "service_tier": "line_item_usage_type", "account": "line_item_usage_account_id"}

LEGACY = CurFormat(
    id="aws-cur",
    parts=True,
    kind="billing",
    reads="AWS Cost and Usage Report, legacy CUR CSV (lineItem/UsageType headers): Bedrock line items, one row "
          "per line item (hour or day x usage type x resource x caller)",
    containers=("csv", "parquet"),
    required=LEGACY_REQUIRED,
    detect=_legacy,
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    sources=SOURCES_LEGACY,
    selects='for Amazon Bedrock',
)

CUR2 = CurFormat(
    id="aws-cur2",
    parts=True,
    kind="billing",
    reads="AWS CUR 2.0 / Data Exports (line_item_usage_type headers, product and resource_tags maps as JSON, "
          "line_item_iam_principal): Bedrock line items, one row per line item",
    containers=("csv", "parquet"),
    required=CUR2_REQUIRED,
    optional=CUR2_OPTIONAL,
    detect=_cur2,
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    sources=SOURCES_CUR2,
    selects='for Amazon Bedrock',
)
