"""`helicone-requests`: Helicone request exports (docs/research.md "Helicone and Langfuse"), one row per proxied
request, keyed by request id.

Shapes read by one SQL file (a column a shape lacks is added as null):
- the `helicone` CLI export (`helicone requests export --format csv|json|jsonl --fields …`): `request_id`,
  `created_at`, `model`, `provider`, `status`, `prompt_tokens`, `completion_tokens`, `cost` (USD dollars), `user_id`;
- the request API / `@helicone/export` JSON (HeliconeRequest): `request_id`, `request_created_at`, `request_model`,
  `provider`, `request_user_id`, `request_properties`, cache and reasoning counts, `cost` (dollars);
- a raw dump of Helicone's ClickHouse `request_response_rmt` table: `request_created_at` plus `status` and
  `properties`, and `cost` as an integer ×1e9 (COST_PRECISION_MULTIPLIER), divided here.
Sessions (`Helicone-Session-Id` request header) are stored as the property of that name: read as session_id.
Helicone's cost is its own estimate from its price registry, so this is telemetry.
"""

from ingest.formats.base import Format, Sample

# columns only some shapes have; each is read as null when the file lacks it
OPTIONAL = ("request_id", "response_id", "created_at", "request_created_at", "model", "request_model",
            "response_model", "provider", "status", "response_status", "user_id", "request_user_id", "properties",
            "request_properties", "reasoning_tokens", "prompt_cache_read_tokens", "prompt_cache_write_tokens",
            "cost", "cost_usd", "tokens", "path", "request_path", "target_url")
# one of these next to prompt_tokens, a request id and a creation time says the file is Helicone's
_HELICONE_ONLY = {"provider", "request_user_id", "request_properties", "response_status", "latency_ms", "ttft_ms",
                  "prompt_cache_read_tokens", "prompt_cache_write_tokens", "helicone_user", "delay_ms"}


def _detect(sample: Sample) -> bool:
    keys = sample.lower
    return ("prompt_tokens" in keys
            and bool(keys & {"request_created_at", "created_at"})
            and bool(keys & {"request_id", "response_id"})
            and bool(keys & _HELICONE_ONLY))


FORMAT = Format(
    id="helicone-requests",
    kind="telemetry",
    reads="Helicone request export (CLI/API CSV, JSON, JSON lines) or a raw request_response_rmt dump: one row "
          "per request (request_id, created_at, model, provider, prompt/completion tokens, cost, user, properties)",
    containers=("csv", "json", "parquet"),
    required=("prompt_tokens", "completion_tokens"),
    optional=OPTIONAL,
    detect=_detect,
    keyed=True,
    raw=("input_tokens", "output_tokens"),
    sources={"ts": "created_at", "model": "model", "provider": "provider", "user_id": "user_id",
             "input_tokens": "prompt_tokens", "output_tokens": "completion_tokens",
             "cache_read_tokens": "prompt_cache_read_tokens", "cache_write_tokens": "prompt_cache_write_tokens",
             "reasoning_tokens": "reasoning_tokens", "cost_usd": "cost"},
    json_as_text=True,
    sessions=True,
)
