"""Every setting in one declared model: a default, a description, and an environment override MODELMIX_<NAME>.
The README's settings table lists each one (a test checks that)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MODELMIX_", extra="ignore")

    db: Path = Field(Path("modelmix.duckdb"), description="The ledger's DuckDB file (`--db` overrides it).")
    rules: Path | None = Field(None, description="Attribution rules file (YAML) loaded into the ledger on start.")
    price_overrides: Path | None = Field(
        None, description="Price overrides file (YAML or CSV) loaded into the ledger on start.")
    memory_limit: str | None = Field(
        "1GB", description="DuckDB's memory limit for this process (past it, big loads spill to disk); "
        "empty for DuckDB's default of 80% of RAM.")
    max_unzipped_bytes: int = Field(
        20 * 2**30, description="Largest size a zip member or gzip file may expand to before it is rejected.")
    max_upload_bytes: int = Field(
        2 * 2**30, description="Largest file the dashboard accepts in one upload (larger files: `modelmix ingest` "
        "on the server); `modelmix serve` sets Streamlit's upload cap to match.")
    inbox_poll_seconds: float = Field(1.0, description="How often the dashboard looks in the inbox for CLI ingests.")
    inbox_timeout_seconds: float = Field(
        3600.0, description="How long `modelmix ingest` waits for the dashboard to load files it handed over.")
    slider_row_limit: int = Field(
        2_000_000, description="The most rows of a What-if range whose per-row arrays are held in memory (~0.45 GB "
        "per 1 M rows: the whole curve, oracle bound and seed band); above it the sliders use quantile buckets "
        "(exact, a few MB) and those analyses ask for a narrower range (docs/simulation.md).")
    cache_ttl_seconds: int = Field(300, description="How long the dashboard keeps a query result before re-reading.")
    warm_up: bool = Field(True, description="Replay the default scenarios of the What-if, Outlook and Budgets pages "
                          "in the background when the dashboard opens the ledger and after every change of data, so "
                          "their first render does not wait for a replay.")
    port: int = Field(8501, description="Port of `modelmix serve`.")
    openai_base_url: str = Field("https://api.openai.com", description="Base URL of OpenAI's admin API for "
                                 "`modelmix pull openai` (`--base-url` and a job's `base_url` override it).")
    anthropic_base_url: str = Field("https://api.anthropic.com", description="Base URL of Anthropic's admin API "
                                    "for `modelmix pull anthropic`.")
    openrouter_base_url: str = Field("https://openrouter.ai/api", description="Base URL of OpenRouter's API for "
                                     "`modelmix pull openrouter`.")
    pull_safety_window: str = Field("2d", description="How far before its cursor a pull starts again (`30m`, `6h`, "
                                    "`2d`); rows read twice load once.")
    pull_lookback_days: int = Field(30, description="How many days back a provider's first pull starts (no "
                                    "`--since`).")
    jobs_file: Path = Field(Path("jobs.yaml"), description="The jobs file of `modelmix jobs` (sources to pull and "
                            "their schedule).")
    auth_provider: str | None = Field(
        None, description="Which `[auth.<name>]` provider of Streamlit's secrets the sign-in button uses when "
        "several are configured (none: the only one, or the flat `[auth]` section).")
    trusted_header: str | None = Field(
        None, description="Trust a sign-in proxy (oauth2-proxy, IAP): read the signed-in email from this request "
        "header, e.g. `X-Forwarded-Email`. Only safe when the port is reachable through the proxy alone.")
    role_claim: str | None = Field(
        None, description="Take the role from this identity claim (OIDC, e.g. `groups` or `roles`) or, with a "
        "trusted header, this request header, when the users table has no row for the email.")
    role_claim_prefix: str = Field(
        "modelmix-", description="The claim values that grant a role: this prefix and the role's name "
        "(`modelmix-viewer`, `modelmix-analyst`, `modelmix-admin`); the highest one wins.")
    team_claim_map: Path | None = Field(
        None, description="A YAML file mapping identity-provider group values to teams (`groups: {okta-legal: "
        "legal}`) for viewers whose role comes from the role claim; values `<role_claim_prefix>team-<name>` need "
        "no file. A claim naming only teams the ledger doesn't know is denied.")
    admins: str = Field(
        "", description="Comma-separated emails that are always admins when signed in (a bootstrap for the first "
        "admin; `modelmix users add EMAIL --role admin` is the other way).")


def settings() -> Settings:
    """The settings of the current `MODELMIX_*` environment, built once per distinct environment (building
    them costs about 5 ms; the dashboard asks on every query). The one way to get settings."""
    return _settings(tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith("MODELMIX_"))))


@functools.lru_cache(maxsize=16)
def _settings(environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()
