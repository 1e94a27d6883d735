"""`langfuse-observations`: Langfuse observation exports (blob storage `observations`/`observations_v2`, CSV, JSON,
JSON lines, Parquet; docs/research.md "Helicone and Langfuse"). One row per GENERATION (LLM call) or EMBEDDING
observation, keyed by
observation `id`; SPAN, EVENT and other observation types are skipped, not rejected.

`usage_details` / `cost_details` arrive as JSON text (CSV), a JSON object (JSON) or DuckDB map text `{k=v}`
(a Parquet map read as text): the SQL reads each key with one regex that fits all three. Langfuse keeps the
usage keys disjoint (its SDKs subtract cached/reasoning details from `input`/`output`), times are naive UTC with
microseconds, and its costs are Langfuse's own estimate from its model price table, so this is telemetry.
"""

from ingest.formats.base import Format, Sample


def _detect(sample: Sample) -> bool:
    keys = sample.lower
    return {"usage_details", "type"} <= keys and bool(keys & {"trace_id", "provided_model_name"})


FORMAT = Format(
    id="langfuse-observations",
    kind="telemetry",
    reads="Langfuse observation export (CSV, JSON, JSON lines, Parquet): GENERATION/EMBEDDING observations with "
          "usage_details, cost_details/total_cost, provided_model_name, trace_id, user_id, project_id",
    containers=("csv", "json", "parquet"),
    required=("id", "type", "start_time", "usage_details"),
    optional=("provided_model_name", "model", "cost_details", "total_cost", "trace_id", "trace_name", "user_id",
              "project_id", "session_id"),
    detect=_detect,
    keyed=True,
    raw=("output_tokens",),
    sources={"ts": "start_time", "model": "provided_model_name", "input_tokens": "usage_details",
             "cache_read_tokens": "usage_details", "cache_write_tokens": "usage_details",
             "output_tokens": "usage_details", "reasoning_tokens": "usage_details", "cost_usd": "total_cost"},
    selects='a GENERATION or EMBEDDING observation',
    json_as_text=True,
    sessions=True,
)
