"""`canonical`: a CSV or Parquet whose header names canonical columns (docs/design.md); the format of last resort."""

from ingest.formats.base import Format, Sample

REQUIRED = ("ts", "provider", "model", "input_tokens", "output_tokens")
OPTIONAL = ("granularity", "model_raw", "account", "project", "api_key", "user_id", "team", "workload", "operation",
            "service_tier", "requests", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd",
            "session_id")


def _detect(sample: Sample) -> bool:
    return set(REQUIRED) <= sample.lower


FORMAT = Format(
    id="canonical",
    kind="telemetry",
    reads="CSV or Parquet with the canonical columns ts, provider, model, input_tokens, output_tokens (+ optional others)",
    containers=("csv", "parquet"),
    required=REQUIRED,
    optional=OPTIONAL,
    detect=_detect,
    sessions=True,
)
