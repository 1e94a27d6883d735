"""`litellm-spend-logs`: an export (CSV/JSON/Parquet) of LiteLLM proxy's `LiteLLM_SpendLogs` table.

One row per request. Traps (docs/research.md "LiteLLM spend logs"): `prompt_tokens` follows OpenAI semantics for
every provider, so it
includes cache reads and writes, which live only in the `metadata` JSON; `spend` is LiteLLM's own estimate from
its price map, not the provider's invoice (so this is telemetry); `api_key` is a hash; times are naive UTC.
"""

from ingest.formats.base import Format, has_all

FORMAT = Format(
    id="litellm-spend-logs",
    kind="telemetry",
    reads="LiteLLM proxy LiteLLM_SpendLogs table export: one row per request (request_id, startTime, model, "
          "prompt_tokens, completion_tokens, spend, metadata)",
    containers=("csv", "parquet"),
    required=("request_id", "startTime", "model", "prompt_tokens", "completion_tokens", "spend"),
    optional=("call_type", "api_key", "custom_llm_provider", "user", "end_user", "team_id", "organization_id",
              "metadata", "status", "model_group", "session_id"),
    detect=has_all("request_id", "startTime", "prompt_tokens", "completion_tokens", "spend"),
    keyed=True,
    raw=("input_tokens", "output_tokens"),
    sources={"ts": "startTime", "input_tokens": "prompt_tokens", "output_tokens": "completion_tokens",
             "cost_usd": "spend", "provider": "custom_llm_provider", "cache_read_tokens": "metadata",
             "cache_write_tokens": "metadata", "reasoning_tokens": "metadata", "session_id": "session_id"},
    sessions=True,
)
