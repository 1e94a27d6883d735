"""Anthropic: Admin API usage and cost reports (JSON pages) and the Claude Console usage and cost CSV exports
(docs/research.md "Anthropic Admin API usage report", "… cost report", "Claude Console CSV exports"). All four
are kind `billing` (Anthropic's own metering and charges).

- `anthropic-usage-api`: `usage_report/messages` pages; tokens per bucket, no money, no request count.
  `uncached_input_tokens` already excludes cache; 5-minute and 1-hour cache writes are summed.
- `anthropic-cost-api`: `cost_report` pages; `amount` is a string in CENTS, converted to dollars in the SQL.
- `anthropic-console-usage-csv`: Console Usage export, both header versions (single or 5m/1h cache write).
- `anthropic-console-cost-csv`: Console Cost export, 2024 / 2025-12 / 2026-03 / 2026-08 headers; display
  names ("Claude Sonnet 4.5") mapped to catalog ids in the SQL.
Money-only formats (the two cost ones) load requests and tokens as 0; the usage ones load requests as 0 too,
since neither source reports a request count.
"""

from ingest.formats.base import Format, Sample

ENVELOPE = ("data", "starting_at", "ending_at", "results")
USAGE_FIELDS = {"uncached_input_tokens", "cache_read_input_tokens", "cache_creation", "output_tokens"}
COST_FIELDS = {"cost_type", "token_type", "description", "currency"}


def _detect_usage_api(sample: Sample) -> bool:
    keys = sample.lower
    return set(ENVELOPE) <= keys and bool(keys & USAGE_FIELDS) and "amount" not in keys


def _detect_cost_api(sample: Sample) -> bool:
    keys = sample.lower
    return set(ENVELOPE) <= keys and bool(keys & COST_FIELDS) and not keys & USAGE_FIELDS


def _detect_console_usage(sample: Sample) -> bool:
    keys = sample.lower
    return "usage_date_utc" in keys and bool(keys & {"usage_input_tokens_no_cache", "usage_output_tokens",
                                                     "model_version"})


def _detect_console_cost(sample: Sample) -> bool:
    keys = sample.lower
    return "usage_date_utc" in keys and bool(keys & {"token_type", "cost_usd"}) and not _detect_console_usage(sample)


USAGE_API = Format(
    id="anthropic-usage-api",
    kind="billing",
    reads="Anthropic Admin API usage_report/messages JSON pages: one row per bucket (1d/1h/1m) x api key/"
          "workspace/model/service tier/context window/geo; tokens, no money",
    containers=("json",),
    required=(*ENVELOPE, "uncached_input_tokens"),
    detect=_detect_usage_api,
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    sources={"ts": "starting_at", "granularity": "ending_at", "model": "model", "project": "workspace_id",
             "api_key": "api_key_id", "user_id": "account_id", "service_tier": "service_tier",
             "input_tokens": "uncached_input_tokens", "cache_read_tokens": "cache_read_input_tokens",
             "cache_write_tokens": "cache_creation", "output_tokens": "output_tokens"},
)

COST_API = Format(
    id="anthropic-cost-api",
    kind="billing",
    reads="Anthropic Admin API cost_report JSON pages: one row per daily bucket x workspace/description; "
          "amount in cents (string) -> USD; money only",
    containers=("json",),
    required=(*ENVELOPE, "amount"),
    detect=_detect_cost_api,
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    sources={"ts": "starting_at", "granularity": "ending_at", "model": "model", "project": "workspace_id",
             "service_tier": "service_tier", "cost_usd": "amount"},
)

CONSOLE_USAGE_CSV = Format(
    id="anthropic-console-usage-csv",
    kind="billing",
    reads="Claude Console Usage export CSV (both header versions): one row per day x model x key x workspace x "
          "usage type x context window; tokens, no money",
    containers=("csv",),
    required=("usage_date_utc", "model_version", "usage_input_tokens_no_cache", "usage_output_tokens"),
    optional=("api_key", "workspace", "usage_type", "context_window", "usage_input_tokens_cache_write_5m",
              "usage_input_tokens_cache_write_1h", "usage_input_tokens_cache_write", "usage_input_tokens_cache_read",
              "web_search_count", "inference_geo", "speed"),
    detect=_detect_console_usage,
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    sources={"ts": "usage_date_utc", "model": "model_version", "project": "workspace", "api_key": "api_key",
             "service_tier": "usage_type", "input_tokens": "usage_input_tokens_no_cache",
             "cache_read_tokens": "usage_input_tokens_cache_read",
             "cache_write_tokens": "usage_input_tokens_cache_write_5m",
             "output_tokens": "usage_output_tokens"},
)

CONSOLE_COST_CSV = Format(
    id="anthropic-console-cost-csv",
    kind="billing",
    reads="Claude Console Cost export CSV (2024, 2025-12, 2026-03, 2026-08 headers): one row per day x model x "
          "workspace x key x token type; USD; display names mapped to model ids; money only",
    containers=("csv",),
    required=("usage_date_utc", "model", "token_type", "cost_usd"),
    optional=("workspace", "api_key", "usage_type", "context_window", "list_price_usd", "cost_type",
              "inference_geo", "speed", "api_key_id", "api_key_status"),
    detect=_detect_console_cost,
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    sources={"ts": "usage_date_utc", "model": "model", "project": "workspace", "api_key": "api_key",
             "service_tier": "usage_type", "operation": "cost_type", "cost_usd": "cost_usd"},
)
