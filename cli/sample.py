"""Seeded synthetic data: a year of AI traffic for the fictional company "Northwind Analytics".

`generate(out_dir, rows, seed)` writes
- `litellm_spend_logs.csv`: `rows` request rows in the LiteLLM_SpendLogs export layout (docs/research.md "LiteLLM
  spend logs"), and
- `daily_<provider>.csv` for openai, anthropic, aws-bedrock and google-vertex: canonical-format daily totals
  (granularity `day`, `cost_usd` = billed), as the provider's invoice sees them: ALL of the company's traffic,
  the projects that call the provider directly and the gateway's. Where the log and an export cover the same
  provider and day, the ledger counts the export's spend and replays the log's requests (source_choice).

What is in it: 10 teams, 29 projects, 22 catalog-priced models on 4 providers; growth over the year and project
launches; weekday seasonality (weekends lower) and a Christmas dip; heavy-tailed (lognormal) token counts per
workload; prompt caching and reasoning tokens where the provider has them; one model migration (support-chat
moves from gpt-4o to gpt-4.1-mini mid-year); and one runaway agent (one api key doing ~20x its usual volume for
two days; `generate` returns its dates).

Everything is vectorised (numpy + polars; no Python loop per row) and drawn from one seeded
`numpy.random.Generator`, so the same seed gives the same bytes. Spend is computed from list prices taken from
genai-prices once per model (`calc_price`), below any long-context tier.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
from genai_prices import Usage, calc_price

from warehouse.prices import resolve

COMPANY = "Northwind Analytics"
LITELLM_FILE = "litellm_spend_logs.csv"
PROVIDERS = ("openai", "anthropic", "aws-bedrock", "google-vertex")

# LiteLLM's `custom_llm_provider` for each ModelMix provider id
_LITELLM_PROVIDER = {"openai": "openai", "anthropic": "anthropic", "aws-bedrock": "bedrock",
                     "google-vertex": "vertex_ai"}
# the billing account each provider's daily export names
_ACCOUNT = {"openai": "org-northwind", "anthropic": "northwind-analytics", "aws-bedrock": "412093857731",
            "google-vertex": "billing-01A2B3-northwind"}
# a prompt never exceeds this, which keeps every request under the catalog's long-context price tiers
MAX_PROMPT = 120_000
MAX_COMPLETION = 16_000
_CHUNK = 1_000_000  # request rows formatted and written at a time


@dataclass(frozen=True)
class Model:
    provider: str
    name: str            # as the source writes it
    group: str           # LiteLLM model_group: the public alias clients ask for
    cache: str = "none"  # openai: cached_tokens | anthropic: cache read + creation | none
    reasoning: bool = False
    embedding: bool = False


MODELS = {m.name: m for m in (
    Model("openai", "gpt-4o-2024-08-06", "gpt-4o", "openai"),
    Model("openai", "gpt-4o-mini", "gpt-4o-mini", "openai"),
    Model("openai", "gpt-4.1", "gpt-4.1", "openai"),
    Model("openai", "gpt-4.1-mini", "gpt-4.1-mini", "openai"),
    Model("openai", "gpt-4.1-nano", "gpt-4.1-nano", "openai"),
    Model("openai", "o3-mini", "o3-mini", "openai", reasoning=True),
    Model("openai", "text-embedding-3-small", "embed-small", embedding=True),
    Model("openai", "text-embedding-3-large", "embed-large", embedding=True),
    Model("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet", "anthropic"),
    Model("anthropic", "claude-haiku-4-5-20251001", "claude-haiku", "anthropic"),
    Model("anthropic", "claude-opus-4-1-20250805", "claude-opus", "anthropic"),
    Model("anthropic", "claude-3-5-haiku-20241022", "claude-haiku-legacy", "anthropic"),
    Model("aws-bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock-sonnet", "anthropic"),
    Model("aws-bedrock", "anthropic.claude-3-haiku-20240307-v1:0", "bedrock-haiku", "anthropic"),
    Model("aws-bedrock", "amazon.nova-pro-v1:0", "nova-pro"),
    Model("aws-bedrock", "amazon.nova-lite-v1:0", "nova-lite"),
    Model("aws-bedrock", "amazon.nova-micro-v1:0", "nova-micro"),
    Model("aws-bedrock", "meta.llama3-1-70b-instruct-v1:0", "llama-70b"),
    Model("google-vertex", "gemini-2.5-pro", "gemini-pro", "openai", reasoning=True),
    Model("google-vertex", "gemini-2.5-flash", "gemini-flash", "openai", reasoning=True),
    Model("google-vertex", "gemini-2.5-flash-lite", "gemini-flash-lite", "openai"),
    Model("google-vertex", "gemini-2.0-flash", "gemini-2.0-flash", "openai"),
)}


@dataclass(frozen=True)
class Workload:
    """Lognormal token shapes: medians and sigmas of prompt and completion tokens; prompt-cache behaviour."""

    prompt_median: float
    prompt_sigma: float
    completion_median: float
    completion_sigma: float
    cache_rows: float = 0.0    # share of requests that read from the prompt cache
    cache_share: float = 0.0   # mean share of the prompt read from cache on those requests
    write_rows: float = 0.0    # share of requests that write to the cache (anthropic-style caches)
    profile: str = "office"    # time-of-day profile


WORKLOADS = {
    "chat": Workload(1200, 0.9, 250, 0.8, 0.40, 0.50, 0.05),
    "classification": Workload(600, 0.6, 8, 0.5, 0.20, 0.60),
    "extraction": Workload(2500, 0.8, 300, 0.6, 0.30, 0.40, 0.05, "batch"),
    "summarization": Workload(4000, 0.9, 350, 0.6, 0.10, 0.30),
    "drafting": Workload(900, 0.7, 600, 0.6, 0.20, 0.40),
    "coding-agent": Workload(12000, 1.0, 800, 0.9, 0.80, 0.80, 0.20),
    "rag-qa": Workload(3000, 0.5, 300, 0.7, 0.25, 0.30),
    "long-context": Workload(30000, 0.8, 1200, 0.6, 0.30, 0.60, 0.10),
    "embeddings": Workload(350, 0.9, 0, 0.0, profile="batch"),
}
# share of the day's requests in each UTC hour (US + EU office hours; batch jobs at night)
_PROFILES = {
    "office": np.array([2, 1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 10, 11, 11, 10, 9, 8, 6, 5, 4, 3, 2], float),
    "batch": np.array([9, 10, 10, 9, 7, 5, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5, 7], float),
    "flat": np.ones(24),
}
_PROFILE_IDS = {name: i for i, name in enumerate(_PROFILES)}


@dataclass(frozen=True)
class Project:
    name: str
    team: str
    workload: str
    models: dict[str, float]     # model name -> share of the project's requests
    volume: float                # relative requests per weekday at the start of the year
    keys: tuple[str, ...] = ("prod",)
    launch: float = 0.0          # fraction of the year at which the project starts
    growth: float = 1.0          # volume multiple by the end of the year
    weekend: float = 0.35        # weekend volume relative to a weekday
    users: int = 40
    direct: bool = False         # billed straight by the provider (daily export), not through LiteLLM
    tier: str = "standard"


PROJECTS = (
    # --- through the LiteLLM gateway
    Project("support-chat", "customer-support", "chat", {"gpt-4o-2024-08-06": 1.0}, 30, ("prod", "staging"),
            growth=2.2, weekend=0.75, users=900),
    Project("support-triage", "customer-support", "classification", {"gpt-4.1-nano": 1.0}, 15, growth=2.0,
            weekend=0.7),
    Project("ticket-summaries", "customer-support", "summarization",
            {"claude-haiku-4-5-20251001": 0.8, "claude-3-5-haiku-20241022": 0.2}, 8, growth=1.8, weekend=0.6),
    Project("sales-email-assist", "sales", "drafting", {"gpt-4.1": 0.6, "claude-sonnet-4-5-20250929": 0.4}, 6,
            growth=1.6, users=120),
    Project("crm-enrichment", "sales", "extraction", {"gpt-4o-mini": 1.0}, 10, ("prod", "backfill"), growth=1.5),
    Project("call-notes", "sales", "summarization", {"gemini-2.5-flash": 1.0}, 5, launch=0.2, growth=2.5),
    Project("campaign-copy", "marketing", "drafting", {"claude-sonnet-4-5-20250929": 0.7, "gpt-4.1": 0.3}, 3,
            growth=1.4, users=30),
    Project("seo-briefs", "marketing", "chat", {"gemini-2.0-flash": 1.0}, 4, growth=1.3),
    Project("sql-copilot", "data-science", "coding-agent", {"claude-sonnet-4-5-20250929": 0.7, "o3-mini": 0.3}, 6,
            growth=2.0, users=60),
    Project("knowledge-base-embed", "data-science", "embeddings", {"text-embedding-3-small": 1.0}, 25,
            ("indexer",), growth=2.5, weekend=0.9),
    Project("knowledge-base-qa", "data-science", "rag-qa",
            {"gpt-4.1-mini": 0.6, "claude-haiku-4-5-20251001": 0.4}, 9, growth=2.4, users=300),
    Project("code-review-agent", "platform-eng", "coding-agent",
            {"claude-sonnet-4-5-20250929": 0.85, "claude-opus-4-1-20250805": 0.15}, 5, ("ci", "ide"), growth=2.0,
            weekend=0.2, users=80),
    Project("incident-summarizer", "platform-eng", "summarization",
            {"anthropic.claude-3-5-sonnet-20240620-v1:0": 1.0}, 2, weekend=0.8),
    Project("log-classifier", "platform-eng", "classification", {"amazon.nova-lite-v1:0": 1.0}, 12, ("stream",),
            growth=1.7, weekend=0.95),
    Project("invoice-extraction", "finance", "extraction", {"gpt-4.1-mini": 1.0}, 6, growth=1.3, weekend=0.1),
    Project("expense-audit", "finance", "classification", {"claude-3-5-haiku-20241022": 1.0}, 3, weekend=0.1),
    Project("contract-review", "legal", "long-context",
            {"claude-opus-4-1-20250805": 0.6, "gemini-2.5-pro": 0.4}, 1.5, weekend=0.1, users=15),
    Project("policy-qa", "legal", "chat", {"claude-haiku-4-5-20251001": 1.0}, 1, users=200),
    Project("feedback-mining", "product", "extraction", {"gemini-2.5-flash-lite": 1.0}, 8, launch=0.3, growth=2.0),
    Project("spec-writer", "product", "drafting", {"gpt-4.1": 0.7, "o3-mini": 0.3}, 2, users=25),
    Project("research-agent", "research", "coding-agent", {"o3-mini": 0.5, "gemini-2.5-pro": 0.5}, 2, launch=0.45,
            growth=3.0, users=20),
    Project("eval-harness", "research", "classification",
            {"gpt-4.1-nano": 0.4, "claude-haiku-4-5-20251001": 0.3, "gemini-2.0-flash": 0.3}, 4, ("batch",)),
    Project("hr-helpdesk", "people-ops", "chat", {"gpt-4o-mini": 1.0}, 2, weekend=0.1, users=400),
    Project("resume-screening", "people-ops", "extraction", {"amazon.nova-pro-v1:0": 1.0}, 1.5, weekend=0.2),
    # --- billed directly by the provider (daily exports)
    Project("catalog-enrichment", "product", "extraction",
            {"gpt-4.1-mini": 0.7, "text-embedding-3-large": 0.3}, 14, direct=True, tier="batch", weekend=1.0),
    Project("mobile-assistant", "product", "chat", {"gpt-4o-mini": 1.0}, 10, direct=True, growth=1.8,
            weekend=0.9),
    Project("research-notebooks", "research", "long-context",
            {"claude-opus-4-1-20250805": 0.3, "claude-sonnet-4-5-20250929": 0.7}, 2, direct=True),
    Project("data-lake-tagging", "data-science", "classification",
            {"anthropic.claude-3-haiku-20240307-v1:0": 0.5, "amazon.nova-micro-v1:0": 0.3,
             "meta.llama3-1-70b-instruct-v1:0": 0.2}, 12, direct=True, weekend=1.0),
    Project("ads-localization", "marketing", "drafting", {"gemini-2.5-flash": 0.6, "gemini-2.5-pro": 0.4}, 4,
            direct=True, launch=0.1, growth=1.5),
)

# the migration: support-chat moves from gpt-4o to gpt-4.1-mini over two weeks, mid-year
MIGRATION = {"project": "support-chat", "from": "gpt-4o-2024-08-06", "to": "gpt-4.1-mini", "at": 0.5, "ramp_days": 14}
# the runaway agent: this project's key loops for two days at ~20x its usual volume
RUNAWAY = {"project": "code-review-agent", "key": "ci", "model": "claude-sonnet-4-5-20250929", "at": 0.7,
           "days": 2, "factor": 20.0}
# projects whose requests carry the end customer's id (LiteLLM `end_user`)
CUSTOMER_FACING = ("support-chat", "mobile-assistant")
# share of all requests that go through the gateway (the rest are in the daily exports)
GATEWAY_SHARE = 0.75


def _rates(model: Model, on: datetime) -> tuple[float, float, float, float]:
    """USD per token (input, output, cache read, cache write) from genai-prices, below any long-context tier."""
    provider, model_id = resolve(model.provider, model.name)
    if model_id is None:
        raise ValueError(f"genai-prices does not know {model.provider}/{model.name}")
    n = 100_000

    def price(**usage: int) -> float:
        calc = calc_price(Usage(**usage), model_id, provider_id=provider, genai_request_timestamp=on)
        return float(calc.total_price / Decimal(n))

    p_in = price(input_tokens=n)
    p_out = price(output_tokens=n) if not model.embedding else 0.0
    # genai-prices counts cache tokens inside input_tokens
    p_cr = price(input_tokens=n, cache_read_tokens=n)
    p_cw = price(input_tokens=n, cache_write_tokens=n)
    return p_in, p_out, p_cr, p_cw


def _key_alias(project: Project, key: str) -> str:
    return f"{project.name}-{key}"


def _key_hash(alias: str, seed: int) -> str:
    # LiteLLM stores the sha256 of the virtual key; the secret here is made up from the alias and the seed
    return hashlib.sha256(f"sk-northwind-{seed}-{alias}".encode()).hexdigest()


def _streams() -> list[dict]:
    """One stream per (project, key, model): the unit whose daily volume is drawn."""
    out = []
    for pi, p in enumerate(PROJECTS):
        models = dict(p.models)
        if p.name == MIGRATION["project"]:
            models[MIGRATION["to"]] = 0.0  # gets the share that migrates (see _weights)
        for k, key in enumerate(p.keys):
            key_share = 1.0 if len(p.keys) == 1 else (0.8 if k == 0 else 0.2 / (len(p.keys) - 1))
            for m, share in models.items():
                out.append({"project": pi, "key": key, "model": m, "share": share * key_share, "spike": False})
    # the runaway loop is a stream of its own so it can run round the clock
    runaway = next(i for i, p in enumerate(PROJECTS) if p.name == RUNAWAY["project"])
    out.append({"project": runaway, "key": RUNAWAY["key"], "model": RUNAWAY["model"], "share": 0.0, "spike": True})
    return out


def _spike_days(start: date, days: int) -> list[date]:
    first = start + timedelta(days=int(days * RUNAWAY["at"]))
    first += timedelta(days=(1 - first.weekday()) % 7)  # a Tuesday
    return [first + timedelta(days=i) for i in range(RUNAWAY["days"])]


def _weights(streams: list[dict], start: date, days: int, rng: np.random.Generator) -> np.ndarray:
    """Expected relative requests per stream and day: volume x share x growth x launch x weekday x noise."""
    d = np.arange(days)
    frac = d / max(days - 1, 1)
    dates = np.array([start + timedelta(days=int(i)) for i in d])
    weekday = np.array([x.weekday() for x in dates])
    weekend = weekday >= 5
    holiday = np.array([(x.month == 12 and x.day >= 24) or (x.month == 1 and x.day == 1) for x in dates])
    migrate_day = int(days * MIGRATION["at"])
    moved = np.clip((d - migrate_day) / MIGRATION["ramp_days"], 0.0, 1.0)  # share of traffic migrated

    w = np.zeros((len(streams), days))
    for s, st in enumerate(streams):  # one vector op per stream (~70), never per row
        p = PROJECTS[st["project"]]
        base = p.volume * st["share"] * p.growth ** frac
        base = base * np.where(frac >= p.launch, 1.0, 0.0)
        base = base * np.where(weekend, p.weekend, 1.0) * np.where(holiday, 0.4, 1.0)
        if p.name == MIGRATION["project"]:
            if st["model"] == MIGRATION["from"]:
                base = base * (1 - moved)
            elif st["model"] == MIGRATION["to"]:
                key_share = 0.8 if st["key"] == p.keys[0] else 0.2
                base = p.volume * key_share * p.growth ** frac * moved
                base = base * np.where(weekend, p.weekend, 1.0) * np.where(holiday, 0.4, 1.0)
        w[s] = base
    w *= rng.lognormal(0.0, 0.12, size=w.shape)

    # the runaway: factor-1 times the key's usual volume on those days, on top of its normal traffic
    spike = next(s for s, st in enumerate(streams) if st["spike"])
    key_rows = [s for s, st in enumerate(streams) if not st["spike"]
                and PROJECTS[st["project"]].name == RUNAWAY["project"] and st["key"] == RUNAWAY["key"]]
    for day in _spike_days(start, days):
        i = (day - start).days
        if 0 <= i < days:
            # usual = the key's weekday volume that week, all its models together
            w[spike, i] = (RUNAWAY["factor"] - 1) * w[key_rows, max(i - 7, 0)].sum()
    return w


def _hex(rng: np.random.Generator, n: int, width: int) -> pl.Series:
    """n random lower-case hex strings of `width` characters (vectorised through an Arrow buffer)."""
    digits = np.frombuffer(b"0123456789abcdef", np.uint8)
    raw = rng.integers(0, 16, size=(n, width), dtype=np.uint8)
    data = digits[raw].ravel()
    offsets = np.arange(0, n * width + 1, width, dtype=np.int64)
    arr = pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return pl.from_arrow(arr).cast(pl.String)


def _tokens(rng: np.random.Generator, wl: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    names = list(WORKLOADS)
    mu_p = np.log([WORKLOADS[x].prompt_median for x in names])[wl]
    sd_p = np.array([WORKLOADS[x].prompt_sigma for x in names])[wl]
    med_c = np.array([WORKLOADS[x].completion_median for x in names])[wl]
    mu_c = np.log(np.maximum(med_c, 1))
    sd_c = np.array([WORKLOADS[x].completion_sigma for x in names])[wl]
    prompt = np.clip(np.rint(rng.lognormal(mu_p, sd_p, n)), 1, MAX_PROMPT).astype(np.int64)
    completion = np.clip(np.rint(rng.lognormal(mu_c, np.maximum(sd_c, 1e-9), n)), 1, MAX_COMPLETION)
    completion = np.where(med_c > 0, completion, 0).astype(np.int64)
    return prompt, completion


def generate(out_dir: Path, rows: int, seed: int = 7, start: date = date(2025, 12, 1), days: int = 365) -> dict:
    """Write the LiteLLM request log (`rows` rows) and the four daily provider exports into `out_dir`.

    Returns what was written: file paths, row counts, teams/projects/models/providers, the migration, and the
    runaway agent's project, api key and dates (`spike_date` is its first day)."""
    if rows < 1 or days < 30:
        raise ValueError("rows must be >= 1 and days >= 30")
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mid = datetime.combine(start + timedelta(days=days // 2), datetime.min.time())
    model_names = list(MODELS)
    rates = np.array([_rates(MODELS[m], mid) for m in model_names])  # (models, 4) USD per token

    streams = _streams()
    weights = _weights(streams, start, days, rng)
    gateway = np.array([not PROJECTS[st["project"]].direct for st in streams])
    litellm_path = out_dir / LITELLM_FILE
    _write_litellm(litellm_path, rows, seed, rng, streams, weights * gateway[:, None], start, days, model_names,
                   rates)
    daily = _write_daily(out_dir, rows, rng, streams, weights, gateway, start, days, model_names, rates)

    spike_days = _spike_days(start, days)
    runaway = next(p for p in PROJECTS if p.name == RUNAWAY["project"])
    used = {st["model"] for st in streams}
    return {
        "company": COMPANY,
        "seed": seed,
        "start": start,
        "days": days,
        "litellm_spend_logs": litellm_path,
        "litellm_rows": rows,
        "daily_files": {p: path for p, (path, _) in daily.items()},
        "daily_rows": {p: n for p, (_, n) in daily.items()},
        "files": [litellm_path, *(path for path, _ in daily.values())],
        "teams": sorted({p.team for p in PROJECTS}),
        "projects": sorted(p.name for p in PROJECTS),
        "models": sorted(used),
        "providers": list(PROVIDERS),
        "workloads": {p.name: p.workload for p in PROJECTS},
        "migration": {"project": MIGRATION["project"], "from": MIGRATION["from"], "to": MIGRATION["to"],
                      "date": start + timedelta(days=int(days * MIGRATION["at"]))},
        "spike": {"project": runaway.name, "api_key": _key_alias(runaway, RUNAWAY["key"]),
                  "dates": spike_days, "factor": RUNAWAY["factor"]},
        "spike_date": spike_days[0],
    }


def _write_litellm(path: Path, rows: int, seed: int, rng: np.random.Generator, streams: list[dict],
                   weights: np.ndarray, start: date, days: int, model_names: list[str], rates: np.ndarray) -> None:
    n_streams = len(streams)
    counts = rng.multinomial(rows, (weights / weights.sum()).ravel())
    cell = np.repeat(np.arange(counts.size), counts)
    stream = cell // days
    day = cell % days

    # per-stream attributes, gathered per row
    proj = np.array([st["project"] for st in streams])
    model_idx = np.array([model_names.index(st["model"]) for st in streams])
    wl_names = list(WORKLOADS)
    wl_idx = np.array([wl_names.index(PROJECTS[st["project"]].workload) for st in streams])
    profile = np.array([_PROFILE_IDS["flat" if st["spike"] else WORKLOADS[PROJECTS[st["project"]].workload].profile]
                        for st in streams])
    aliases = [_key_alias(PROJECTS[st["project"]], st["key"]) for st in streams]
    alias_vocab = sorted(set(aliases))
    alias_idx = np.array([alias_vocab.index(a) for a in aliases])

    # time of day: inverse CDF of the stream's hourly profile, then uniform seconds and milliseconds
    u = rng.random(rows)
    hour = np.zeros(rows, np.int64)
    row_profile = profile[stream]
    for name, pid in _PROFILE_IDS.items():  # one pass per profile (3), not per row
        sel = row_profile == pid
        cdf = np.cumsum(_PROFILES[name]) / _PROFILES[name].sum()
        hour[sel] = np.minimum(np.searchsorted(cdf, u[sel], side="right"), 23)
    start_ms = (start - date(1970, 1, 1)).days * 86_400_000
    ts = start_ms + day * 86_400_000 + hour * 3_600_000 + rng.integers(0, 3_600_000, rows)
    order = np.argsort(ts, kind="stable")
    ts, stream = ts[order], stream[order]

    m = model_idx[stream]
    wl = wl_idx[stream]
    p = proj[stream]
    prompt, completion = _tokens(rng, wl, rows)
    embedding = np.array([MODELS[x].embedding for x in model_names])[m]
    completion = np.where(embedding, 0, completion)  # embeddings have no output

    # prompt cache: openai-style reads only (multiples of 128 above 1024); anthropic-style reads and writes
    cache_kind = np.array([{"none": 0, "openai": 1, "anthropic": 2}[MODELS[x].cache] for x in model_names])[m]
    cache_rows = np.array([WORKLOADS[x].cache_rows for x in wl_names])[wl]
    cache_share = np.array([WORKLOADS[x].cache_share for x in wl_names])[wl]
    write_rows = np.array([WORKLOADS[x].write_rows for x in wl_names])[wl]
    hit = (rng.random(rows) < cache_rows) & (cache_kind > 0)
    share = np.clip(rng.beta(4, 4, rows) * 2 * cache_share, 0, 0.98)
    cache_read = np.where(hit, np.floor(prompt * share), 0).astype(np.int64)
    cache_read = np.where(cache_kind == 1, (cache_read // 128) * 128 * (prompt >= 1024), cache_read)
    writes = (rng.random(rows) < write_rows) & (cache_kind == 2)
    cache_write = np.where(writes, np.floor((prompt - cache_read) * rng.uniform(0.3, 0.9, rows)), 0).astype(np.int64)
    uncached = prompt - cache_read - cache_write

    reasoning_model = np.array([MODELS[x].reasoning for x in model_names])[m]
    reasoning = np.where(reasoning_model, np.floor(completion * rng.uniform(0.3, 0.8, rows)), 0).astype(np.int64)
    # o3-mini / thinking models spend extra output on reasoning
    completion = completion + np.where(reasoning_model, reasoning, 0)

    # a few failures: no usage, no spend
    failed = rng.random(rows) < 0.003
    prompt, completion = np.where(failed, 0, prompt), np.where(failed, 0, completion)
    uncached, cache_read, cache_write, reasoning = (np.where(failed, 0, x) for x in
                                                    (uncached, cache_read, cache_write, reasoning))
    r = rates[m]
    spend = uncached * r[:, 0] + completion * r[:, 1] + cache_read * r[:, 2] + cache_write * r[:, 3]
    latency_ms = (250 + completion * rng.lognormal(np.log(12), 0.3, rows) + prompt * 0.02).astype(np.int64)

    provider_idx = np.array([PROVIDERS.index(MODELS[x].provider) for x in model_names])[m]
    team_names = sorted({pr.team for pr in PROJECTS})
    team_idx = np.array([team_names.index(pr.team) for pr in PROJECTS])[p]
    users = np.array([PROJECTS[i].users for i in range(len(PROJECTS))])[p]
    user_no = np.floor(users * rng.power(0.5, rows)).astype(np.int64)  # a few heavy users
    customer_facing = np.array([pr.name in CUSTOMER_FACING for pr in PROJECTS])[p]
    end_user_no = rng.integers(0, 50_000, rows)

    key_hashes = [_key_hash(a, seed) for a in alias_vocab]
    names = lambda vocab, idx: pl.Series(vocab).gather(idx)  # noqa: E731 -- vocabulary lookup, vectorised
    id_hex = _hex(rng, rows, 24)
    frame = pl.DataFrame({
        "_n": np.arange(rows),
        "_emb": embedding,
        "_provider": names([_LITELLM_PROVIDER[x] for x in PROVIDERS], provider_idx),
        "_hex": id_hex,
        "api_key": names(key_hashes, alias_idx[stream]),
        "spend": spend,
        "total_tokens": prompt + completion,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "_start": pl.Series(ts).cast(pl.Datetime("ms")),
        "_end": pl.Series(ts + latency_ms).cast(pl.Datetime("ms")),
        "model": names(model_names, m),
        "model_group": names([MODELS[x].group for x in model_names], m),
        "_alias": names(alias_vocab, alias_idx[stream]),
        "_team": names(team_names, team_idx),
        "_project": names([pr.name for pr in PROJECTS], p),
        "_user": user_no,
        "_cust": np.where(customer_facing, end_user_no, -1),
        "_cr": cache_read,
        "_cw": cache_write,
        "_ck": cache_kind,
        "_rs": reasoning,
        "_failed": failed,
    })
    ms_fmt = "%Y-%m-%d %H:%M:%S%.3f"
    usage = pl.concat_str([
        pl.when(pl.col("_ck") == 2).then(pl.concat_str([pl.lit('"cache_read_input_tokens":'), pl.col("_cr"),
                                                        pl.lit(',"cache_creation_input_tokens":'), pl.col("_cw")]))
        .when((pl.col("_ck") == 1) & (pl.col("_cr") > 0)).then(
            pl.concat_str([pl.lit('"prompt_tokens_details":{"cached_tokens":'), pl.col("_cr"), pl.lit("}")])),
        pl.when(pl.col("_rs") > 0).then(
            pl.concat_str([pl.lit('"completion_tokens_details":{"reasoning_tokens":'), pl.col("_rs"), pl.lit("}")])),
    ], separator=",", ignore_nulls=True)
    columns = dict(
        request_id=pl.when(pl.col("_emb")).then(pl.lit("emb-") + pl.col("_hex"))
        .when(pl.col("_provider") == "anthropic").then(pl.lit("msg_01") + pl.col("_hex"))
        .otherwise(pl.lit("chatcmpl-") + pl.col("_hex")),
        call_type=pl.when(pl.col("_emb")).then(pl.lit("aembedding")).otherwise(pl.lit("acompletion")),
        api_key=pl.col("api_key"),
        spend=pl.col("spend"),
        total_tokens=pl.col("total_tokens"),
        prompt_tokens=pl.col("prompt_tokens"),
        completion_tokens=pl.col("completion_tokens"),
        startTime=pl.col("_start").dt.to_string(ms_fmt),
        endTime=pl.col("_end").dt.to_string(ms_fmt),
        model=pl.col("model"),
        model_group=pl.col("model_group"),
        custom_llm_provider=pl.col("_provider"),
        user=pl.concat_str([pl.col("_project"), pl.lit("-u"), pl.col("_user")]),
        team_id=pl.lit("team-") + pl.col("_team"),
        end_user=pl.when(pl.col("_cust") >= 0).then(pl.lit("cust_") + pl.col("_cust").cast(pl.String)),
        cache_hit=pl.lit("False"),
        request_tags=pl.lit('["project:') + pl.col("_project") + pl.lit('"]'),
        metadata=pl.concat_str([
            pl.lit('{"user_api_key_alias":"'), pl.col("_alias"),
            pl.lit('","user_api_key_team_alias":"'), pl.col("_team"),
            pl.lit('","spend_logs_metadata":{"project":"'), pl.col("_project"), pl.lit('"}'),
            pl.when(usage.fill_null("") != "").then(pl.lit(',"additional_usage_values":{') + usage + pl.lit("}"))
            .otherwise(pl.lit("")),
            pl.lit("}"),
        ]),
        status=pl.when(pl.col("_failed")).then(pl.lit("failure")).otherwise(pl.lit("success")),
    )
    # written in slices: eager polars speed with memory bounded by the slice, the same bytes as one write
    with open(path, "wb") as f:
        for offset in range(0, rows, _CHUNK):
            part = frame.slice(offset, _CHUNK).select(**columns)
            part.write_csv(f, include_header=offset == 0, float_precision=10, null_value="")


def _write_daily(out_dir: Path, rows: int, rng: np.random.Generator, streams: list[dict], weights: np.ndarray,
                 gateway: np.ndarray, start: date, days: int, model_names: list[str],
                 rates: np.ndarray) -> dict[str, tuple[Path, int]]:
    """Per provider: one row per day x project x model x key, totals of requests, tokens and billed cost, over
    all traffic: the gateway's streams at the log's volume (`rows` requests) and the direct ones at
    (1 - GATEWAY_SHARE) / GATEWAY_SHARE of it."""
    gw = gateway[:, None]
    lam = np.where(gw, weights * (rows / max((weights * gw).sum(), 1e-12)),
                   weights * (rows * (1 - GATEWAY_SHARE) / GATEWAY_SHARE / max((weights * ~gw).sum(), 1e-12)))
    requests = rng.poisson(lam)
    s_idx, d_idx = np.nonzero(requests)
    n = requests[s_idx, d_idx]
    proj = np.array([st["project"] for st in streams])[s_idx]
    m = np.array([model_names.index(st["model"]) for st in streams])[s_idx]
    wl = np.array([list(WORKLOADS).index(PROJECTS[st["project"]].workload) for st in streams])[s_idx]
    w = [WORKLOADS[x] for x in WORKLOADS]
    # mean of a lognormal = median * exp(sigma^2 / 2); day totals get a little noise of their own
    mean_p = np.array([x.prompt_median * np.exp(x.prompt_sigma ** 2 / 2) for x in w])[wl]
    mean_c = np.array([x.completion_median * np.exp(x.completion_sigma ** 2 / 2) for x in w])[wl]
    prompt = np.rint(n * mean_p * rng.lognormal(0, 0.08, n.size)).astype(np.int64)
    completion = np.rint(n * mean_c * rng.lognormal(0, 0.08, n.size)).astype(np.int64)
    embedding = np.array([MODELS[x].embedding for x in model_names])[m]
    completion = np.where(embedding, 0, completion)  # embeddings have no output
    cache_kind = np.array([{"none": 0, "openai": 1, "anthropic": 2}[MODELS[x].cache] for x in model_names])[m]
    cache_frac = np.array([x.cache_rows * x.cache_share for x in w])[wl] * (cache_kind > 0)
    cache_read = np.floor(prompt * cache_frac).astype(np.int64)
    write_frac = np.array([x.write_rows * 0.3 for x in w])[wl] * (cache_kind == 2)
    cache_write = np.floor((prompt - cache_read) * write_frac).astype(np.int64)
    uncached = prompt - cache_read - cache_write
    reasoning_model = np.array([MODELS[x].reasoning for x in model_names])[m]
    reasoning = np.where(reasoning_model, np.floor(completion * 0.5), 0).astype(np.int64)
    completion = completion + reasoning
    tier = np.array([PROJECTS[i].tier for i in range(len(PROJECTS))])[proj]
    r = rates[m]
    cost = (uncached * r[:, 0] + completion * r[:, 1] + cache_read * r[:, 2] + cache_write * r[:, 3])
    cost = np.round(cost * np.where(tier == "batch", 0.5, 1.0), 6)

    provider = np.array([MODELS[x].provider for x in model_names])[m]
    frame = pl.DataFrame({
        "ts": pl.Series((start - date(1970, 1, 1)).days + d_idx).cast(pl.Date),
        "granularity": np.full(n.size, "day"),
        "provider": provider,
        "model": np.array(model_names)[m],
        "account": pl.Series(provider, dtype=pl.String).replace_strict(_ACCOUNT),
        "project": np.array([PROJECTS[i].name for i in range(len(PROJECTS))])[proj],
        "api_key": np.array([_key_alias(PROJECTS[st["project"]], st["key"]) for st in streams])[s_idx],
        "team": np.array([PROJECTS[i].team for i in range(len(PROJECTS))])[proj],
        "operation": np.where(embedding, "embeddings", "chat"),
        "service_tier": tier,
        "requests": n.astype(np.int64),
        "input_tokens": uncached,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "output_tokens": completion,
        "reasoning_tokens": reasoning,
        "cost_usd": cost,
    }).sort("ts", "project", "model", "api_key")
    written = {}
    for prov in PROVIDERS:
        part = frame.filter(pl.col("provider") == prov)
        path = out_dir / f"daily_{prov}.csv"
        part.write_csv(path, float_precision=6)
        written[prov] = (path, part.height)
    return written


def main_sample(rows: int, out: Path, seed: int) -> None:
    """The `modelmix sample` command: write the files and say what was written."""
    started = time.perf_counter()
    info = generate(Path(out), rows, seed=seed)
    seconds = time.perf_counter() - started
    print(f"{COMPANY}: {info['days']} days from {info['start']}, seed {seed}, in {seconds:.1f} s")
    size = info["litellm_spend_logs"].stat().st_size
    print(f"  {info['litellm_spend_logs']}  {info['litellm_rows']:,} request rows  ({size / 2**20:,.1f} MiB)")
    for prov, path in info["daily_files"].items():
        print(f"  {path}  {info['daily_rows'][prov]:,} daily rows ({prov}, billed)")
    print(f"  {len(info['teams'])} teams, {len(info['projects'])} projects, {len(info['models'])} models, "
          f"{len(info['providers'])} providers")
    mig = info["migration"]
    print(f"  migration: {mig['project']} {mig['from']} -> {mig['to']} from {mig['date']}")
    sp = info["spike"]
    print(f"  runaway agent: api key {sp['api_key']} ({sp['project']}) at ~{sp['factor']:.0f}x on "
          f"{', '.join(str(d) for d in sp['dates'])}")
