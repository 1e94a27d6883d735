"""Row checks of a FOCUS Cost and Usage file, written from the specification (FOCUS 1.2 columns and attributes,
and the 1.5 working draft's AI properties of SkuPriceDetails), because no current FOCUS validator installs here:
`focus-validator` 2.x (2.2.1 current) requires Python >= 3.12 and duckdb < 2, and 1.0.0, the newest for Python 3.11,
validates FOCUS 1.0 with misspelt column names and exits 0 on failure (docs/research.md "FOCUS").

    violations(path) -> polars frame (row, column, value, rule)   # empty when the file passes

`row` is the 1-based data row (0 for a rule about the whole file). Checked:
- the mandatory columns are present; every other column is a FOCUS column or starts with `x_`;
- non-nullable columns are never empty (an empty CSV field is null); no value is an empty string (`""`);
- date/times are ISO 8601 UTC `YYYY-MM-DDTHH:MM:SSZ`; charge period start < end, inside the billing period;
- decimals are plain numbers (no thousands separators, currency symbols or leading `+`);
- BillingCurrency is an ISO 4217-shaped code; ChargeCategory, ChargeClass, ChargeFrequency, PricingCategory,
  ServiceCategory and (AI) ServiceSubcategory take allowed values; one ServiceCategory per ServiceName;
- units follow the Unit Format (`Tokens`, `1000 Tokens`); a unit is given exactly when its quantity is;
  ConsumedQuantity is null unless ChargeCategory is Usage;
- Tags and SkuPriceDetails are JSON objects with scalar values; SkuPriceDetails is null when SkuPriceId is;
  its keys are PascalCase or `x_`; TokenDirection is Input | Output and only on token-metered rows;
  TokenCacheAction is Uncached | Read | Write | Other and never on an Output row; model properties are text;
- ListCost = ListUnitPrice x PricingQuantity and ContractedCost = ContractedUnitPrice x PricingQuantity to the
  micro-dollar, where the unit price is given.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl

MANDATORY = ("BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
             "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
             "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost",
             "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName")
NOT_NULL = ("BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
            "ChargeCategory", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost",
            "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName")
CONDITIONAL = ("AvailabilityZone", "BillingAccountType", "CapacityReservationId", "CapacityReservationStatus",
               "ChargeFrequency", "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
               "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
               "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedUnitPrice", "InvoiceId",
               "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice",
               "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "RegionId", "RegionName",
               "ResourceId", "ResourceName", "ResourceType", "ServiceSubcategory", "SkuId", "SkuMeter",
               "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType", "Tags",
               # 1.3 names
               "ServiceProviderName", "HostProviderName", "ContractApplied", "AllocatedMethodId",
               "AllocatedMethodDetails", "AllocatedResourceId", "AllocatedResourceName", "AllocatedTags")
DATETIMES = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
DECIMALS = ("BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "PricingQuantity", "ConsumedQuantity",
            "ListUnitPrice", "ContractedUnitPrice", "CommitmentDiscountQuantity")
ENUMS = {
    "ChargeCategory": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
    "ServiceCategory": ("AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
                        "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
                        "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
                        "Storage", "Web", "Other"),
}
AI_SUBCATEGORIES = ("AI Platforms", "Bots", "Generative AI", "Machine Learning", "Natural Language Processing",
                    "Other (AI and Machine Learning)")
ISO_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
DECIMAL = r"^-?\d+(\.\d+)?([eE]-?\d+)?$"
UNIT = r"^(\d+ )?[A-Z][A-Za-z]*(-[A-Za-z]+)*( [A-Za-z]+)*$"
PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
TOKEN_DIRECTIONS = ("Input", "Output")
TOKEN_CACHE_ACTIONS = ("Uncached", "Read", "Write", "Other")
MODEL_PROPERTIES = ("ModelDeveloper", "ModelFamily", "ModelId", "ModelVersion")
_SCHEMA = {"row": pl.Int64, "column": pl.String, "value": pl.String, "rule": pl.String}


def read(path: str | Path) -> pl.DataFrame:
    """The file as text columns (an empty field is null), with its 1-based data row."""
    return pl.read_csv(path, infer_schema=False).with_row_index("_row", offset=1)


def _rows(frame: pl.DataFrame, mask: pl.Expr, column: str, rule: str, value: pl.Expr | None = None) -> pl.DataFrame:
    return frame.filter(mask).select(
        pl.col("_row").cast(pl.Int64).alias("row"), pl.lit(column).alias("column"),
        (value if value is not None else pl.col(column)).cast(pl.String).alias("value"), pl.lit(rule).alias("rule"))


def _whole(column: str, rule: str) -> pl.DataFrame:
    return pl.DataFrame({"row": [0], "column": [column], "value": [None], "rule": [rule]}, schema=_SCHEMA)


def _json_problems(value: str, details: bool) -> list[str]:
    """What is wrong with one Key-Value JSON text (Tags, or SkuPriceDetails when `details`)."""
    try:
        obj = json.loads(value)
    except ValueError:
        return ["not JSON"]
    if not isinstance(obj, dict):
        return ["not a JSON object"]
    out = [f"value of {k!r} is not a scalar" for k, v in obj.items() if isinstance(v, (dict, list))]
    if details:
        out += [f"key {k!r} is neither PascalCase nor x_-prefixed" for k in obj
                if not (k.startswith("x_") or PASCAL.match(k))]
        if "TokenDirection" in obj and obj["TokenDirection"] not in TOKEN_DIRECTIONS:
            out.append(f"TokenDirection {obj['TokenDirection']!r} is not Input or Output")
        if "TokenCacheAction" in obj and obj["TokenCacheAction"] not in TOKEN_CACHE_ACTIONS:
            out.append(f"TokenCacheAction {obj['TokenCacheAction']!r} is not Uncached, Read, Write or Other")
        if "TokenCacheAction" in obj and obj.get("TokenDirection") == "Output":
            out.append("TokenCacheAction on tokens generated in a response (TokenDirection Output)")
        out += [f"{k} is not text" for k in MODEL_PROPERTIES if k in obj and not isinstance(obj[k], str)]
    return out


def violations(path: str | Path) -> pl.DataFrame:
    """Every rule the file breaks, one row per (data row, column, rule); empty when it passes."""
    frame = read(path)
    cols = set(frame.columns) - {"_row"}
    out = [_whole(c, "mandatory column missing") for c in MANDATORY if c not in cols]
    out += [_whole(c, "not a FOCUS column and not prefixed x_") for c in sorted(cols)
            if c not in MANDATORY and c not in CONDITIONAL and not c.startswith("x_")]
    have = lambda c: c in cols  # noqa: E731
    for c in filter(have, NOT_NULL):
        out.append(_rows(frame, pl.col(c).is_null(), c, "null in a non-nullable column"))
    for c in sorted(cols):
        out.append(_rows(frame, pl.col(c) == "", c, "an empty string, not null (FOCUS: nulls are never empty strings)"))
    for c in filter(have, DATETIMES):
        out.append(_rows(frame, pl.col(c).is_not_null() & ~pl.col(c).str.contains(ISO_UTC), c,
                         "not an ISO 8601 UTC date/time (YYYY-MM-DDTHH:MM:SSZ)"))
    if {"ChargePeriodStart", "ChargePeriodEnd"} <= cols:
        out.append(_rows(frame, pl.col("ChargePeriodStart") >= pl.col("ChargePeriodEnd"), "ChargePeriodEnd",
                         "charge period does not end after it starts"))
    if set(DATETIMES) <= cols:
        out.append(_rows(frame, (pl.col("ChargePeriodStart") < pl.col("BillingPeriodStart"))
                         | (pl.col("ChargePeriodEnd") > pl.col("BillingPeriodEnd")), "ChargePeriodStart",
                         "charge period outside the billing period"))
    for c in filter(have, DECIMALS):
        out.append(_rows(frame, pl.col(c).is_not_null() & ~pl.col(c).str.contains(DECIMAL), c,
                         "not a plain decimal number"))
    if have("BillingCurrency"):
        out.append(_rows(frame, pl.col("BillingCurrency").is_not_null()
                         & ~pl.col("BillingCurrency").str.contains(r"^[A-Z]{3}$"), "BillingCurrency",
                         "not an ISO 4217 currency code"))
    for c, allowed in ENUMS.items():
        if have(c):
            out.append(_rows(frame, pl.col(c).is_not_null() & ~pl.col(c).is_in(allowed), c,
                             f"not one of {', '.join(allowed)}"))
    if {"ServiceCategory", "ServiceSubcategory"} <= cols:
        out.append(_rows(frame, (pl.col("ServiceCategory") == "AI and Machine Learning")
                         & pl.col("ServiceSubcategory").is_not_null()
                         & ~pl.col("ServiceSubcategory").is_in(AI_SUBCATEGORIES), "ServiceSubcategory",
                         "not an AI and Machine Learning subcategory"))
    if {"ServiceName", "ServiceCategory"} <= cols:
        split = frame.group_by("ServiceName").agg(pl.col("ServiceCategory").n_unique().alias("n")).filter(
            pl.col("n") > 1)["ServiceName"]
        out.append(_rows(frame, pl.col("ServiceName").is_in(split.implode()), "ServiceName",
                         "one ServiceName under more than one ServiceCategory"))
    for q, u in (("PricingQuantity", "PricingUnit"), ("ConsumedQuantity", "ConsumedUnit")):
        if have(u):
            out.append(_rows(frame, pl.col(u).is_not_null() & ~pl.col(u).str.contains(UNIT), u,
                             "not in the Unit Format"))
        if have(q) and have(u):
            out.append(_rows(frame, pl.col(q).is_null() != pl.col(u).is_null(), u,
                             f"{u} must be given exactly when {q} is"))
    if {"ConsumedQuantity", "ChargeCategory"} <= cols:
        out.append(_rows(frame, pl.col("ConsumedQuantity").is_not_null() & (pl.col("ChargeCategory") != "Usage"),
                         "ConsumedQuantity", "not null on a charge that is not Usage"))
    if {"SkuPriceDetails", "SkuPriceId"} <= cols:
        out.append(_rows(frame, pl.col("SkuPriceId").is_null() & pl.col("SkuPriceDetails").is_not_null(),
                         "SkuPriceDetails", "not null while SkuPriceId is null"))
    if "SkuPriceDetails" in cols and "PricingUnit" in cols:
        token_row = pl.col("PricingUnit").str.contains("Tokens$").fill_null(False)
        out.append(_rows(frame, pl.col("SkuPriceDetails").str.contains('"TokenDirection"').fill_null(False)
                         & ~token_row, "SkuPriceDetails", "TokenDirection on a SKU price not metered in tokens"))
    for c in ("Tags", "SkuPriceDetails"):
        if not have(c):
            continue
        # parsed once per distinct text, not per row
        bad = {v: p for v in frame[c].drop_nulls().unique().to_list() if (p := _json_problems(v, c != "Tags"))}
        for text, problems in bad.items():
            for p in problems:
                out.append(_rows(frame, pl.col(c) == text, c, p))
    for cost, price in (("ListCost", "ListUnitPrice"), ("ContractedCost", "ContractedUnitPrice")):
        if {cost, price, "PricingQuantity"} <= cols:
            num = lambda c: pl.col(c).cast(pl.Float64, strict=False)  # noqa: E731
            out.append(_rows(frame, pl.col(price).is_not_null()
                             & ((num(price) * num("PricingQuantity") - num(cost)).abs() > 1e-6 + 1e-9 * num(cost).abs()),
                             cost, f"{cost} is not {price} x PricingQuantity"))
    found = pl.concat([f.cast(_SCHEMA) for f in out], how="vertical") if out else pl.DataFrame(schema=_SCHEMA)
    return found.sort("row", "column")


__all__ = ["MANDATORY", "NOT_NULL", "read", "violations"]
