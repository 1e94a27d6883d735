"""Scenario files: loading YAML/JSON/presets, and errors that name the field."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import simulate
from simulate import ScenarioError, parse_scenario


def bad(data) -> str:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(data)
    return e.value.message


def test_minimal_scenario_defaults():
    s = parse_scenario({"name": "x"})
    assert s.policies == [] and s.assumptions.output_multiplier == 1.0 and s.period.start is None


def test_every_kind_parses():
    s = parse_scenario({"name": "x", "policies": [
        {"kind": "shift", "share": 0.8, "to": {"model": "gpt-4o-mini"}},
        {"kind": "shift", "share": 0.8, "pick": "random", "seed": 3, "to": {"price_ratio": 0.01}},
        {"kind": "shift", "share": 1, "to": {"model": "my-llama", "prices": {"input": 0.2, "output": 0.4}}},
        {"kind": "cascade", "first": {"model": "claude-haiku-4-5"}, "escalation_rate": 0.2},
        {"kind": "batch", "match": {"teams": ["data"]}},
        {"kind": "cache", "hit_rate": 0.5, "match": {"models": ["claude-*"]}},
    ]})
    assert [p.kind for p in s.policies] == ["shift", "shift", "shift", "cascade", "batch", "cache"]
    assert s.policies[0].to.catalog == ("openai", "gpt-4o-mini")
    assert s.policies[4].discount == 0.5 and s.policies[4].share == 1.0


def test_share_outside_0_1_names_the_field():
    msg = bad({"name": "x", "policies": [{"kind": "shift", "share": 1.5, "to": {"price_ratio": 0.1}}]})
    assert "policies.0.shift.share" in msg and "less than or equal to 1" in msg


def test_unknown_kind_names_the_field_and_the_known_kinds():
    msg = bad({"name": "x", "policies": [{"kind": "teleport"}]})
    assert "policies.0" in msg and "'teleport'" in msg and "'shift'" in msg and "'cache'" in msg


def test_unknown_model_is_checked_against_the_catalog():
    msg = bad({"name": "x", "policies": [{"kind": "shift", "share": 1, "to": {"model": "gpt-17-ultra"}}]})
    assert "policies.0.shift.to" in msg and "unknown model 'gpt-17-ultra'" in msg and "prices" in msg


def test_target_needs_exactly_one_of_model_or_ratio():
    msg = bad({"name": "x", "policies": [{"kind": "shift", "share": 1,
                                           "to": {"model": "gpt-4o-mini", "price_ratio": 0.5}}]})
    assert "exactly one" in msg


def test_typo_in_a_key_is_an_error():
    msg = bad({"name": "x", "policies": [{"kind": "batch", "shar": 0.5}]})
    assert "policies.0.batch.shar" in msg


def test_cascade_without_escalation_rate():
    msg = bad({"name": "x", "policies": [{"kind": "cascade", "first": {"price_ratio": 0.1}}]})
    assert "policies.0" in msg and "escalation_rate" in msg


def test_quality_score_outside_0_1_and_bad_period():
    assert "quality.chat.gpt-4o" in bad({"name": "x", "assumptions": {"quality": {"chat": {"gpt-4o": 2}}}})
    assert "end" in bad({"name": "x", "period": {"start": "2025-02-01", "end": "2025-01-01"}})
    assert "name" in bad({"policies": []})


def test_load_yaml_and_json_files(tmp_path):
    y = tmp_path / "s.yaml"
    y.write_text("name: y\nperiod: {start: 2025-01-01, end: 2025-01-31}\n"
                 "policies:\n  - kind: batch\n    share: 0.5\n")
    assert simulate.load_scenario(y).policies[0].share == 0.5
    j = tmp_path / "s.json"
    j.write_text(json.dumps({"name": "j", "policies": [{"kind": "cache", "hit_rate": 0.3}]}))
    assert simulate.load_scenario(str(j)).name == "j"
    broken = tmp_path / "b.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="cannot read"):
        simulate.load_scenario(broken)
    (tmp_path / "bad.yaml").write_text("name: b\npolicies:\n  - kind: shift\n    share: -1\n    to: {price_ratio: 1}\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml: policies.0.shift.share"):
        simulate.load_scenario(tmp_path / "bad.yaml")


def test_unknown_name_lists_the_presets():
    with pytest.raises(ScenarioError, match="presets: .*armstrong-80-99.*baseline"):
        simulate.load_scenario("no-such-thing")


def test_simulate_imports_only_warehouse_and_sql():
    allowed_internal = {"simulate", "warehouse", "sql"}
    forbidden = {"streamlit", "ingest", "dashboard", "modelmix", "duckdb"}
    for path in (Path(__file__).resolve().parents[2] / "simulate").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                top = name.split(".")[0]
                assert top not in forbidden, f"{path.name} imports {name}"
                if top in {"simulate", "warehouse", "sql"}:
                    assert top in allowed_internal


def test_a_scenario_file_is_parsed_once_until_it_changes(tmp_path, monkeypatch):
    """The dashboard names every preset on each rerun: the parsed file is kept per (path, mtime, size), an edit is
    read again, and a caller changing what it got never changes what the next caller gets."""
    from simulate import scenario as sc

    parses = []
    real = sc.yaml.safe_load
    monkeypatch.setattr(sc.yaml, "safe_load", lambda text: parses.append(1) or real(text))
    path = tmp_path / "s.yaml"
    text = Path(sc.PRESETS / "armstrong-80-99.yaml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    first, _ = sc.load_data(path)
    first["name"] = "changed by a caller"
    second, _ = sc.load_data(path)
    assert len(parses) == 1 and second["name"] != "changed by a caller"
    path.write_text(text.replace("title: ", "title: Edited, ", 1), encoding="utf-8")
    edited, _ = sc.load_data(path)
    assert len(parses) == 2 and edited["title"].startswith("Edited, ")
    assert sc.load_scenario("armstrong-80-99") == sc.load_scenario("armstrong-80-99")


def test_grades_fingerprint_tells_apart_every_change_of_a_column():
    """The structure key fingerprints per-request grades from their columns' buffers: a value's boundary, a none
    against an empty text, and any score count; equal columns (other lists) give the same fingerprint."""
    from simulate.scenario import RequestGrades

    def fp(ids, providers, score=0.5):
        return RequestGrades(request_id=ids, provider=providers, model=["m", "m"], score=[score, 0.25]).digest()

    base = fp(["a", "b"], [None, "openai"])
    assert fp(["a", "b"], [None, "openai"]) == base                # same content, new lists
    assert len({base, fp(["ab", ""], [None, "openai"]), fp(["", "ab"], [None, "openai"]),
                fp(["a", "b"], ["", "openai"]), fp(["a", "b"], [None, "openai"], 0.75)}) == 5


def test_per_request_columns_are_series_checked_item_by_item_and_dumped_as_lists(tmp_path):
    """Grades and router scores hold polars Series (a file's reader hands over the columns it read); lists from a
    scenario file are checked as pydantic checks `list[str]` / `list[float]`, naming the item; a dump gives lists
    back and reads back equal."""
    import polars as pl

    from simulate import shadow

    grades = shadow.parse("request_id,model,score,provider\nr1,M,0.5,openai\nr2,m,1,\n")
    assert all(isinstance(c, pl.Series) for c in (grades.request_id, grades.provider, grades.model, grades.score))
    rg = {"request_id": ["r1", "r2"], "provider": ["openai", None], "model": ["m", "m"], "score": [0.5, 1]}
    sc = parse_scenario({"name": "t", "assumptions": {"request_grades": rg, "router_scores": {
        "request_id": ["r1"], "provider": [None], "score": [3]}}})
    assert sc.assumptions.request_grades == grades and sc.assumptions.router_scores.score.dtype == pl.Float64
    dumped = sc.model_dump(mode="json")["assumptions"]
    assert dumped["request_grades"] == {**rg, "score": [0.5, 1.0], "source": None}
    assert parse_scenario(json.loads(json.dumps(sc.model_dump(mode="json")))) == sc
    assert parse_scenario({"name": "t", "assumptions": {"request_grades": {**rg, "score": [0.5, 0.25]}}}) != sc
    for column, values, message in [("request_id", ["r1", 2], "request_id: item 1: Input should be a valid string"),
                                    ("model", [None, "m"], "model: item 0: Input should be a valid string"),
                                    ("score", [0.5, "x"], "score: item 1: Input should be a valid number"),
                                    ("score", [0.5, float("nan")], "score 1: nan is outside [0, 1]")]:
        assert message in bad({"name": "t", "assumptions": {"request_grades": {**rg, column: values}}})


def test_with_conversations_keeps_the_per_request_columns():
    # the What-if page sets the unit and cache assumption on every rerun: the grades and router scores stay the
    # same objects (their fingerprint, keys and prepared tables are kept by identity), the rest as a dump would give
    sc = simulate.parse_scenario({"name": "t", "policies": [
        {"kind": "shift", "share": 0.5, "to": {"model": "gpt-4o-mini"}}, {"kind": "batch", "share": 0.3},
        {"kind": "cache", "hit_rate": 0.4}], "assumptions": {
        "router_scores": {"request_id": ["a"], "provider": [None], "score": [0.1]},
        "request_grades": {"request_id": ["a"], "provider": [None], "model": ["m"], "score": [0.5]}}})
    out = sc.with_conversations("session", "kept")
    assert out.assumptions.request_grades is sc.assumptions.request_grades
    assert out.assumptions.router_scores is sc.assumptions.router_scores
    data = sc.model_dump(mode="python", exclude_none=True)
    for p in data["policies"][:2]:
        p["unit"] = "session"
    data["assumptions"]["cache_on_switch"] = "kept"
    assert out == simulate.parse_scenario(data)
    assert sc.with_conversations() == sc
