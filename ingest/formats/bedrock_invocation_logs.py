"""`bedrock-invocation-logs`: Amazon Bedrock model invocation logs (formats.md §3b), as delivered to S3 or exported
from CloudWatch Logs: one JSON document per invocation (JSON lines, or a JSON array), usually gzip'd.

Traps: `input.inputTokenCount` is the NON-cached input only, with `cacheReadInputTokenCount` and
`cacheWriteInputTokenCount` beside it; no cost (priced from the catalog); `modelId` may be an inference profile
(`us.anthropic.…`, `global.anthropic.…`) or a profile ARN; `identity.arn` is the caller; failed calls carry
`errorCode` and are still logged. Keyed by `requestId`. Kind `telemetry`: request logs, not the invoice.
"""

from ingest.formats.base import Format, Sample

REQUIRED = ("timestamp", "requestId", "modelId", "inputTokenCount", "outputTokenCount")


def _detect(sample: Sample) -> bool:
    keys = sample.lower
    return {"requestid", "modelid"} <= keys and ("schematype" in keys or "ModelInvocationLog" in sample.head)


FORMAT = Format(
    id="bedrock-invocation-logs",
    kind="telemetry",
    reads="Amazon Bedrock model invocation logs (S3 / CloudWatch export): one JSON document per invocation, "
          "JSON lines or an array, gzip allowed",
    containers=("json",),
    required=REQUIRED,
    detect=_detect,
    keyed=True,
    sources={"ts": "timestamp", "model": "modelId", "input_tokens": "input.inputTokenCount",
             "cache_read_tokens": "input.cacheReadInputTokenCount",
             "cache_write_tokens": "input.cacheWriteInputTokenCount", "output_tokens": "output.outputTokenCount",
             "operation": "operation", "service_tier": "performanceConfig"},
)
