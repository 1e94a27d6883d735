"""The Attribution & quality page through AppTest on the seeded test ledger with a set of rules (one of them
shadowed, one matching nothing), and its services on their own. Expected counts come from the generated CSV;
saved rules and scores are checked by plain SQL after the page has closed the ledger.

Pages run as their own script with the sidebar's range in session state (AppTest 1.67 reruns only the page
script of an st.navigation app); edits to a data editor are sent as the widget state the frontend sends."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

import summary_tables
from dashboard.components.formatting import pct, usd
from dashboard.services import attribution as svc
from ledger_factory import build_ledger, write_usage_csv
from warehouse import Warehouse, config
from warehouse.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
PAGE = str(ROOT / "dashboard" / "views" / "attribution.py")
RANGE = (dt.date(2025, 6, 20), dt.date(2025, 9, 17))
RULES = """rules:
  - {field: project, pattern: "ticket-*", team: cx, priority: 10}
  - {field: project, pattern: ticket-triage, team: shadow, priority: 20}
  - {field: project, pattern: "code-*", workload: coding, priority: 30}
  - {field: model, pattern: "claude-3-5*", team: legal-ai, priority: 40}
  - {field: project, pattern: nothing-matches, team: x, priority: 50}
"""


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("attribution_page")
    csv_path = write_usage_csv(folder / "usage.csv")
    db = build_ledger(folder / "ledger.duckdb", [csv_path])
    (folder / "rules.yaml").write_text(RULES)
    with Warehouse(db) as wh:
        config.replace_rules(wh, config.load_rules_file(folder / "rules.yaml"))
        spend = dict(wh.sql(
            "select project, coalesce(sum(coalesce(cost_usd, list_cost_usd)), 0)::double as usd from usage "
            "where ts >= $lo and ts < $hi group by project",
            lo=RANGE[0], hi=RANGE[1] + dt.timedelta(days=1)).iter_rows())
    with csv_path.open() as f:
        rows = [r for r in csv.DictReader(f) if RANGE[0] <= dt.date.fromisoformat(r["ts"][:10]) <= RANGE[1]]
    requests = {}
    for r in rows:
        requests[r["project"]] = requests.get(r["project"], 0) + int(r["requests"])
    return {"db": db, "rows_per_project": len(rows) // len({r["project"] for r in rows}), "requests": requests,
            "spend": spend}


@pytest.fixture
def copy(ledger, tmp_path) -> Path:
    db = tmp_path / "copy.duckdb"
    db.write_bytes(ledger["db"].read_bytes())
    return db


def close_app() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def page(monkeypatch, ledger):
    def run(db: Path | None = None, date_range=RANGE, **state) -> AppTest:
        monkeypatch.setenv("MODELMIX_DB", str(db or ledger["db"]))
        at = AppTest.from_file(PAGE, default_timeout=120)
        at.session_state["modelmix_date_range"] = date_range
        for k, v in state.items():
            at.session_state[k] = v
        return at.run()

    yield run
    close_app()


def sql(db: Path, text: str) -> pl.DataFrame:
    close_app()
    with Warehouse(db) as wh:
        return wh.sql(text)


def frame(at: AppTest, has_column: str) -> pl.DataFrame:
    found = [d.value for d in at.dataframe if has_column in d.value.columns]
    assert found, (has_column, [list(d.value.columns) for d in at.dataframe])
    return pl.from_pandas(found[0])


def shown(at: AppTest, has_column: str) -> pl.DataFrame:
    """A light summary table's text as the reader sees it (tests/summary_tables.py), the one showing `has_column`."""
    found = [t for t in summary_tables.tables(at) if has_column in t.columns]
    assert found, (has_column, [t.columns for t in summary_tables.tables(at)])
    return found[0]


def counts(column: pl.Series) -> list[int]:
    return [int(v.replace(",", "")) for v in column]


def edit_and_click(at: AppTest, editor_key: str, edits: dict, button_key: str) -> AppTest:
    editor = [d for d in at.dataframe if editor_key in d.proto.id]
    assert len(editor) == 1, [d.proto.id for d in at.dataframe]
    at.button(key=button_key).click()
    states: WidgetStates = at._tree.get_widget_states()
    w = states.widgets.add()
    w.id = editor[0].proto.id
    w.string_value = json.dumps({"edited_rows": {}, "added_rows": [], "deleted_rows": [], **edits})
    at._run(states)
    return at


@pytest.mark.slow
def test_registered_under_configure(monkeypatch, ledger):
    monkeypatch.setenv("MODELMIX_DB", str(ledger["db"]))
    try:
        at = AppTest.from_file(APP, default_timeout=120).run()
        assert not at.exception
        at.switch_page("views/attribution.py").run()
        assert not at.exception
        assert at.title[0].value == "Attribution & quality"
    finally:
        close_app()
    assert 'st.Page("views/attribution.py", title="Attribution & quality"' in Path(APP).read_text()


def test_rule_matches_have_known_counts(page, ledger):
    at = page()
    assert not at.exception
    m = shown(at, "decided_rows")
    n = ledger["rows_per_project"]                       # one bucket a day per project
    assert m["pattern"].to_list() == ["ticket-*", "ticket-triage", "code-*", "claude-3-5*", "nothing-matches"]
    assert counts(m["matched_rows"]) == [n, n, n, n, 0]
    assert counts(m["decided_rows"]) == [n, 0, n, n, 0]
    assert m["status"].to_list() == ["decides", "shadowed", "decides", "decides", "no match"]
    assert m["shadowed_by_text"].to_list() == ["", "#1", "", "", ""]
    req = ledger["requests"]
    assert counts(m["decided_requests"]) == [req["ticket-triage"], 0, req["code-review"], req["contract-extract"], 0]
    assert m["decided_spend_usd"][0] == usd(ledger["spend"]["ticket-triage"])
    assert m["projects_sample"].to_list() == ["ticket-triage", "", "code-review", "contract-extract", ""]
    assert "#2 `project = ticket-triage` (behind #1)" in at.warning[0].value
    assert "attribution_rule_matches.sql" in "\n".join(c.value for c in at.caption)


def test_opens_without_the_data_grid_and_each_editor_is_one_click_away(page):
    """A new tab of Attribution loads no data grid: the rules, the per-rule table, the saved scores and the shipped
    defaults are light tables, each with a Download CSV; the rules and scores editors are one toggle away."""
    at = page()
    assert not at.exception
    assert not at.dataframe
    assert [b.label for b in at.get("download_button")].count("Download CSV") >= 3    # rules, per rule, defaults
    rules = shown(at, "pattern")
    assert rules["pattern"].to_list()[:2] == ["ticket-*", "ticket-triage"]
    for toggle, editor_key, save in (("rules_edit", "rules_editor", "Save rules"),
                                     ("quality_edit", "quality_editor", "Save quality scores")):
        at.toggle(key=toggle).set_value(True).run()
        assert not at.exception
        assert [d for d in at.dataframe if editor_key in d.proto.id]
        assert save in [b.label for b in at.button]
    assert frame(at, "pattern")["pattern"].to_list() == rules["pattern"].to_list()     # the same rows to edit


def test_unassigned_share(page, ledger):
    at = page()
    assert not at.exception
    spend = ledger["spend"]
    share = 100 * spend["sandbox"] / sum(spend.values())  # the one stream whose file names no team
    metric = [x for x in at.metric if x.label == "Spend still unassigned"][0]
    assert metric.value == pct(share)
    assert metric.proto.delta.startswith(usd(spend["sandbox"]))


def test_a_rule_edit_changes_team_in_usage(page, copy):
    at = page(db=copy, rules_edit=True)
    edit_and_click(at, "rules_editor", {"edited_rows": {"0": {"team": "customer-care"}}}, "rules_save")
    assert not at.exception and not at.error
    assert any("Saved 5 attribution rules" in s.value for s in at.success)
    assert frame(at, "pattern")["team"][0] == "customer-care"
    teams = sql(copy, "select distinct team from usage where project = 'ticket-triage'")["team"].to_list()
    assert teams == ["customer-care"]


def test_a_bad_rule_names_the_row_and_saves_nothing(page, copy):
    at = page(db=copy, rules_edit=True)
    edit_and_click(at, "rules_editor", {"added_rows": [{"priority": 5, "field": "project", "pattern": "x*"}]},
                   "rules_save")
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("**Invalid attribution rules**")
    assert "row 6" in at.error[0].value and "a rule must set team, workload or both" in at.error[0].value
    assert sql(copy, "select count(*) as n from attribution_rules")["n"][0] == 5


def test_rules_file_upload(page, copy):
    at = page(db=copy)
    at.file_uploader(key="rules_file").set_value(("r.yaml", b"rules:\n  - {field: team, pattern: x, team: y}\n",
                                                  "text/yaml")).run()
    at.button(key="rules_load").click().run()
    assert not at.exception
    assert "r.yaml: entry 1, field field" in at.error[0].value
    good = b"rules:\n  - {field: project, pattern: sandbox, team: research}\n"
    at.file_uploader(key="rules_file").set_value(("r.yaml", good, "text/yaml")).run()
    at.button(key="rules_load").click().run()
    assert not at.exception and not at.error
    assert [x.value for x in at.metric if x.label == "Spend still unassigned"] == ["0.0%"]
    assert sql(copy, "select distinct team from usage where project = 'sandbox'")["team"].to_list() == ["research"]


def test_quality_table_edit_and_bad_score(page, copy):
    at = page(db=copy, quality_edit=True)
    defaults = svc.quality_defaults()
    first = sorted(set(defaults["workload"]))[0]
    block = defaults.filter(pl.col("workload") == first).sort("score", descending=True)
    assert shown(at, "score")["model"].to_list() == block["model"].to_list()    # the first defaults block
    edit_and_click(at, "quality_editor", {"added_rows": [{"workload": "Chat", "model": "gpt-4o", "score": 1.5}]},
                   "quality_save")
    assert not at.exception
    assert "row 1, field score" in at.error[0].value and "less than or equal to 1" in at.error[0].value
    edit_and_click(at, "quality_editor", {"added_rows": [
        {"workload": "Chat", "model": "GPT-4o", "score": 0.7, "source": "shadow sample", "as_of": "2025-09-01"}]},
        "quality_save")
    assert not at.exception and not at.error
    saved = sql(copy, "select workload, model, score, source, as_of from quality_scores")
    assert saved.rows() == [("chat", "gpt-4o", 0.7, "shadow sample", dt.date(2025, 9, 1))]


def test_empty_ledger_says_what_to_do(page, tmp_path):
    db = tmp_path / "empty.duckdb"
    Warehouse(db).close()
    at = page(db=db, date_range=None)
    assert not at.exception
    assert any("No usage loaded yet" in i.value for i in at.info)
    assert any("No rules yet" in c.value for c in at.caption)
    assert shown(at, "score").height > 0                       # the shipped defaults need no usage


# --- services -------------------------------------------------------------------------------------------------
def test_rule_matches_service(ledger):
    with Warehouse(ledger["db"]) as wh:
        m = svc.rule_matches(wh.query, *RANGE)
        cov = svc.coverage(wh.query, *RANGE)
    assert m.schema["decided_spend_usd"] == pl.Float64
    assert m.filter(pl.col("status") == "shadowed")["shadowed_by"].to_list() == [[1]]
    assert set(cov["decided_by"]) == {"rule", "file", "unassigned"}
    u = svc.unassigned(cov)
    assert u["share"] == pytest.approx(u["spend_usd"] / u["total_usd"])
    assert cov["spend_share"].sum() == pytest.approx(1.0)


def test_unassigned_of_empty_coverage():
    empty = pl.DataFrame(schema={"decided_by": pl.String, "row_count": pl.Int64, "spend_usd": pl.Float64})
    assert svc.unassigned(empty) == {"spend_usd": 0.0, "share": 0.0, "total_usd": 0.0, "rows": 0}


def test_sample_text():
    assert svc._sample(["a", "b"], 4) == "a, b (+2 more)"
    assert svc._sample(None, 0) == ""


def test_quality_entries_validate():
    ok = svc.quality_entries(pl.DataFrame({"workload": ["*"], "model": [" GPT-4o "], "score": [0.8],
                                           "source": [None], "as_of": [None]}))
    assert (ok[0].workload, ok[0].model, ok[0].score) == ("*", "gpt-4o", 0.8)
    dup = pl.DataFrame({"workload": ["chat", "Chat"], "model": ["gpt-4o", "gpt-4o"], "score": [0.8, 0.7],
                        "source": [None, None], "as_of": [None, None]})
    with pytest.raises(ConfigError, match="row 2, field model: chat × gpt-4o is already on row 1"):
        svc.quality_entries(dup)


def test_quality_defaults_carry_source_and_date():
    d = svc.quality_defaults()
    assert d.height > 20 and d["source"].null_count() == 0 and d["date"].null_count() == 0
    assert d.filter((pl.col("workload") == "*") & (pl.col("model") == "gpt-4o"))["score"].to_list() == [0.86]


def test_rule_entries_keep_table_order():
    table = pl.DataFrame({"priority": [10, 10], "field": ["project", "api_key"], "pattern": ["a*", "b*"],
                          "team": ["x", None], "workload": [None, "chat"], "note": [None, None]})
    rules = svc.rule_entries(table)
    assert [(r.field, r.team, r.workload) for r in rules] == [("project", "x", None), ("api_key", None, "chat")]


def test_label_rules_on_the_page(page, copy):
    """A ledger with OpenTelemetry spans carrying resource attributes: the page lists the labels (field, values),
    offers `label:<name>` in the Field column, and a label rule added in the table decides those rows."""
    from ingest import ingest_paths

    spans = ROOT / "tests" / "data" / "otel" / "otel_genai_spans_labels_2026-11-20.jsonl"
    with Warehouse(copy) as wh:
        [r] = ingest_paths(wh, [spans])
        assert r.rows_loaded == 4
    close_app()
    at = page(db=copy, date_range=(dt.date(2026, 11, 20), dt.date(2026, 11, 20)), rules_edit=True)
    assert not at.exception
    assert any(e.label.startswith("Labels in the ledger (") for e in at.expander)
    labels = shown(at, "n_values")
    env = labels.filter(pl.col("field") == "label:deployment.environment.name").row(0, named=True)
    assert (env["n_values"], env["sample_values"]) == ("3", "canary, production, staging")
    edit_and_click(at, "rules_editor", {"added_rows": [
        {"priority": 1, "field": "label:deployment.environment.name", "pattern": "stag*", "team": "platform"}]},
        "rules_save")
    assert not at.exception and not at.error
    m = shown(at, "decided_rows")
    assert m.filter(pl.col("field") == "label:deployment.environment.name")["status"].to_list() == ["decides"]
    assert sql(copy, "select team from usage where ts = '2026-11-20 10:00:00'")["team"].to_list() == ["platform"]
