"""One small error family: every error a user can see has a title and a message that says what to do."""

from __future__ import annotations


class ModelMixError(Exception):
    title = "ModelMix error"

    def __init__(self, message: str, *, title: str | None = None):
        super().__init__(message)
        self.message = message
        if title:
            self.title = title

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


class DatabaseBusy(ModelMixError):
    title = "Database in use"


class DatabaseError(ModelMixError):
    title = "Database error"


class LedgerDamaged(DatabaseError):
    """The ledger file (or its write-ahead log) is truncated or corrupted; the message names the way back."""

    title = "Ledger damaged"


class IngestError(ModelMixError):
    """A whole file was rejected (unreadable, unknown format, missing column, --strict)."""

    title = "File rejected"


class ConfigError(ModelMixError):
    title = "Invalid configuration"


class PermissionDenied(ModelMixError):
    """The signed-in person's role or team scope does not allow this."""

    title = "Not allowed"
