"""A ledger shaped like RouteLLM's public GSM8K outcomes (docs/research.md "RouteLLM", our re-computation), built
here from the published counts only (no data downloaded): 1,307 prompts (contaminated ones removed), GPT-4-1106 right and
Mixtral-8x7B wrong on 382 (29.2%), both right on 739, Mixtral only on 94, neither on 92 — so GPT-4 scores
1,121/1,307 = 85.8%, Mixtral 833/1,307 = 63.7%, and an oracle router 1,215/1,307 = 93.0%.

The requests are logged as a LiteLLM spend log on `gpt-4-1106-preview` (ingest resolves it to the catalog's
`gpt-4-turbo`); the grades name the models as logged (`gpt-4-1106-preview`, `mixtral-8x7b-instruct-v0.1`), one
row per (request, model), scores 0 or 1. Token counts are seeded and independent of the outcome.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N = 1307
BOTH, WEAK_ONLY, STRONG_ONLY, NEITHER = 739, 94, 382, 92
STRONG, WEAK = "gpt-4-1106-preview", "mixtral-8x7b-instruct-v0.1"
STRONG_ACC, WEAK_ACC, ORACLE_ACC = (BOTH + STRONG_ONLY) / N, (BOTH + WEAK_ONLY) / N, (N - NEITHER) / N
LITELLM = "request_id,startTime,model,prompt_tokens,completion_tokens,spend,custom_llm_provider"


def outcomes(seed: int = 1307) -> tuple[np.ndarray, np.ndarray]:
    """(strong right, weak right) per request, 0/1, in request order q-0 … q-1306 (a seeded shuffle)."""
    cat = np.repeat([0, 1, 2, 3], [BOTH, WEAK_ONLY, STRONG_ONLY, NEITHER])
    cat = np.random.default_rng(seed).permutation(cat)
    strong = np.isin(cat, [0, 2]).astype(int)
    weak = np.isin(cat, [0, 1]).astype(int)
    return strong, weak


def tokens(seed: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(50, 800, N), rng.integers(20, 400, N)


def load(wh, tmp_path: Path) -> None:
    """The 1,307 requests, on 2025-06-01/02 (one per minute), priced at gpt-4-turbo's $10 / $30 per 1M."""
    from ingest import ingest_paths

    prompt, completion = tokens()
    lines = [LITELLM]
    for k in range(N):
        ts = f"2025-06-0{1 + k // 1000} {(k % 1000) // 60:02d}:{k % 60:02d}:00"
        spend = (prompt[k] * 10 + completion[k] * 30) / 1e6
        lines.append(f"q-{k},{ts},{STRONG},{prompt[k]},{completion[k]},{spend:.6f},openai")
    path = tmp_path / "gsm8k_spend_logs.csv"
    path.write_text("\n".join(lines) + "\n")
    assert [r.status for r in ingest_paths(wh, [path])] == ["loaded"]


def grades_csv() -> str:
    strong, weak = outcomes()
    rows = ["request_id,model,score,provider"]
    for k in range(N):
        rows.append(f"q-{k},{STRONG},{strong[k]},openai")
        rows.append(f"q-{k},{WEAK},{weak[k]},openai")
    return "\n".join(rows) + "\n"


def perfect_router_csv(router: str = "perfect") -> str:
    """A router that knows the answers: 1 where only the strong model is right (keep it there), else 0."""
    strong, weak = outcomes()
    rows = ["request_id,score,router,provider"]
    rows += [f"q-{k},{int(strong[k] and not weak[k])},{router},openai" for k in range(N)]
    return "\n".join(rows) + "\n"
