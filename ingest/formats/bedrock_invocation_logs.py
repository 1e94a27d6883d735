"""`bedrock-invocation-logs`: Amazon Bedrock model invocation logs (docs/research.md "Bedrock model invocation
logs"), as delivered to S3 or exported
from CloudWatch Logs: one JSON document per invocation (JSON lines, or a JSON array), usually gzip'd.

Traps: `input.inputTokenCount` is the NON-cached input only, with `cacheReadInputTokenCount` and
`cacheWriteInputTokenCount` beside it; no cost (priced from the catalog); `modelId` may be an inference profile
(`us.anthropic.…`, `global.anthropic.…`) or a profile ARN; `identity.arn` is the caller; failed calls carry
`errorCode` and are still logged. Keyed by `requestId`. Kind `telemetry`: request logs, not the invoice.

CloudWatch Logs Insights results are read too: the GetQueryResults JSON (`aws logs get-query-results`, the
console's JSON download) `{"results": [[{"field": "@timestamp", "value": …}, {"field": "@message", "value":
"<the record as JSON text>"}, …], …], "statistics": …, "status": "Complete"}`, the same rows as a bare array, or a
flat array of cells (each `@message` cell one record). A query that picked fields instead of `@message`
(`fields @timestamp, requestId, modelId, input.inputTokenCount, output.outputTokenCount`) is read by those dotted
names.
"""

from dataclasses import dataclass

from ingest.formats.base import Format, Sample

REQUIRED = ("timestamp", "requestId", "modelId", "inputTokenCount", "outputTokenCount")


def _insights(sample: Sample) -> bool:
    """A CloudWatch Logs Insights result: cells {"field": …, "value": …}, the record as text in `@message` (its keys
    are escaped inside that string, so they are not among the sample's keys)."""
    keys = sample.lower
    return {"field", "value"} <= keys and ('"@message"' in sample.head
                                           or ('"modelId"' in sample.head and '"requestId"' in sample.head))


def _detect(sample: Sample) -> bool:
    keys = sample.lower
    if _insights(sample):
        return "ModelInvocationLog" in sample.head or ("modelid" in sample.head.lower()
                                                       and "requestid" in sample.head.lower())
    return {"requestid", "modelid"} <= keys and ("schematype" in keys or "ModelInvocationLog" in sample.head)


@dataclass(frozen=True)
class InvocationLogFormat(Format):
    """Plain invocation documents need their fields; a Logs Insights result carries them inside `@message`, read
    (and checked row by row) in the SQL."""

    def missing_columns(self, sample: Sample) -> list[str]:
        if _insights(sample):
            return []
        return super().missing_columns(sample)


FORMAT = InvocationLogFormat(
    id="bedrock-invocation-logs",
    kind="telemetry",
    reads="Amazon Bedrock model invocation logs (S3 / CloudWatch export): one JSON document per invocation, "
          "JSON lines or an array, gzip allowed; or CloudWatch Logs Insights results ({\"results\": [[{field, "
          "value}]]}, a bare array of rows, or a flat array of cells) with the record in @message",
    containers=("json",),
    required=REQUIRED,
    detect=_detect,
    keyed=True,
    sources={"ts": "timestamp", "model": "modelId", "input_tokens": "input.inputTokenCount",
             "cache_read_tokens": "input.cacheReadInputTokenCount",
             "cache_write_tokens": "input.cacheWriteInputTokenCount", "output_tokens": "output.outputTokenCount",
             "operation": "operation", "service_tier": "performanceConfig"},
)
