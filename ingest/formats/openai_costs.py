"""`openai-costs-api` and `openai-cost-csv`: OpenAI's money, per day and line item (docs/research.md "OpenAI Costs
API", "OpenAI dashboard CSV exports").

`openai-costs-api` reads pages of `GET /v1/organization/costs` (one page, a JSON array of pages, or JSON lines of
pages); `openai-cost-csv` reads the dashboard's Cost export `cost_<from>_<to>.csv`. Both carry the same rows:
`amount.value` / `amount_value` in USD dollars per daily bucket and group-by combination, with a free-text
`line_item` ("gpt-4o-2024-08-06, cached input", "priority | gpt-4.1, output, long context", "web search tool
calls") parsed in SQL into model, operation and service tier. Kind `billing`. Cost rows are not requests and
carry no token counts, so `requests` and every token column are 0; the tokens come from the Usage API formats.
Both share one natural key (bucket start and width, line item, project, key, user, api_source), so the API pages
and the export of the same bucket load once. The CSV's `user_email`, `project_name` and `organization_name`
are never read (personal/display data); `user_id` is OpenAI's `user-…` id.
"""

from ingest.formats.base import Format, Sample

API_ENVELOPE = ("data", "start_time", "end_time", "results")
API_REQUIRED = (*API_ENVELOPE, "amount")
CSV_REQUIRED = ("start_time", "end_time", "amount_value", "amount_currency")
CSV_OPTIONAL = ("start_time_iso", "end_time_iso", "quantity", "quantity_unit", "line_item", "user_id", "api_key_id",
                "project_id", "organization_id", "api_source")
SOURCES = {"ts": "start_time", "granularity": "end_time", "model": "line_item", "service_tier": "line_item",
           "operation": "line_item", "project": "project_id", "api_key": "api_key_id", "user_id": "user_id"}


def _detect_api(sample: Sample) -> bool:
    # the Usage API shares the envelope; a cost result has `amount` (or its object name) instead of counters
    keys = sample.lower
    return set(API_ENVELOPE) <= keys and ("organization.costs." in sample.head or {"amount", "line_item"} <= keys)


def _detect_csv(sample: Sample) -> bool:
    # loose enough that a cost export missing a required column is still recognised (then refused, naming it)
    keys = sample.lower
    return bool(keys & {"amount_value", "amount_currency"}) and bool(keys & {"start_time", "start_time_iso", "end_time"})


API = Format(
    id="openai-costs-api",
    kind="billing",
    reads="OpenAI Costs API JSON pages (/v1/organization/costs): one row per daily bucket x line item/project/"
          "key/user; USD dollars; money only (no tokens)",
    containers=("json",),
    required=API_REQUIRED,
    detect=_detect_api,
    family="openai-costs",
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    sources={**SOURCES, "cost_usd": "amount.value"},
    selects='with an amount (every bucket is empty)',
)

CSV = Format(
    id="openai-cost-csv",
    kind="billing",
    reads="OpenAI dashboard Cost export cost_<from>_<to>.csv: one row per daily bucket x line item/project/key/"
          "user; USD dollars with 30+ decimals; user_email and names not read; blank empty-bucket rows skipped",
    containers=("csv",),
    required=CSV_REQUIRED,
    optional=CSV_OPTIONAL,
    detect=_detect_csv,
    family="openai-costs",
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    sources={**SOURCES, "cost_usd": "amount_value"},
    selects='with an amount (every bucket is empty)',
)
