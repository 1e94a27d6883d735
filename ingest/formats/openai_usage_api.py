"""`openai-usage-api`: pages from OpenAI's Usage API, `GET /v1/organization/usage/{endpoint}` (docs/research.md
"OpenAI Usage API").

A file is one page object `{"object": "page", "data": [buckets], "has_more": …}`, a JSON array of pages, or JSON
lines of pages (DuckDB's `read_json(format='auto')` makes each page one `src` row in all three cases). Each bucket
holds one result per group-by combination; the result's `object` names the endpoint (completions, embeddings,
moderations, images, audio_speeches, audio_transcriptions), which sets `operation`. Tool-usage endpoints
(vector stores, code interpreter, file and web search) carry no tokens and are not read.

Traps: Unix-second bucket bounds; result `input_tokens` includes cached and cache-write tokens; empty buckets;
group-by fields null when not grouped; `batch: true` is the batch tier. Kind `billing`: these are the provider's
own metered quantities (what the invoice is computed from), though without money, so `cost_usd` is null and the
ledger prices them from the catalog.
Rows are keyed on bucket start, width, endpoint and group-by values (see the SQL), and `_row` counts results
in file order (page, bucket, result), so a rejected value is reported as "row N" = the N-th result.
"""

from ingest.formats.base import Format, Sample

ENVELOPE = ("data", "start_time", "end_time", "results")
# counters one of the usage result objects carries; the Costs API (same envelope) has `amount` instead
USAGE_FIELDS = ("num_model_requests", "input_tokens", "images", "characters", "seconds")
# canonical column -> the result field it is read from (also the dashboard Activity CSV's header: openai-usage-csv)
SOURCES = {"ts": "start_time", "granularity": "end_time", "model": "model", "input_tokens": "input_tokens",
           "cache_read_tokens": "input_cached_tokens", "cache_write_tokens": "input_cache_write_tokens",
           "output_tokens": "output_tokens", "requests": "num_model_requests", "service_tier": "service_tier",
           "project": "project_id", "api_key": "api_key_id"}


def _detect(sample: Sample) -> bool:
    keys = sample.lower
    return set(ENVELOPE) <= keys and ("organization.usage." in sample.head or bool(keys & set(USAGE_FIELDS)))


FORMAT = Format(
    id="openai-usage-api",
    kind="billing",
    reads="OpenAI Usage API JSON pages (/v1/organization/usage/completions, embeddings, moderations, images, "
          "audio_speeches, audio_transcriptions): one row per bucket x group-by combination",
    containers=("json",),
    required=ENVELOPE,
    detect=_detect,
    family="openai-usage",
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    raw=("input_tokens",),
    sources=SOURCES,
    selects='with usage (every bucket is empty)',
)
