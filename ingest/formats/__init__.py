"""The registry of source formats: adding a format is one module here plus its `sql/adapters/<id>.sql`."""

from __future__ import annotations

from ingest.formats import canonical, litellm_spend_logs, openai_usage_api, openai_usage_csv
from ingest.formats import aws_cur, azure_cost_details, bedrock_invocation_logs, focus, gcp_billing
from ingest.formats import openai_costs
from ingest.formats import anthropic
from ingest.formats import openrouter
from ingest.formats import helicone, langfuse
from ingest.formats import otel_genai_spans
from ingest.formats.base import Format, Sample

# detection tries formats in this order: the most specific signatures first, `canonical` last
FORMATS: dict[str, Format] = {
    f.id: f
    for f in (
        openai_usage_api.FORMAT,
        openai_usage_csv.FORMAT,
        openai_costs.API,
        openai_costs.CSV,
        anthropic.USAGE_API,
        anthropic.COST_API,
        anthropic.CONSOLE_USAGE_CSV,
        anthropic.CONSOLE_COST_CSV,
        openrouter.ACTIVITY_CSV,
        openrouter.GENERATIONS_CSV,
        openrouter.GENERATION_JSON,
        litellm_spend_logs.FORMAT,
        helicone.FORMAT,
        langfuse.FORMAT,
        aws_cur.LEGACY,
        aws_cur.CUR2,
        bedrock_invocation_logs.FORMAT,
        otel_genai_spans.FORMAT,
        azure_cost_details.FORMAT,
        gcp_billing.EXPORT,
        gcp_billing.COST_TABLE,
        focus.FORMAT,
        canonical.FORMAT,
    )
}


def family(fmt: Format) -> list[str]:
    """The format ids whose statements a file of `fmt` speaks for: its own, and its family's (docs/design.md)."""
    if fmt.family is None:
        return [fmt.id]
    return sorted({fmt.id, *(f.id for f in FORMATS.values() if f.family == fmt.family)})


def get(format_id: str) -> Format:
    try:
        return FORMATS[format_id]
    except KeyError:
        raise KeyError(f"unknown format {format_id!r}; known: {', '.join(FORMATS)}") from None


def detect(sample: Sample) -> Format | None:
    for fmt in FORMATS.values():
        if sample.container in fmt.containers and fmt.detect(sample):
            return fmt
    return None


__all__ = ["FORMATS", "Format", "Sample", "get", "detect"]
