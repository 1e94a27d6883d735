"""Ingest jobs: detect a file's format, map it to canonical columns in SQL, validate, load once."""

from ingest.job import FileResult, ingest_paths, results_json

__all__ = ["FileResult", "ingest_paths", "results_json"]
