"""The pull errors: every one has a title and a message that says what to do, and none carries a secret."""

from __future__ import annotations

from collections.abc import Iterable

from warehouse.errors import ModelMixError


class PullError(ModelMixError):
    title = "Pull failed"


class PullAuthError(PullError):
    """The provider refused the credentials (HTTP 401/403); the message names the environment variable."""

    title = "Credentials refused"


class PullConfigError(PullError):
    title = "Pull not configured"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every secret value replaced by `***` (a last guard: messages are built without secrets)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
