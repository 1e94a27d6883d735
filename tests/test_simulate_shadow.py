"""Shadow evaluation (simulate/shadow.py): measured scores replace the priors for the requests they cover, and the
replay's and the slider tables' measured/assumed split says so."""

from __future__ import annotations

import pytest

import simulate
from simulate import frontier, shadow
from simulate_data import ten_requests

SHIFT = {"kind": "shift", "to": {"model": "gpt-4o-mini"}}


def scenario(share: float):
    return simulate.parse_scenario({"name": "t", "policies": [{**SHIFT, "share": share}]})


def test_parse_csv_and_errors_name_the_row():
    rows = shadow.parse("workload,model,score,requests,source\nChat,GPT-4o,0.93,400,grader\nchat,gpt-4o-mini,0.8,,\n")
    assert [(r.workload, r.model, r.score, r.requests) for r in rows] == [
        ("chat", "gpt-4o", 0.93, 400), ("chat", "gpt-4o-mini", 0.8, None)]
    with pytest.raises(simulate.ScenarioError, match="row 2, score"):
        shadow.parse("workload,model,score\nchat,a,0.5\nchat,b,1.5\n", "s.csv")
    assert shadow.parse('[{"workload": "*", "model": "m", "score": 0.5}]', "s.json")[0].workload == "*"


def test_fully_measured_pair_replaces_the_priors(wh, tmp_path):
    ten_requests(wh, tmp_path)                         # ten gpt-4o requests, workload chat
    scores = shadow.parse("workload,model,score\nchat,gpt-4o,0.9\nchat,gpt-4o-mini,0.8\n")
    sc = shadow.with_shadow(scenario(1.0), scores)
    r = simulate.run(wh, sc)
    assert (r.baseline_quality, r.scenario_quality) == (0.9, 0.8)
    assert r.quality_basis["measured_requests"] == 10 and r.quality_basis["assumed_requests"] == 0
    assert "measured on 10 requests by shadow evaluation" in r.summary_text()
    out = frontier.prepare(wh, sc).evaluate(sc)
    assert out.measured_requests == 10 and out.scenario_quality == 0.8


def test_partly_measured_split(wh, tmp_path):
    ten_requests(wh, tmp_path)
    # only the source model is graded: the 5 requests that stay are measured; the 5 moved ones compare both
    # models in the MMLU block (the chat block does not score gpt-4o-mini), so they stay assumed
    sc = shadow.with_shadow(scenario(0.5), shadow.parse("workload,model,score\nchat,gpt-4o,0.9\n"))
    r = simulate.run(wh, sc)
    assert r.quality_basis["measured_requests"] == 5 and r.quality_basis["assumed_requests"] == 5
    out = frontier.prepare(wh, sc).table(0, sc).lookup(sc)
    assert out.measured_requests == 5
    assert out.scenario_quality == pytest.approx(r.scenario_quality, abs=2e-6)


def test_without_a_shadow_file_nothing_is_measured(wh, tmp_path):
    ten_requests(wh, tmp_path)
    r = simulate.run(wh, scenario(0.5))
    assert r.quality_basis["measured_requests"] == 0 and r.quality_basis["assumed_requests"] == 10
