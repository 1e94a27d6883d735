"""`otel-genai-spans`: OpenTelemetry spans with the GenAI semantic conventions, as OTLP JSON the way the
OpenTelemetry Collector's file exporter writes it: one `ExportTraceServiceRequest` per line
(`resourceSpans` → `scopeSpans` → `spans`), gzip allowed. A plain JSON file holding one request works too.

One row per model-call span (`gen_ai.operation.name` chat / text_completion / generate_content / embeddings,
or no operation name but a model and token counts); agent, tool and non-GenAI spans (HTTP, database) are
skipped, not rejected, so an agent span's rolled-up usage is never counted beside its own model calls.
Keyed by `spanId`, so a span exported twice (overlapping files, a retried export) loads once.

Traps (formats.md, OpenTelemetry GenAI spans):
- attributes are lists of `{key, value}` with a typed value; `intValue` is a JSON *string* ("1200"), as are
  `startTimeUnixNano` and the other 64-bit fields (proto3 JSON mapping);
- `gen_ai.usage.input_tokens` includes cache reads and writes (the conventions say it SHOULD), so they are
  subtracted; an instrumentation that reports the uncached count (smaller than the cache counts) is kept as is;
- `gen_ai.provider.name` replaced `gen_ai.system` (semconv 1.37); OpenLLMetry still writes the older
  `gen_ai.system`, `gen_ai.usage.prompt_tokens`/`completion_tokens` and `gen_ai.usage.cache_read_input_tokens`;
- spans carry no money: rows are priced from the catalog (telemetry).
"""

from ingest.formats.base import Format, Sample

GENAI_MARKERS = ("gen_ai.request.model", "gen_ai.response.model", "gen_ai.usage.", "gen_ai.operation.name")


def _detect(sample: Sample) -> bool:
    keys = sample.lower
    return {"resourcespans", "scopespans", "spans"} <= keys and any(m in sample.head for m in GENAI_MARKERS)


FORMAT = Format(
    id="otel-genai-spans",
    kind="telemetry",
    reads="OpenTelemetry OTLP JSON trace exports (Collector file exporter: one ExportTraceServiceRequest per line, "
          "gzip allowed): model-call spans with gen_ai.* attributes, resource and scope attributes",
    containers=("json",),
    required=("resourceSpans",),
    detect=_detect,
    keyed=True,
    raw=("input_tokens",),
    sources={"ts": "startTimeUnixNano", "provider": "gen_ai.provider.name", "model": "gen_ai.response.model",
             "input_tokens": "gen_ai.usage.input_tokens", "output_tokens": "gen_ai.usage.output_tokens",
             "cache_read_tokens": "gen_ai.usage.cache_read.input_tokens",
             "cache_write_tokens": "gen_ai.usage.cache_creation.input_tokens",
             "reasoning_tokens": "gen_ai.usage.reasoning.output_tokens",
             "service_tier": "openai.response.service_tier", "session_id": "gen_ai.conversation.id"},
    sessions=True,
    labels=True,
)
