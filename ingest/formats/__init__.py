"""The registry of source formats: adding a format is one module here plus its `sql/adapters/<id>.sql`."""

from __future__ import annotations

from ingest.formats import canonical, litellm_spend_logs, openai_usage_api, openai_usage_csv
from ingest.formats import aws_cur, azure_cost_details, bedrock_invocation_logs, focus, gcp_billing
from ingest.formats import openai_costs
from ingest.formats import anthropic
from ingest.formats import openrouter
from ingest.formats import helicone, langfuse
from ingest.formats import otel_genai_spans
from ingest.formats.base import CANONICAL_COLUMNS, Format, Sample

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


# every column name some format reads (required, optional, or the source of a canonical column) and the canonical
# names: the only names of an unrecognised file a message shows (warehouse.errors, "quoting a file")
KNOWN_COLUMNS = frozenset(
    name.lower()
    for f in FORMATS.values()
    for name in (*f.required, *f.optional, *f.sources.values())
) | frozenset(CANONICAL_COLUMNS)
_CONTAINER = {"csv": "CSV", "json": "JSON", "parquet": "Parquet"}
_DELIMITER = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}


def describe(sample: Sample) -> str:
    """An unrecognised file in a message: its container and how many names it holds, showing only names that
    are ModelMix's own (KNOWN_COLUMNS). Its other text, a first line that was no header included, is never
    shown (`modelmix ingest /etc/shadow` as root printed a password hash in the line standing for a header)."""
    what = _CONTAINER[sample.container]
    if sample.container == "csv":
        what += f", {_DELIMITER.get(sample.delimiter, 'comma')}-separated"
    noun = "key" if sample.container == "json" else "column"
    names = sorted(sample.columns, key=str.lower)
    known = [n for n in names if n.lower() in KNOWN_COLUMNS]
    shown = ", ".join(known[:12]) + (" …" if len(known) > 12 else "")
    count = f"{len(names)} {noun} name{'' if len(names) == 1 else 's'}" if names else f"no {noun} names"
    if len(known) == len(names):
        return f"read as {what}: {count}" + (f", all known to ModelMix: {shown}" if names else "")
    hidden = "— an unrecognised file's own text is never shown"
    if not known:
        return f"read as {what}: {count}, {'none' if len(names) > 1 else 'not one'} that ModelMix knows {hidden}"
    return f"read as {what}: {count}; ModelMix knows {shown}; the other {len(names) - len(known)} not shown {hidden}"


def detect(sample: Sample) -> Format | None:
    for fmt in FORMATS.values():
        if sample.container in fmt.containers and fmt.detect(sample):
            return fmt
    return None


__all__ = ["FORMATS", "KNOWN_COLUMNS", "Format", "Sample", "get", "detect", "describe"]
