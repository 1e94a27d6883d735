"""`azure-cost-details`: Azure Cost Management cost details / usage details CSV (docs/research.md "Azure cost
details"), MCA
(`meterName`, `costInBillingCurrency`, `costInUsd`, `exchangeRatePricingToBilling`) and EA (`MeterName`,
`CostInBillingCurrency`, `ResourceGroup`) headers alike: DuckDB matches column names case-insensitively, so one
mapping reads both, and columns only one of them has are optional.

Only Azure OpenAI / Foundry Models rows are read. Traps: meters `<model>-<ver>-<Inp|Outp>-<glbl|regnl|dzn> Tokens`
spelt inconsistently (`GPT 5 Inpt Glbl`, `gpt 4o 1120 cached Inp glbl`, `gpt-4-8K-Batch-Inp-glbl Tokens`);
`unitOfMeasure` `1K` or `1M` mixed per row; US `MM/DD/YYYY` dates (ISO in newer exports); cost in the billing
currency, converted to USD with the file's own `costInUsd`, `costInPricingCurrency` (pricing currency USD) or
`exchangeRatePricingToBilling`, else the whole file is refused naming `billingCurrency`. Kind `billing`.
"""

from ingest.formats.base import Format, Sample

REQUIRED = ("date", "meterName", "unitOfMeasure", "quantity", "costInBillingCurrency")
OPTIONAL = ("meterCategory", "meterSubCategory", "consumedService", "billingCurrency", "billingCurrencyCode",
            "pricingCurrency", "costInUsd", "costInPricingCurrency", "exchangeRatePricingToBilling", "SubscriptionId",
            "subscriptionName", "resourceGroupName", "ResourceGroup", "ResourceId", "InstanceId", "tags",
            "chargeType", "billingAccountName", "AccountName")


# Every documented header spelling of the columns the SQL reads (Microsoft Learn "Understand cost details fields":
# "fields might differ in casing and spacing between account types"): MCA camelCase (`costInBillingCurrency`),
# EA PascalCase (`CostInBillingCurrency`), the EA portal's spaced download (`Meter Name`, `Consumed Quantity`,
# `Unit Of Measure`, `ExtendedCost`), the older pay-as-you-go / EA usage details (`Cost`, `PreTaxCost`,
# `UsageDateTime`, `UsageQuantity`, `SubscriptionGuid`, `InstanceId`, `Currency`). Case, spaces, hyphens and
# underscores are ignored when matching.
ALIASES = {
    "date": ("UsageDateTime", "UsageDate"),
    "meterName": ("Meter Name",),
    "meterCategory": ("Meter Category",),
    "meterSubCategory": ("Meter Sub-Category", "Meter Subcategory"),
    "unitOfMeasure": ("Unit Of Measure",),
    "quantity": ("Consumed Quantity", "UsageQuantity"),
    "costInBillingCurrency": ("Cost", "PreTaxCost", "ExtendedCost", "CostInBillingCurrency"),
    "billingCurrency": ("Currency",),
    "consumedService": ("Consumed Service",),
    "SubscriptionId": ("SubscriptionGuid", "Subscription Id"),
    "subscriptionName": ("Subscription Name",),
    "resourceGroupName": ("Resource Group",),
    "InstanceId": ("Instance Id",),
}
_METER = {"metername"}
_COST_OR_METER = {"costinbillingcurrency", "metercategory", "unitofmeasure", "pretaxcost", "extendedcost", "cost",
                  "consumedquantity", "usagequantity", "quantity"}


def _detect(sample: Sample) -> bool:
    # the meter name plus one Cost Management money/meter column, in any documented spelling: loose enough that a
    # file missing a required column is still recognised and then rejected naming it; FOCUS has x_SkuMeterName
    keys = {"".join(ch for ch in c.lower() if ch.isalnum()) for c in sample.columns}
    return bool(keys & _METER) and bool(keys & _COST_OR_METER)


FORMAT = Format(
    id="azure-cost-details",
    parts=True,
    kind="billing",
    reads="Azure Cost Management cost/usage details CSV (EA or MCA headers): Azure OpenAI / Foundry Models "
          "meter rows, one per day x meter x resource",
    containers=("csv", "parquet"),
    required=REQUIRED,
    optional=OPTIONAL,
    detect=_detect,
    aliases=ALIASES,
    sources={"ts": "date", "model": "meterName", "input_tokens": "quantity", "cache_read_tokens": "quantity",
             "output_tokens": "quantity", "cost_usd": "costInBillingCurrency", "service_tier": "meterName"},
    selects='for an AI service (Azure OpenAI, Foundry Models)',
)
