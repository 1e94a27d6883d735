"""`openai-usage-csv`: the OpenAI platform dashboard's Activity export, `completions_usage_<from>_<to>.csv`.

No official documentation; the header is known from real exported files (docs/research.md "OpenAI dashboard CSV
exports"): `start_time`,
`end_time` (Unix s), `start_time_iso`, `end_time_iso`, the group-by columns `project_id`, `user_id`, `api_key_id`,
`model`, `batch`, `service_tier`, and the Usage API's counters (`num_model_requests`, `input_tokens`,
`input_cached_tokens`, `input_cache_write_tokens` (2026), `output_tokens`, the text/audio/image splits,
`compute_units`). Same semantics as `openai-usage-api`: `input_tokens` includes cached and cache-write tokens.
Traps: floats for counts, `False`/`TRUE` booleans, a blank row for every bucket without usage (skipped), the ISO
time's offset sometimes missing. Kind `billing`: the provider's own metered usage, without money.
"""

from ingest.formats.base import Format, Sample
from ingest.formats.openai_usage_api import SOURCES

REQUIRED = ("start_time", "end_time", "num_model_requests", "model", "input_tokens", "output_tokens")
OPTIONAL = ("start_time_iso", "end_time_iso", "project_id", "user_id", "api_key_id", "batch", "service_tier",
            "input_cached_tokens", "input_cache_write_tokens", "input_cache_write_30m_tokens",
            "input_cache_write_12h_tokens", "api_source")


def _detect(sample: Sample) -> bool:
    # the Usage API counters plus one of its bucket times; loose enough that a file missing a required column is
    # still recognised (and then rejected naming the column), and never a LiteLLM (prompt_tokens) or canonical
    # (ts/provider) file, which lack num_model_requests
    keys = sample.lower
    return {"num_model_requests", "input_tokens"} <= keys and bool(
        keys & {"start_time", "start_time_iso", "end_time"})


FORMAT = Format(
    id="openai-usage-csv",
    kind="billing",
    reads="OpenAI dashboard Activity export completions_usage_<from>_<to>.csv: one row per bucket x project/"
          "user/key/model/batch/service tier; blank empty-bucket rows skipped",
    containers=("csv",),
    required=REQUIRED,
    optional=OPTIONAL,
    detect=_detect,
    family="openai-usage",
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    raw=("input_tokens",),
    sources={**SOURCES, "user_id": "user_id"},   # the Usage API's fields, and the user
    selects='with usage (every bucket is empty)',
)
