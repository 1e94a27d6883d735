"""`pick: score` (simulate/router.py): a router's scores per request rank the eligible requests, lowest first, in
the replay, the slider tables and the CLI — a new pick mode added as one class attribute of the ranked kinds."""

from __future__ import annotations

import json
import re

import pytest

import routellm_gsm8k as gsm
import simulate
from simulate import frontier, router, shadow

SCORED = {"kind": "shift", "pick": "score", "to": {"model": gsm.WEAK}}


def scenario(share: float, scores: str = gsm.perfect_router_csv(), grades: bool = True, **extra):
    sc = simulate.parse_scenario({"name": "s", "policies": [{**SCORED, "share": share, **extra}],
                                  "assumptions": {"router_scores": router.scores_data(router.parse(scores))}})
    return shadow.with_shadow(sc, shadow.parse(gsm.grades_csv(), "g.csv")) if grades else sc


@pytest.fixture
def gsm_wh(wh, tmp_path):
    gsm.load(wh, tmp_path)
    return wh


@pytest.mark.slow
def test_a_perfect_router_keeps_only_what_the_strong_model_alone_gets_right(gsm_wh):
    # 925 of 1,307 moved: the 382 only GPT-4 gets right stay, and quality is the oracle's 1,215 / 1,307
    k = gsm.N - gsm.STRONG_ONLY
    share = frontier.share_for_count(k, gsm.N)
    r = simulate.run(gsm_wh, scenario(share))
    assert r.moved_requests == k
    assert r.exact["scenario_quality"] == pytest.approx(gsm.ORACLE_ACC, abs=1e-12)
    assert r.quality_basis["router_scores"] == {"router": "perfect", "scored_requests": 1307, "matched_requests": 1307}
    assert "1,307 of 1,307 scored requests matched" in r.summary_text()
    # the slider tables read the same order
    sc = scenario(share)
    out = frontier.prepare(gsm_wh, sc).table(0, sc).lookup(sc)
    assert out.scenario_quality == pytest.approx(r.scenario_quality, abs=2e-6)
    assert out.scenario_cost_usd == pytest.approx(r.scenario_cost_usd, abs=1e-9)


def test_unscored_requests_move_after_every_scored_one(gsm_wh):
    text = "request_id,score\nq-5,0.9\nq-6,0.1\nq-7,0.5\n"
    r = simulate.run(gsm_wh, scenario(frontier.share_for_count(2, gsm.N), scores=text, grades=False))
    moved = r.breakdown.filter(r.breakdown["lever"] == "model_shift")["requests"].sum()
    assert moved == 2
    # which two: q-6 and q-7 (the lowest scores), not q-5: the saving is theirs
    p, c = gsm.tokens()
    saving = sum(round((p[k] * 10 + c[k] * 30) / 1e6, 6) - (p[k] + c[k]) * 0.7 / 1e6 for k in (6, 7))
    assert r.savings_usd == pytest.approx(saving, abs=1e-6)
    sc = scenario(frontier.share_for_count(2, gsm.N), scores=text, grades=False)
    assert frontier.prepare(gsm_wh, sc).evaluate(sc).savings_usd == pytest.approx(saving, abs=1e-6)


@pytest.mark.slow
def test_sweep_agrees_with_the_replay(gsm_wh):
    sc = scenario(0.0)
    for row in frontier.sweep(gsm_wh, sc, 0, [0.1, 0.5, 0.9]).iter_rows(named=True):
        r = simulate.run(gsm_wh, scenario(row["share"]))
        assert row["scenario_cost_usd"] == pytest.approx(r.scenario_cost_usd, abs=1e-9)
        assert row["scenario_quality"] == pytest.approx(r.scenario_quality, abs=2e-6)


def test_pick_score_needs_scores_and_bad_files_name_the_row():
    with pytest.raises(simulate.ScenarioError, match="policies.0: `pick: score` needs a router's scores"):
        simulate.parse_scenario({"name": "s", "policies": [{**SCORED, "share": 0.5}]})
    with pytest.raises(simulate.ScenarioError, match="s.csv: row 2, score: Input should be a valid number"):
        router.parse("request_id,score\na,0.1\nb,x\n", "s.csv")
    with pytest.raises(simulate.ScenarioError, match="several routers"):
        router.scores_data(router.parse("request_id,score,router\na,0.1,r1\na,0.2,r2\n"))
    assert router.scores_data(router.parse("request_id,score,router\na,0.1,r1\na,0.2,r2\n"), "r2")["score"] == [0.2]


@pytest.mark.slow
def test_cli_scores(gsm_wh, tmp_path):
    import subprocess
    import sys

    db = str(gsm_wh.path)
    gsm_wh.close()
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\npolicies:\n  - {{kind: shift, share: 0.5, pick: score, to: {{model: {gsm.WEAK}}}}}\n")
    scores = tmp_path / "scores.csv"
    scores.write_text(gsm.perfect_router_csv())
    p = subprocess.run([sys.executable, "-m", "modelmix", "simulate", str(path), "--db", db, "--json",
                        "--scores", str(scores)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["moved_requests"] == 653 and out["quality_basis"]["router_scores"]["matched_requests"] == 1307


# --- the file read in bulk (as a shadow evaluation's) -----------------------------------------------------------

ROWS = [  # (request_id, score, router, provider): numeric ids, spaces, upper case, no provider, integer scores
    (" 42 ", 0.5, "mf", None), ("req-1", 1, "mf", "OpenAI "), (7, 0.25, "mf", None), ("req-1", 0, "bert", None),
    ("chatcmpl-9xK2", -3.5, "mf", "anthropic")]


def texts() -> dict[str, str]:
    import yaml

    records = [{k: v for k, v in zip(("request_id", "score", "router", "provider"), row, strict=True)
                if v is not None} for row in ROWS]
    csv_rows = [",".join("" if v is None else str(v) for v in row) for row in ROWS]
    return {"s.csv": "request_id,score,router,provider\n" + "\n".join(csv_rows) + "\n",
            "s.json": json.dumps(records), "s.yaml": yaml.safe_dump(records)}


@pytest.mark.parametrize("name", ["s.csv", "s.json", "s.yaml"])
def test_bulk_reader_equals_the_row_by_row_one(name):
    text = texts()[name]
    bulk = router.parse(text, name)
    rows = router._rows(router._records(text, name), name)
    assert bulk.equals(rows)
    assert bulk.rows() == [("42", 0.5, "mf", None), ("req-1", 1.0, "mf", "openai"), ("7", 0.25, "mf", None),
                           ("req-1", 0.0, "bert", None), ("chatcmpl-9xK2", -3.5, "mf", "anthropic")]
    assert router.routers(bulk) == ["bert", "mf"]
    assert router.scores_data(bulk, "mf") == {"request_id": ["42", "req-1", "7", "chatcmpl-9xK2"],
                                              "provider": [None, "openai", None, "anthropic"],
                                              "score": [0.5, 1.0, 0.25, -3.5], "router": "mf"}


@pytest.mark.parametrize(("text", "message"), [
    # blank lines are not rows; the header is not a row
    ("request_id,score\nr1,0.5\n\nr2,x\n", "s.csv: row 2, score: Input should be a valid number"),
    ("request_id,score\nr1,0.5\n   ,0.5\n", "s.csv: row 2, request_id: String should have at least 1"),
    ("request_id,score\nr1,0.5\n,\n\nr2,2\n", "s.csv: row 2, request_id: Field required"),
    ("request_id,score,grade\nr1,0.5,\nr2,0.5,x\n", "s.csv: row 2, grade: Extra inputs are not permitted"),
    # a duplicate before a bad row is the first problem; a bad row before a duplicate is
    ("request_id,score,router\nr1,0.5,a\nr1,0.6,b\nr1,0.7,a\nr2,x,a\n",
     "s.csv: row 3, request_id: 'r1' is scored twice by 'a' (also row 1)"),
    ("request_id,score\nr1,0.5\nr2,x\nr1,0.6\n", "s.csv: row 2, score: Input should be a valid number"),
    # the same id under two providers is two requests; the same provider spelled twice is one
    ("request_id,score,provider\nr1,0.5,openai\nr1,0.5,anthropic\nr1,0.5,OpenAI\n",
     "s.csv: row 3, request_id: 'r1' is scored twice (also row 1)"),
    ('[{"request_id": "a", "score": 1}, {"request_id": true, "score": 1}]', "s.json: row 2, request_id: Input should"),
    ('[{"request_id": "a", "score": "high"}]', "s.json: row 1, score: Input should be a valid number"),
    # a NaN or infinite score would sort above (or below) every other and set the pick order silently
    ("request_id,score\nr1,0.5\nr2,nan\n", "s.csv: row 2, score: Input should be a finite number"),
    ("request_id,score\nr1,inf\nr2,0.5\n", "s.csv: row 1, score: Input should be a finite number"),
    ("request_id,score\nr1,0.5\nr2,-Infinity\n", "s.csv: row 2, score: Input should be a finite number"),
])
def test_bulk_reader_names_the_first_bad_row(text, message):
    name = "s.json" if text.startswith("[") else "s.csv"
    with pytest.raises(simulate.ScenarioError, match=re.escape(message)):
        router.parse(text, name)


def test_a_blank_provider_is_none():
    # before: " " was lower-cased to "", a provider no request row has
    assert router.parse('request_id,score,provider\nr1,0.5," "\n', "s.csv")["provider"].to_list() == [None]
    assert router.parse('[{"request_id": "r1", "score": 0.5, "provider": " "}]', "s.json")["provider"].to_list() == [None]
