"""Every shipped preset loads and runs; their results on a fixed small ledger are golden files.

Regenerate on purpose with `MODELMIX_UPDATE_GOLDEN=1 python -m pytest tests/simulate/test_simulate_presets.py` and
review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import simulate
from simulate_data import load_rows

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "simulate_presets.json"


def fixed_ledger(wh, tmp_path):
    rows = []
    for k in range(1, 11):  # chat on gpt-4o, growing requests; billed cost given
        rows.append({"ts": f"2025-06-01T{k:02d}:00:00", "input_tokens": 400 * k, "output_tokens": 60 * k,
                     "cost_usd": f"{0.0016 * k:.4f}"})
    for k in range(1, 6):  # coding agent on claude-sonnet-4-5, list-priced, heavy cache reads
        rows.append({"ts": f"2025-06-01T{k:02d}:30:00", "provider": "anthropic", "model": "claude-sonnet-4-5",
                     "project": "ide", "team": "eng", "workload": "coding-agent", "input_tokens": 2000 * k,
                     "cache_read_tokens": 20000 * k, "output_tokens": 300 * k})
    for d in (2, 3):  # daily extraction buckets on claude-sonnet-4-5 and offline evals on gpt-4o-mini
        rows.append({"ts": f"2025-06-0{d}", "granularity": "day", "provider": "anthropic",
                     "model": "claude-sonnet-4-5", "project": "contracts", "team": "legal",
                     "workload": "extraction", "requests": 500, "input_tokens": 1_500_000, "output_tokens": 100_000})
        rows.append({"ts": f"2025-06-0{d}", "granularity": "day", "model": "gpt-4o-mini", "project": "evals",
                     "team": "ml", "workload": "evaluation", "requests": 2000, "input_tokens": 3_000_000,
                     "output_tokens": 400_000})
    load_rows(wh, tmp_path, rows)


def test_presets_match_golden(wh, tmp_path):
    fixed_ledger(wh, tmp_path)
    got = {name: simulate.run(wh, simulate.load_scenario(name)).to_dict() for name in simulate.presets()}
    if os.environ.get("MODELMIX_UPDATE_GOLDEN") or not GOLDEN.exists():
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(GOLDEN.read_text())
    assert sorted(got) == sorted(want)
    for name in want:
        for key, value in want[name].items():
            if isinstance(value, float):
                assert got[name][key] == pytest.approx(value, abs=1e-6), (name, key)
            elif key != "breakdown":
                assert got[name][key] == value, (name, key)
        assert len(got[name]["breakdown"]) == len(want[name]["breakdown"]), name


def test_preset_sanity(wh, tmp_path):
    fixed_ledger(wh, tmp_path)
    res = {name: simulate.run(wh, simulate.load_scenario(name)) for name in simulate.presets()}
    base = res["baseline"]
    assert base.savings_usd == 0 and base.moved_requests == 0
    for name, r in res.items():
        assert r.baseline_cost_usd == pytest.approx(base.baseline_cost_usd), name
        assert 0 <= r.savings_usd <= r.baseline_cost_usd, name
    # armstrong moves floor(0.8 × 15) frontier request rows plus 80% of the 1,000 bucketed frontier requests
    assert res["armstrong-80-99"].moved_requests == pytest.approx(12 + 800)
    # harvey keeps the coding agent on the frontier model: only chat and extraction move
    harvey = res["harvey-3x"].by("workload", "lever")
    moved = set(harvey.filter(harvey["lever"] == "model_shift")["workload"])
    assert moved == {"chat", "extraction"}
    by_workload = res["batch-offline"].by("workload")
    evals = by_workload.filter(by_workload["workload"] == "evaluation")["baseline_cost_usd"][0]
    assert res["batch-offline"].savings_by_lever() == {"batch": pytest.approx(0.5 * evals)}


def test_cli_json_is_the_result_dict(wh, tmp_path):
    fixed_ledger(wh, tmp_path)
    out = simulate.run(wh, simulate.load_scenario("baseline")).to_json()
    assert json.loads(json.dumps(out)) == out and out["savings_usd"] == 0
