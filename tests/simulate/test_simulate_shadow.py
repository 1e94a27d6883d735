"""Shadow evaluation (simulate/shadow.py): measured scores replace the priors for the requests they cover, and the
replay's and the slider tables' measured/assumed split says so."""

from __future__ import annotations

import re

import polars as pl
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


# --- per request id -------------------------------------------------------------------------------------------

LITELLM = "request_id,startTime,model,prompt_tokens,completion_tokens,spend,custom_llm_provider"
PRIORS = {"*": {"gpt-4o": 0.8, "gpt-4o-mini": 0.7}}      # fixed priors, so the hand computation is short
GRADES = """request_id,model,score,provider
req-1,gpt-4o,0.95,openai
req-1,gpt-4o-mini,0.9,openai
req-2,gpt-4o,0.85,openai
req-2,gpt-4o-mini,0.6,openai
req-3,gpt-4o,0.9,openai
req-7,gpt-4o,0.75,
nope,gpt-4o,0.5,
req-4,gpt-4o,0.1,anthropic
"""


def ten_logged(wh, tmp_path, extra: tuple[str, ...] = ()):
    """LiteLLM request k (k = 1..10, id req-k, openai gpt-4o): 100k prompt and 10k completion tokens, $0.001 × k."""
    lines = [LITELLM, *(f"req-{k},2025-06-01 {k:02d}:00:00,gpt-4o,{100 * k},{10 * k},{0.001 * k:.3f},openai"
                        for k in range(1, 11)), *extra]
    path = tmp_path / "spend_logs.csv"
    path.write_text("\n".join(lines) + "\n")
    from ingest import ingest_paths
    assert [r.status for r in ingest_paths(wh, [path])] == ["loaded"]


def graded(policy: dict, text: str = GRADES):
    sc = simulate.parse_scenario({"name": "t", "policies": [policy], "assumptions": {"quality": PRIORS}})
    return shadow.with_shadow(sc, shadow.parse(text, "grades.csv"))


def test_request_key_is_the_ledger_key(wh, tmp_path):
    ten_logged(wh, tmp_path)
    assert wh.scalar("select count(*) from usage_raw where row_key = request_row_key('openai', 'req-3')") == 1
    keyed = wh.sql("select * from usage_keyed limit 0").columns
    assert keyed == [*wh.sql("select * from usage limit 0").columns, "row_key"]
    assert "row_key" in wh.sql("select * from usage_replay limit 0").columns


def columns(grades) -> list[tuple]:
    return list(zip(grades.request_id, grades.provider, grades.model, grades.score, strict=True))


def test_parse_request_form():
    grades = shadow.parse("request_id,model,score\n 42 ,GPT-4o,0.5\n")
    assert columns(grades) == [("42", None, "gpt-4o", 0.5)] and grades.source is None
    grades = shadow.parse('[{"request_id": 7, "provider": "OpenAI", "model": "m", "score": 1}]', "g.json")
    assert columns(grades) == [("7", "openai", "m", 1.0)]
    # a score padded with blanks beside plain ones (the bulk reader strips only when some value needs it), model
    # names already clean beside one that is not
    text = "request_id,model,score\nr1,m,0.5\nr2, M ,  0.25 \nr3,m,1\n"
    assert columns(shadow.parse(text)) == [("r1", None, "m", 0.5), ("r2", None, "m", 0.25), ("r3", None, "m", 1.0)]
    assert shadow.parse(text, "g.csv") == row_by_row(text, "g.csv")


@pytest.mark.parametrize(("text", "message"), [
    ("request_id,model,score\nr1,m,0.5\nr2,m,1.5\n", "g.csv: row 2, score: Input should be less than or equal to 1"),
    ("request_id,model,score\nr1,m,0.5\nr2,,0.5\n", "g.csv: row 2, model: Field required"),
    ("request_id,model\nr1,m\n", "g.csv: row 1, score: Field required"),
    ("request_id,model,score,grader\nr1,m,0.5,x\n", "g.csv: row 1, grader: Extra inputs are not permitted"),
    ("request_id,model,score\nr1,m,0.5\nr2,m,0.5\nr1,M,0.7\n",
     "g.csv: row 3, request_id: 'r1' on model 'm' is graded twice (also row 1)"),
    ("request_id,model,score\nr1,m,abc\n", "g.csv: row 1, score: Input should be a valid number"),
])
def test_bad_request_file_names_row_and_column(text, message):
    with pytest.raises(simulate.ScenarioError, match=re.escape(message)):
        shadow.parse(text, "g.csv")


def test_request_grades_replace_the_priors_for_the_requests_they_cover(wh, tmp_path):
    ten_logged(wh, tmp_path)
    sc = graded({**SHIFT, "share": 0.5})     # the simplest five (req-1..5) move to gpt-4o-mini
    r = simulate.run(wh, sc)
    # moved: req-1 and req-2 graded on both models (measured); req-3 only on the source, req-4 only under another
    # provider, req-5 not at all (priors 0.8 -> 0.7); stayed: req-7 graded (0.75), the other four on priors (0.8)
    base = (0.95 + 0.85 + 3 * 0.8 + 0.75 + 4 * 0.8) / 10
    scen = (0.9 + 0.6 + 3 * 0.7 + 0.75 + 4 * 0.8) / 10
    assert (r.baseline_quality, r.scenario_quality) == (pytest.approx(base, abs=1e-6), pytest.approx(scen, abs=1e-6))
    qb = r.quality_basis
    assert (qb["measured_requests"], qb["assumed_requests"], qb["unscored_requests"]) == (3, 7, 0)
    # req-1, req-2, req-3, req-7 matched; `nope` is unknown, and the ledger has no anthropic req-4
    assert (qb["graded_requests"], qb["matched_requests"]) == (6, 4)
    text = r.summary_text()
    assert "measured on 3 requests by shadow evaluation, assumed from priors for 7" in text
    assert "4 of 6 graded requests matched a replayed request row" in text
    # costs do not depend on grades
    assert r.scenario_cost_usd == simulate.run(wh, simulate.parse_scenario(
        {"name": "t", "policies": [{**SHIFT, "share": 0.5}]})).scenario_cost_usd
    prep = frontier.prepare(wh, sc)
    for out in (prep.evaluate(sc), prep.table(0, sc).lookup(sc)):
        assert (out.baseline_quality, out.scenario_quality, out.measured_requests) == (
            r.baseline_quality, r.scenario_quality, 3)


@pytest.mark.parametrize("policy", [
    {"kind": "cascade", "first": {"model": "gpt-4o-mini"}, "escalation_rate": 0.2},
    {**SHIFT, "share": 0.3, "to": {"price_ratio": 0.1, "quality_ratio": 0.9}},
    {"kind": "batch", "share": 0.5},
    {"kind": "cache", "hit_rate": 0.5},
])
def test_request_grades_slider_tables_agree_with_the_replay(wh, tmp_path, policy):
    ten_logged(wh, tmp_path)
    sc = graded(policy)
    r = simulate.run(wh, sc)
    out = frontier.prepare(wh, sc).evaluate(sc)
    assert (out.baseline_quality, out.scenario_quality, out.measured_requests) == (
        r.baseline_quality, r.scenario_quality, r.quality_basis["measured_requests"])


# every grade names its provider: the prepare joins the keyed grades in its own query (no match query first)
PROVIDED = """request_id,model,score,provider
req-1,gpt-4o,0.95,openai
req-1,gpt-4o-mini,0.9,openai
req-1,claude-3-5-haiku,0.4,openai
req-2,gpt-4o-mini,0.6,openai
req-3,GPT-4o ,0.9,openai
req-4,gpt-4o,0.1,anthropic
req-9,gpt-4o,0.7,openai
req-9,gpt-4o-mini,0.65,openai
"""


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_grades_folded_into_the_prepare_count_as_the_match_does(wh, tmp_path, share):
    from simulate import plan as P

    ten_logged(wh, tmp_path, ("other-1,2025-06-01 12:00:00,gpt-4o,50,5,0.002,openai",))
    sc = graded({**SHIFT, "share": share}, PROVIDED)
    prep = frontier.prepare(wh, sc)
    assert prep.plan.grades.fold is not None              # folded: no match query ran
    matched = P.match_request_grades(wh, sc, target_ids=["gpt-4o-mini"])
    assert matched.fold is None
    # used: req-1 (own and target), req-3 (own), req-9 (own and target); req-2's target grade has no source grade,
    # req-1's claude grade is another model, req-4 is not replayed (no anthropic row)
    assert prep.grades.basis() == matched.basis() == {
        "graded_requests": 5, "matched_requests": 3, "graded_pairs": 8, "used_pairs": 5,
        "unused_pairs": {P.NOT_REPLAYED: 1, P.NO_SOURCE: 1, P.OTHER_MODEL: 1}}
    r = simulate.run(wh, sc)
    assert r.quality_basis["matched_requests"] == 3
    for out in (prep.evaluate(sc), prep.table(0, sc).lookup(sc)):
        assert (out.baseline_quality, out.scenario_quality, out.measured_requests) == (
            r.baseline_quality, r.scenario_quality, r.quality_basis["measured_requests"])


def test_cascade_known_answer(wh, tmp_path):
    ten_logged(wh, tmp_path)
    r = simulate.run(wh, graded({"kind": "cascade", "first": {"model": "gpt-4o-mini"}, "escalation_rate": 0.2}))
    # every request cascades; only req-1 and req-2 have both grades: (1 - e) × first + e × source
    scen = (0.8 * 0.9 + 0.2 * 0.95 + 0.8 * 0.6 + 0.2 * 0.85 + 8 * (0.8 * 0.7 + 0.2 * 0.8)) / 10
    assert r.scenario_quality == pytest.approx(scen, abs=1e-6)
    assert r.quality_basis["measured_requests"] == 2


def test_an_id_without_provider_must_name_one_row(wh, tmp_path):
    # the same request id logged under two providers: without a provider it is ambiguous, with one it matches
    ten_logged(wh, tmp_path, ("req-1,2025-06-02 01:00:00,claude-3-5-haiku,100,10,0.001,anthropic",))
    r = simulate.run(wh, graded({**SHIFT, "share": 0.0}, "request_id,model,score\nreq-1,gpt-4o,0.5\nreq-2,gpt-4o,0.5\n"))
    assert (r.quality_basis["graded_requests"], r.quality_basis["matched_requests"]) == (2, 1)
    r = simulate.run(wh, graded({**SHIFT, "share": 0.0}, "request_id,model,score,provider\nreq-1,gpt-4o,0.5,openai\n"))
    assert r.quality_basis["matched_requests"] == 1


def test_buckets_stay_on_priors_and_team_scope_applies(wh, tmp_path):
    ten_logged(wh, tmp_path)
    # a daily bucket of another provider: no request id, so no grade reaches it
    from simulate_data import load_rows
    load_rows(wh, tmp_path, [{"ts": "2025-06-01T00:00:00", "granularity": "day", "provider": "azure-openai",
                              "requests": 4, "input_tokens": 400, "output_tokens": 40, "cost_usd": "0.004",
                              "team": "t2"}])
    sc = graded({**SHIFT, "share": 0.5})
    r = simulate.run(wh, sc)
    assert r.quality_basis["measured_requests"] == 3 and r.quality_basis["assumed_requests"] == 11
    # a person who sees only team t2 sees no graded request
    only_t2 = simulate.run(wh.as_user("viewer@example.com", teams=["t2"]), sc)
    assert only_t2.quality_basis["matched_requests"] == 0 and only_t2.quality_basis["measured_requests"] == 0


def test_both_forms_together(wh, tmp_path):
    ten_logged(wh, tmp_path)
    sc = graded({**SHIFT, "share": 0.5})
    sc = shadow.with_shadow(sc, shadow.parse("workload,model,score\n*,gpt-4o,0.6\n*,gpt-4o-mini,0.5\n"))
    assert sc.assumptions.request_grades is not None
    r = simulate.run(wh, sc)
    # graded requests as before; the other seven scored from the workload × model measures: all measured
    base = (0.95 + 0.85 + 3 * 0.6 + 0.75 + 4 * 0.6) / 10
    assert r.baseline_quality == pytest.approx(base, abs=1e-6)
    assert r.quality_basis["measured_requests"] == 10


@pytest.mark.slow
def test_cli_simulate_with_a_request_file(wh, tmp_path):
    import subprocess
    import sys

    ten_logged(wh, tmp_path)
    db = str(wh.path)
    wh.close()
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: half\npolicies:\n  - {kind: shift, share: 0.5, to: {model: gpt-4o-mini}}\n"
                        "assumptions:\n  quality: {'*': {gpt-4o: 0.8, gpt-4o-mini: 0.7}}\n")
    grades = tmp_path / "grades.csv"
    grades.write_text(GRADES)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "modelmix", "simulate", str(scenario), "--db", db, *args],
                              capture_output=True, text=True, timeout=120)

    p = cli("--shadow", str(grades))
    assert p.returncode == 0, p.stderr
    assert "0.815 -> 0.755 (measured on 3 requests" in p.stdout and "4 of 6 graded requests matched" in p.stdout
    grades.write_text("request_id,model,score\nreq-1,gpt-4o,0.5\nreq-2,gpt-4o,2\n")
    p = cli("--shadow", str(grades))
    assert p.returncode != 0 and f"{grades}: row 2, score" in p.stderr


# --- the per-request form read in bulk --------------------------------------------------------------------------

MIXED = [  # (request_id, model, score, provider, source): numeric ids, no provider, upper case, spaces, sources
    (" 42 ", "GPT-4o", 0.5, None, None), ("req-1", " gpt-4o-MINI ", 1, "OpenAI ", "grader a"),
    (7, "gpt-4o", 0.25, None, "grader b"), ("req-1", "gpt-4o-mini", 0, None, "grader a"),
    ("chatcmpl-9xK2", "claude-3-5-haiku", 0.875, "anthropic", None)]


def mixed_texts() -> dict[str, str]:
    import json

    import yaml

    csv_rows = [",".join("" if v is None else str(v) for v in row) for row in MIXED]
    records = [{k: v for k, v in zip(("request_id", "model", "score", "provider", "source"), row, strict=True)
                if v is not None} for row in MIXED]
    return {"g.csv": "request_id,model,score,provider,source\n" + "\n".join(csv_rows) + "\n",
            "g.json": json.dumps(records), "g.yaml": yaml.safe_dump(records)}


def row_by_row(text: str, name: str):
    """The reader before the bulk one: every record validated as a RequestGrade."""
    return shadow._columns(shadow._rows(shadow.RequestGrade, shadow._records(text, name), name))


@pytest.mark.parametrize("name", ["g.csv", "g.json", "g.yaml"])
def test_bulk_reader_equals_the_row_by_row_one(name):
    text = mixed_texts()[name]
    bulk, rows = shadow.parse(text, name), row_by_row(text, name)
    assert bulk == rows
    assert columns(bulk) == [("42", None, "gpt-4o", 0.5), ("req-1", "openai", "gpt-4o-mini", 1.0),
                             ("7", None, "gpt-4o", 0.25), ("req-1", None, "gpt-4o-mini", 0.0),
                             ("chatcmpl-9xK2", "anthropic", "claude-3-5-haiku", 0.875)]
    assert bulk.source == "grader a; grader b"
    assert [type(v) for v in bulk.score] == [float] * 5 and all(type(v) is str for v in bulk.request_id)


def test_json_ids_of_mixed_types_and_odd_values_are_read_row_by_row():
    # a numeric id beside text ids is still text; a boolean id is refused with the row-by-row reader's words
    assert shadow.parse('[{"request_id": 7, "model": "m", "score": 1}, {"request_id": "x", "model": "m", '
                        '"score": 0}]', "g.json").request_id.to_list() == ["7", "x"]
    for text, message in [
        ('[{"request_id": "a", "model": "m", "score": 1}, {"request_id": true, "model": "m", "score": 1}]',
         "g.json: row 2, request_id: Input should be a valid string"),
        ('[{"request_id": 1.5, "model": "m", "score": 1}]', "g.json: row 1, request_id: Input should be a valid string"),
        ('[{"request_id": null, "model": "m", "score": 1}]', "g.json: row 1, request_id: Input should be a valid string"),
        ('[{"request_id": "a", "model": "m", "score": 1, "grader": null}]',
         "g.json: row 1, grader: Extra inputs are not permitted"),
        ('[{"request_id": "a", "model": "m", "score": NaN}]', "g.json: row 1, score: Input should be less than or"),
    ]:
        with pytest.raises(simulate.ScenarioError, match=re.escape(message)):
            shadow.parse(text, "g.json")


@pytest.mark.parametrize(("text", "message"), [
    # blank lines are not rows (as the csv module counts them); the header is not a row
    ("request_id,model,score\nr1,m,0.5\n\nr2,m,-0.1\n", "g.csv: row 2, score: Input should be greater than or equal"),
    ("request_id,model,score\nr1,m,0.5\n   ,m,0.5\n", "g.csv: row 2, request_id: String should have at least 1"),
    ("request_id,model,score\nr1,m,0.5\n,,\n\nr2,m,2\n", "g.csv: row 2, request_id: Field required"),
    ("request_id,model,score\nr1,m,nan\n", "g.csv: row 1, score: Input should be"),
    # a duplicate before a bad row is the first problem; a bad row before a duplicate is
    ("request_id,model,score,provider\nr1,m,0.5,\nr1,M ,0.6,\nr2,m,7,\n",
     "g.csv: row 2, request_id: 'r1' on model 'm' is graded twice (also row 1)"),
    ("request_id,model,score\nr1,m,0.5\nr2,m,7\nr1,m,0.6\n", "g.csv: row 2, score: Input should be less than"),
    # the same id under two providers is two requests; the same provider spelled twice is one
    ("request_id,model,score,provider\nr1,m,0.5,openai\nr1,m,0.5,anthropic\nr1,m,0.5,OpenAI\n",
     "g.csv: row 3, request_id: 'r1' on model 'm' is graded twice (also row 1)"),
])
def test_bulk_reader_names_the_first_bad_row(text, message):
    with pytest.raises(simulate.ScenarioError, match=re.escape(message)):
        shadow.parse(text, "g.csv")


def test_a_blank_model_is_refused_and_a_blank_provider_is_none():
    # before: " " passed `min_length` and was lower-cased to "", a grade of no model
    with pytest.raises(simulate.ScenarioError, match=re.escape("g.csv: row 1, model: is blank")):
        shadow.parse('request_id,model,score\nr1," ",0.5\n', "g.csv")
    with pytest.raises(simulate.ScenarioError, match=re.escape("g.json: row 1, model: is blank")):
        shadow.parse('[{"request_id": "r1", "model": " ", "score": 0.5}]', "g.json")
    assert shadow.parse('request_id,model,score,provider\nr1,m,0.5," "\n', "g.csv").provider.to_list() == [None]


def test_with_shadow_keeps_the_parsed_columns():
    grades = shadow.parse("request_id,model,score\nr1,m,0.5\n", "g.csv")
    sc = shadow.with_shadow(scenario(0.5), grades)
    assert sc.assumptions.request_grades is grades and sc.policies == scenario(0.5).policies
    assert sc.assumptions.request_grades.digest() == grades.digest()


def test_grades_keyed_once_merge_names_of_one_model_and_ids_with_and_without_provider(wh, tmp_path):
    # the grades are keyed once (simulate/grade_keys.py) under the model names as given; the match combines the
    # names that resolve to one model id (their highest score, every grade counted) and adds a request's grades
    # given without a provider to those given with one
    ten_logged(wh, tmp_path)
    text = ("request_id,model,score,provider\n"
            "req-1,gpt-4o,0.6,openai\n"
            "req-1,gpt-4o-2024-08-06,0.95,openai\n"     # the same model under a dated name: the higher grade wins
            "req-1,gpt-4o-mini-2024-07-18,0.9,\n"       # the target, without a provider: the same request row
            "req-2,gpt-4o-mini,0.6,\n"                  # only the target: not usable
            "req-2,gpt-4o-2024-08-06,0.85,openai\n")
    sc = graded({**SHIFT, "share": 0.1}, text)           # the simplest one moves: req-1
    r = simulate.run(wh, sc)
    qb = r.quality_basis
    # distinct (provider, request id) of the file: req-1 and req-2 under openai and without a provider
    assert (qb["graded_requests"], qb["matched_requests"], qb["graded_pairs"], qb["used_pairs"]) == (4, 2, 5, 5)
    # req-1 moved (0.95 -> 0.9), req-2 stayed (0.85), eight on priors (0.8)
    assert r.baseline_quality == pytest.approx((0.95 + 0.85 + 8 * 0.8) / 10, abs=1e-6)
    assert r.scenario_quality == pytest.approx((0.9 + 0.85 + 8 * 0.8) / 10, abs=1e-6)
    assert qb["measured_requests"] == 2
    out = frontier.prepare(wh, sc).table(0, sc).lookup(sc)
    assert (out.scenario_quality, out.measured_requests) == (r.scenario_quality, 2)


def test_keying_groups_by_the_key_when_a_provider_holds_its_separator(wh):
    # grade_keys.sql groups by (provider, id) and keys each group; ('a|b', 'c') and ('a', 'b|c') make one key
    # (request_row_key hashes 'a|b|c' for both), so with a '|' in a provider name it groups by the key itself:
    # one row per key, as the ledger has one row per key (a key listed twice would join one ledger row twice)
    from simulate import grade_keys
    from simulate.scenario import RequestGrades

    grades = RequestGrades(request_id=["c", "b|c", "r1", "r1"], provider=["a|b", "a", "openai", "openai"],
                           model=["m1", "m2", "m1", "m2"], score=[0.1, 0.2, 0.3, 0.4])
    given = grade_keys.keyed(wh, grades).given
    assert given.height == 2 and given.select("key_hi", "key_lo").n_unique() == 2
    shared = given.filter(pl.col("s0") == 0.1)
    assert (shared["pairs"][0], shared["n0"][0], shared["s1"][0]) == (2, 1, 0.2)
    same = wh.scalar("select request_row_key('a|b', 'c') = request_row_key('a', 'b|c')")
    assert same
