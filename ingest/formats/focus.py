"""`focus`: FinOps FOCUS 1.0-1.3 cost and usage files (CSV or Parquet), as clouds (AWS Data Exports FOCUS, Azure
Cost Management FOCUS export, GCP), resellers and FinOps tools write them (docs/research.md "FOCUS").

Only AI rows are read (`ServiceCategory` "AI and Machine Learning"; charge categories Usage, and Credit /
Adjustment as money only). The model and token class come from `SkuMeter` (or Azure's `x_SkuMeterName`, else
`ChargeDescription`) in the spec's recommended `<model>/<token type>` form, or as an Azure meter name
(`gpt-4o-0806-Inp-glbl Tokens`). Quantities from `ConsumedQuantity`/`ConsumedUnit`, else
`PricingQuantity`/`PricingUnit`, in units `Tokens`, `1000 Tokens`, `1M Tokens`. `BilledCost` is in
`BillingCurrency`: not USD -> divided by `x_BillingExchangeRate` (billing currency per USD pricing currency)
when the file has it, else the whole file is refused naming `BillingCurrency`. FOCUS 1.3 renames `ProviderName`
to `ServiceProviderName`; both are read. Kind `billing`.

The model, when the meter names only a token class ("Input Tokens"): the FOCUS 1.5 draft `ModelId`, a model key of
`SkuPriceDetails`, "… tokens for <model> in <region>" in the description, a model-naming `ResourceName`, the draft
`ModelFamily`; never the class itself. Infrastructure under an ML service (VMs, disks, bandwidth) is kept with its
money as model `infrastructure` under the cloud's name (`azure`, `aws`, `google-cloud`), not an AI provider.
"""

from ingest.formats.base import Format, Sample

REQUIRED = ("BilledCost", "BillingCurrency", "ChargeCategory", "ChargePeriodStart", "ChargePeriodEnd",
            "ServiceCategory", "ServiceName", "PricingQuantity", "PricingUnit")
OPTIONAL = ("ProviderName", "ServiceProviderName", "PublisherName", "InvoiceIssuerName", "BillingAccountId",
            "SubAccountId", "SubAccountName", "ConsumedQuantity", "ConsumedUnit", "SkuId", "SkuMeter",
            "x_SkuMeterName", "ChargeDescription", "Tags", "PricingCurrency", "x_BillingExchangeRate", "RegionId",
            "SkuPriceDetails", "ResourceName", "ResourceType", "ModelId", "ModelFamily", "x_ReasoningTokens")


def _detect(sample: Sample) -> bool:
    # the mandatory cost and charge-period columns plus the service category every FOCUS version has
    keys = sample.lower
    return {"billedcost", "chargeperiodstart", "servicecategory"} <= keys or \
        {"billedcost", "billingcurrency", "chargecategory"} <= keys


FORMAT = Format(
    id="focus",
    parts=True,
    kind="billing",
    reads="FinOps FOCUS 1.0-1.3 cost and usage CSV/Parquet: AI and Machine Learning rows, one per charge period "
          "x SKU/meter x sub account x tags",
    containers=("csv", "parquet"),
    required=REQUIRED,
    optional=OPTIONAL,
    detect=_detect,
    sources={"ts": "ChargePeriodStart", "granularity": "ChargePeriodEnd", "model": "SkuMeter",
             "provider": "ServiceProviderName", "input_tokens": "ConsumedQuantity",
             "cache_read_tokens": "ConsumedQuantity", "cache_write_tokens": "ConsumedQuantity",
             "output_tokens": "ConsumedQuantity", "cost_usd": "BilledCost", "project": "SubAccountId"},
    selects='for AI model usage (ServiceCategory "AI and Machine Learning")',
    labels=True,   # Tags
)
