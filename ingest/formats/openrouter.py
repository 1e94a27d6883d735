"""OpenRouter: the Activity page's daily CSV and per-generation CSV, and `/api/v1/generation` JSON responses
(docs/research.md "OpenRouter"). Provider `openrouter` (OpenRouter bills it); models are OpenRouter slugs such as
`anthropic/claude-sonnet-4.5`, which the catalog resolves. Kind `billing`: OpenRouter's own charges.

Tokens: completion counts include reasoning (OpenRouter counts reasoning as output), except where a row reports more
reasoning than completion (native counts of providers that report thinking apart, e.g. Gemini's
thoughtsTokenCount): there output_tokens = completion + reasoning. reasoning_tokens always holds the reasoning.
"""

from ingest.formats.base import Format, Sample

ACTIVITY_REQUIRED = ("Date", "Slug", "Usage", "Requests", "Prompt Tokens", "Completion Tokens")
GENERATIONS_REQUIRED = ("generation_id", "created_at", "cost_total", "tokens_prompt", "tokens_completion",
                        "model_permaslug")
GENERATION_REQUIRED = ("id", "created_at", "model", "total_cost", "native_tokens_prompt", "native_tokens_completion")


def _detect_activity(sample: Sample) -> bool:
    keys = sample.lower
    return "slug" in keys and bool(keys & {"byok usage", "prompt tokens", "completion tokens"})


def _detect_generations(sample: Sample) -> bool:
    keys = sample.lower
    return "generation_id" in keys and bool(keys & {"model_permaslug", "cost_total", "tokens_prompt"})


def _detect_generation(sample: Sample) -> bool:
    keys = sample.lower
    return "total_cost" in keys and bool(keys & {"native_tokens_prompt", "native_tokens_completion",
                                                 "native_tokens_cached"})


ACTIVITY_CSV = Format(
    id="openrouter-activity-csv",
    kind="billing",
    reads="OpenRouter Activity export, daily CSV (Date, Slug, Usage, BYOK Usage, Requests, Prompt/Completion/"
          "Reasoning Tokens): one row per day x model",
    containers=("csv",),
    required=ACTIVITY_REQUIRED,
    optional=("BYOK Usage", "Reasoning Tokens"),
    detect=_detect_activity,
    keyed=False,  # a statement of a window: dedupe by window, not by its line key (docs/design.md)
    raw=("output_tokens",),
    sources={"ts": "Date", "model": "Slug", "cost_usd": "Usage", "requests": "Requests",
             "input_tokens": "Prompt Tokens", "output_tokens": "Completion Tokens",
             "reasoning_tokens": "Reasoning Tokens"},
)

GENERATIONS_CSV = Format(
    id="openrouter-generations-csv",
    kind="billing",
    reads="OpenRouter Activity export, per-generation CSV (generation_id, created_at, cost_total, tokens_*, "
          "model_permaslug, …): one row per generation",
    containers=("csv",),
    required=GENERATIONS_REQUIRED,
    optional=("tokens_reasoning", "tokens_cached", "api_key_name", "app_name", "user"),
    detect=_detect_generations,
    keyed=True,
    raw=("input_tokens", "output_tokens"),
    sources={"ts": "created_at", "model": "model_permaslug", "cost_usd": "cost_total",
             "input_tokens": "tokens_prompt", "cache_read_tokens": "tokens_cached",
             "output_tokens": "tokens_completion", "reasoning_tokens": "tokens_reasoning",
             "api_key": "api_key_name", "project": "app_name", "user_id": "user"},
)

GENERATION_JSON = Format(
    id="openrouter-generation-json",
    kind="billing",
    reads="OpenRouter GET /api/v1/generation responses {\"data\": {...}} (one, an array, or JSON lines): one row "
          "per generation with native token counts and total_cost",
    containers=("json",),
    required=GENERATION_REQUIRED,
    detect=_detect_generation,
    keyed=True,
    raw=("input_tokens", "output_tokens"),
    sources={"ts": "created_at", "model": "model", "cost_usd": "total_cost",
             "input_tokens": "native_tokens_prompt", "cache_read_tokens": "native_tokens_cached",
             "output_tokens": "native_tokens_completion", "reasoning_tokens": "native_tokens_reasoning",
             "project": "app_id", "user_id": "external_user", "service_tier": "service_tier"},
)
