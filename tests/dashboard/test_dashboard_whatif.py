"""The What-if page through AppTest on a small ledger: a slider move shows the savings `frontier.sweep` computes
for that share; the builder, the full replay, saving and comparing scenarios, and the empty ledger."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from pathlib import Path

import polars as pl
import pytest
import summary_tables
import vega_spec as vega
import streamlit as st
from streamlit.testing.v1 import AppTest

import simulate
from dashboard.components.formatting import usd
from dashboard.services import whatif as svc
from ledger_factory import build_ledger, write_usage_csv
from simulate import frontier
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard" / "views" / "whatif.py")
APP = str(ROOT / "dashboard" / "app.py")
RANGE = (dt.date(2025, 6, 20), dt.date(2025, 9, 17))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("whatif")
    return build_ledger(folder / "ledger.duckdb", [write_usage_csv(folder / "usage.csv")])


@pytest.fixture
def page(monkeypatch, ledger):
    def run(db: Path | None = None, **state) -> AppTest:
        monkeypatch.setenv("MODELMIX_DB", str(db or ledger))
        at = AppTest.from_file(PAGE, default_timeout=120)
        at.session_state["modelmix_date_range"] = RANGE if db is None else None
        for k, v in state.items():
            at.session_state[k] = v
        return at.run()

    yield run
    st.cache_data.clear()
    st.cache_resource.clear()


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, (label, [m.label for m in at.metric])
    return found[0]


def expected_savings(ledger: Path, preset: str, share: float) -> float:
    sc = svc.with_period(simulate.load_scenario(preset), *RANGE)
    with Warehouse(ledger) as wh:
        return frontier.sweep(wh, sc, 0, [share])["savings_usd"][0]


@pytest.mark.slow
def test_slider_move_shows_the_savings_sweep_computes(page, ledger):
    e80, e35 = expected_savings(ledger, "armstrong-80-99", 0.8), expected_savings(ledger, "armstrong-80-99", 0.35)
    at = page(whatif_preset="armstrong-80-99")
    assert not at.exception
    assert at.title[0].value == "What-if"
    assert metric(at, "Savings") == usd(e80)
    [share] = [s for s in at.slider if "eligible requests moved" in s.label]
    assert "the simplest 80% of eligible requests moved" in share.label and share.value == 80
    assert share.label[0].isupper()     # a preset's lower-case policy name starts a sentence
    share.set_value(35).run()                                   # shares are shown as percentages
    assert not at.exception
    assert metric(at, "Savings") == usd(e35)
    # the label follows the slider (it used to keep "80%" from the preset's policy name)
    [share] = [s for s in at.slider if "eligible requests moved" in s.label]
    assert "the simplest 35% of eligible requests moved" in share.label and "80%" not in share.label
    assert e35 < e80
    assert any("not measured on your traffic" in c.value for c in at.caption)
    # a new tab draws the waterfall alone: the preview waits in its expander, the frontier, the team table and the
    # save row on their own tabs, each built when chosen
    [waterfall] = vega.charts(at)
    assert "steps" in waterfall["datasets"] and not summary_tables.tables(at) and not at.text_input
    assert not any("Cheapest point keeping" in c.value for c in at.caption)
    at.session_state["whatif_results_tab"] = "Cost–quality frontier"               # the reader picks a tab
    at.run()
    [curve] = vega.charts(at)
    assert "frontier" in curve["datasets"]
    assert any("Cheapest point keeping ≥ 95%" in c.value for c in at.caption)
    assert any("Against the oracle bound" in c.value and "APGR" in c.value for c in at.caption)
    at.session_state["whatif_results_tab"] = "Impact by team"
    at.run()
    assert not vega.charts(at)
    [teams] = summary_tables.tables(at)          # a light table, not the data grid (docs/benchmarks.md)
    assert {"team", "baseline_cost_usd", "scenario_cost_usd"} <= set(teams.columns) and not at.dataframe
    assert all(v.startswith(("$", "-$")) for v in teams["baseline_cost_usd"])


@contextlib.contextmanager
def fragment_rerun(at: AppTest):
    """Scope the next `at.run()` to the page's fragments, as a browser does when a widget inside a fragment
    changes. AppTest (Streamlit 1.67) always reruns the whole script on `set_value(...).run()`; this passes the
    fragment ids the last run registered, the way the frontend's rerun request carries them."""
    from streamlit.testing.v1 import local_script_runner

    ids = list(at._fragment_storage._fragments)
    assert ids, "the page registered no fragment"
    plain = local_script_runner.RerunData
    local_script_runner.RerunData = functools.partial(plain, fragment_id_queue=ids)
    try:
        yield
    finally:
        local_script_runner.RerunData = plain


@pytest.mark.slow
def test_slider_move_reruns_only_the_fragment(page, ledger, monkeypatch):
    """A slider sits in the page's fragment: its move reruns the sliders and results, not the pickers above (the
    preset's scenario is not rebuilt), and still shows the savings of the new share."""
    e35 = expected_savings(ledger, "armstrong-80-99", 0.35)
    at = page(whatif_preset="armstrong-80-99")
    assert not at.exception
    calls = []
    plain = svc.with_period
    monkeypatch.setattr(svc, "with_period", lambda *a, **k: calls.append(a) or plain(*a, **k))
    [share] = [s for s in at.slider if "eligible requests moved" in s.label]
    share.set_value(35)
    with fragment_rerun(at):
        at.run()
    assert not at.exception, at.exception
    assert calls == []                                          # the page outside the fragment did not run
    assert metric(at, "Savings") == usd(e35)
    assert len(at.get("vega_lite_chart")) == 1                     # the fragment's chart (AppTest's tree holds
    assert not at.title                                         # only what this run drew, not the page above)
    at.run()                                                    # a full rerun builds the scenario again
    assert len(calls) == 1 and metric(at, "Savings") == usd(e35)


@pytest.mark.slow
def test_full_replay_agrees_with_the_sliders(page):
    at = page(whatif_preset="harvey-3x")
    assert not at.exception
    [btn] = [b for b in at.button if b.label == "Run full replay"]
    btn.click().run()
    assert not at.exception
    assert "agree to the cent" in at.success[0].value
    assert any("with final as" in c.value or "select * from final" in c.value for c in at.code)


def test_builder_cascade_and_escalation_slider(page):
    at = page(whatif_source="Build your own", whatif_route="cascade",
              whatif_target_model="gpt-4o-mini", whatif_results_tab="Cost–quality frontier")
    assert not at.exception, at.exception
    [esc] = [s for s in at.slider if "escalated to the original model" in s.label]
    assert esc.label.endswith(": 20% escalated to the original model")
    before = metric(at, "Savings")
    esc.set_value(60).run()
    assert not at.exception
    assert metric(at, "Savings") != before
    assert any("Break-even escalation rate" in c.value for c in at.caption)


@pytest.mark.slow
def test_save_and_compare(page, ledger):
    at = page(whatif_preset="batch-offline", whatif_results_tab="Save and export")
    at.text_input(key="whatif_save_name").set_value("offline batch")
    [save] = [b for b in at.button if b.label == "Save scenario"]
    save.click().run()
    assert not at.exception
    at.run()
    assert not at.exception
    compared = [t for t in summary_tables.tables(at) if "figure" in t.columns]
    assert compared and "offline batch" in compared[0].columns


def test_empty_ledger(page, tmp_path):
    with Warehouse(tmp_path / "empty.duckdb"):
        pass
    at = page(db=tmp_path / "empty.duckdb")
    assert not at.exception
    assert "No usage loaded yet" in at.info[0].value


def test_registered_under_simulate():
    text = Path(APP).read_text()
    assert '"Simulate": [' in text and 'st.Page("views/whatif.py", title="What-if"' in text


# --- Outlook ----------------------------------------------------------------------------------------------------
OUTLOOK = str(ROOT / "dashboard" / "views" / "outlook.py")


@pytest.fixture
def outlook_page(monkeypatch, ledger):
    def run(db: Path | None = None, **state) -> AppTest:
        monkeypatch.setenv("MODELMIX_DB", str(db or ledger))
        at = AppTest.from_file(OUTLOOK, default_timeout=120)
        for k, v in state.items():
            at.session_state[k] = v
        return at.run()

    yield run
    st.cache_data.clear()
    st.cache_resource.clear()


def test_outlook_shows_the_projection_of_the_chosen_scenario(outlook_page, ledger):
    from simulate import outlook

    with Warehouse(ledger) as wh:
        o = outlook.outlook(wh, simulate.load_scenario("armstrong-80-99"),
                            outlook.Assumptions(decline=(1.0, 3.0, 10.0), adoption_months=(6, 12)))
    at = outlook_page(outlook_scenario="Preset: Most frontier traffic to a far cheaper model")
    assert not at.exception, at.exception
    assert at.title[0].value == "Outlook"
    assert metric(at, "Savings, next 18 months (P50)") == usd(o.totals["savings"]["p50"])
    assert len(at.get("vega_lite_chart")) == 1
    [assumed] = summary_tables.tables(at)           # what the projection assumed, as the reader sees it
    rows = dict(assumed.rows())
    assert rows["Monthly run-rate today"].startswith(f"${o.level_usd:,.2f}")
    assert rows["Random draws"] == "2,000 (set 1)"   # the page's words: no "seed", no "Monte Carlo"
    at.number_input(key="outlook_draw_set").set_value(3).run()
    assert dict(summary_tables.tables(at)[0].rows())["Random draws"] == "2,000 (set 3)"
    at.slider(key="outlook_months").set_value(6).run()
    assert not at.exception
    assert metric(at, "Baseline, next 6 months (P50)")


def test_outlook_says_no_seed_and_keeps_its_draws_in_an_advanced_expander(outlook_page):
    """Issue 15 item 4: no "Seed" on a finance page. The bands come from a fixed set of draws; another set is one
    plain-worded input inside "Advanced", and picking it redraws the bands."""
    at = outlook_page(outlook_scenario="Preset: Most frontier traffic to a far cheaper model")
    assert not at.exception, at.exception
    words = [w.label for w in (*at.number_input, *at.slider, *at.toggle)] + [c.value for c in at.caption]
    assert not any("seed" in w.lower() for w in words), words
    [advanced] = [e for e in at.expander if e.label == "Advanced"]
    [draws] = advanced.number_input
    assert draws.label == "Set of random draws" and draws.value == 1
    first = metric(at, "Savings, next 18 months (P50)")
    draws.set_value(2).run()
    assert not at.exception
    assert metric(at, "Savings, next 18 months (P50)") != first


def test_outlook_on_an_empty_ledger(outlook_page, tmp_path):
    with Warehouse(tmp_path / "empty.duckdb"):
        pass
    at = outlook_page(db=tmp_path / "empty.duckdb")
    assert not at.exception
    assert "No usage loaded yet" in at.info[0].value


def test_shadow_upload_sets_measured_scores():
    sc = svc.with_shadow(simulate.load_scenario("harvey-3x"), "grades.csv", b"workload,model,score\nchat,gpt-4o,0.9\n")
    assert sc.assumptions.measured == {"chat": {"gpt-4o": 0.9}}
    with pytest.raises(simulate.ScenarioError, match="grades.csv: row 1, score"):
        svc.with_shadow(sc, "grades.csv", b"workload,model,score\nchat,gpt-4o,9\n")


@pytest.mark.parametrize("preset", ["batch-offline", "cache-prompts", "cascade-small-first"])
def test_every_preset_renders_with_a_frontier(page, preset):
    at = page(whatif_preset=preset, whatif_preview_open=True, whatif_results_tab="Cost–quality frontier")
    assert not at.exception, at.exception
    # the preview (opened) and the frontier (its tab chosen); no preview where the main slider moves nothing
    # (batch-offline and the cache preset's coding-agent hit rate: no such traffic in this ledger)
    assert len(at.get("vega_lite_chart")) == (2 if preset == "cascade-small-first" else 1)
    assert [c for c in vega.charts(at) if "frontier" in c["datasets"]]
    if preset != "cascade-small-first":
        assert any("No preview for this scenario" in c.value for c in at.caption)


@pytest.mark.slow
def test_a_per_request_grades_upload_says_how_many_matched(tmp_path, monkeypatch):
    """The shadow-evaluation upload on the page: per-request grades are matched to the logged request ids, and
    the page says how many of the file's requests matched (a file that matches none is a warning)."""
    from test_simulate_shadow import ten_logged

    db = tmp_path / "l.duckdb"
    with Warehouse(db) as wh:
        ten_logged(wh, tmp_path)
    monkeypatch.setenv("MODELMIX_DB", str(db))
    try:
        at = AppTest.from_file(APP, default_timeout=90).run()
        at.switch_page("views/whatif.py").run()
        assert not at.exception, [e.value for e in at.exception]
        grades = b"request_id,model,score,provider\nreq-1,gpt-4o,0.9,openai\nreq-2,gpt-4o,0.8,openai\nnope,gpt-4o,0.5,\n"
        at.file_uploader(key="whatif_shadow").set_value([("grades.csv", grades, "text/csv")]).run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("2 of 3 graded requests matched" in c.value for c in at.caption), [c.value for c in at.caption]
        unknown = b"request_id,model,score\nx1,gpt-4o,0.5\n"
        at.file_uploader(key="whatif_shadow").set_value([("other.csv", unknown, "text/csv")]).run()
        assert any("0 of 1 graded requests matched" in w.value for w in at.warning), [w.value for w in at.warning]
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def test_preset_titles_and_why_a_preset_saves_nothing(page):
    """Presets are titled in plain words (the file name and sources sit in the description); a preset none of
    whose traffic is in the ledger says why it saves $0; no "1:batch" labels."""
    at = page(whatif_preset="batch-offline")
    assert not at.exception
    [preset] = [s for s in at.selectbox if s.label == "Preset"]
    assert "Offline work to the batch tier" in preset.options and "batch-offline" not in preset.options
    assert any("None of the requests in this range is eligible" in i.value and "batch tier" in i.value
               for i in at.info)
    assert not any(":batch" in s.label for s in at.slider)
    assert metric(at, "Savings") == usd(0)


def test_the_preview_is_built_only_when_opened(page):
    """A new tab draws no preview: its expander is closed and nothing inside it is built (its 1,001-point chart
    cost the browser ~0.12 renderer CPU-s and pushed the headline figures below the first screen); the page's two
    other charts and its figures are there. Opened, the preview is drawn and stays open across a slider move."""
    at = page(whatif_preset="armstrong-80-99")
    assert not at.exception, at.exception
    [box] = [e for e in at.expander if e.label.startswith("Drag to preview")]
    assert not [c for c in vega.charts(at) if c.get("params")]                   # no preview chart built
    assert not [c for c in at.caption if "Drag to preview" in c.value]
    assert len(vega.charts(at)) == 1 and metric(at, "Savings")                    # the waterfall, the figures
    at.session_state["whatif_preview_open"] = True                                 # the reader opens it
    at.run()
    assert not at.exception, at.exception
    assert len([c for c in vega.charts(at) if c.get("params")]) == 1
    [share] = [s for s in at.slider if "eligible requests moved" in s.label]
    share.set_value(35).run()
    assert not at.exception, at.exception
    assert len([c for c in vega.charts(at) if c.get("params")]) == 1              # still open after a move


def test_the_preview_starts_at_the_slider_and_says_what_it_drives(page, ledger):
    """The preview in the browser: its range input starts at the page's share slider, its points are the sweep's
    figures at every 0.1 % step, and the caption says it previews only and which slider drives the page. A move of
    the page's slider leaves the preview's spec as it was (the browser keeps its chart and the reader's place)."""
    e35 = expected_savings(ledger, "armstrong-80-99", 0.35)
    at = page(whatif_preset="armstrong-80-99", whatif_preview_open=True)
    assert not at.exception, at.exception
    [first] = [c for c in vega.charts(at) if c.get("params")]
    assert first["params"][0]["value"] == 80.0 and first["params"][0]["bind"]["input"] == "range"
    [share] = [s for s in at.slider if "eligible requests moved" in s.label]
    share.set_value(35).run()
    assert not at.exception, at.exception
    [pv] = [c for c in vega.charts(at) if c.get("params")]
    assert pv == first                                                  # the same spec and rows after the move
    rows = pv["datasets"]["curve"]
    assert len(rows) == 1001
    [at35] = [r for r in rows if r["value_pct"] == 35.0]
    assert at35["value_text"] == "35.0%" and at35["savings_text"] == metric(at, "Savings")   # the headline's figure
    assert at35["savings_usd"] == pytest.approx(e35, abs=1e-6)
    [cap] = [c.value for c in at.caption if "Drag to preview" in c.value]
    assert "exact at each 0.1% step" in cap and "It changes nothing else" in cap and "follow the slider above" in cap
    [share] = [s for s in at.slider if "eligible requests moved" in s.label]         # its label after the move
    assert f"(“{share.label}”)" in cap and "simplest 35%" in share.label
    # another curve (another output multiplier: part of what the preview is keyed on) starts at the page's slider
    [mult] = [s for s in at.slider if s.label.startswith("Output length")]
    mult.set_value(1.5).run()
    assert not at.exception, at.exception
    [again] = [c for c in vega.charts(at) if c.get("params")]
    assert again["params"][0]["value"] == 35.0


def test_unscored_requests_are_said_as_plainly_as_the_quality(page):
    # the cascade preset's small models are not scored in every workload's benchmark block: some requests are
    # unscored, and the page says how many beside the quality figure (it showed only the percentage)
    at = page(whatif_preset="cascade-small-first")
    assert not at.exception, at.exception
    assert any("Unscored:" in w.value and "the quality figure covers only the other" in w.value
               for w in [*at.warning, *at.info])
    assert "Quality (scored only)" in [m.label for m in at.metric]


@pytest.mark.slow
def test_router_scores_upload_picks_by_score(tmp_path, monkeypatch):
    """A router's scores uploaded on the builder: "By the router's scores" moves the lowest-scored requests."""
    from test_simulate_shadow import ten_logged

    db = tmp_path / "l.duckdb"
    with Warehouse(db) as wh:
        ten_logged(wh, tmp_path)
    monkeypatch.setenv("MODELMIX_DB", str(db))
    try:
        at = AppTest.from_file(APP, default_timeout=90).run()
        at.switch_page("views/whatif.py").run()
        at.segmented_control(key="whatif_source").set_value("Build your own").run()
        at.multiselect(key="whatif_models").set_value(["gpt-4o"]).run()
        # the router wants the three most expensive requests (req-8..10) kept, the rest may move
        scores = "request_id,score,router\n" + "".join(f"req-{k},{k / 10},mine\n" for k in range(1, 11))
        at.file_uploader(key="whatif_scores").set_value([("scores.csv", scores.encode(), "text/csv")]).run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("10 scored requests from mine" in c.value for c in at.caption)
        at.radio(key="whatif_pick").set_value("score").run()
        assert not at.exception, [e.value for e in at.exception]
        [share] = [s for s in at.slider if "eligible requests moved" in s.label]
        assert "the router's lowest-scored 50%" in share.label
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def test_random_pick_draws_the_seed_band(page):
    at = page(whatif_source="Build your own", whatif_pick="random", whatif_target_model="gpt-4o-mini",
              whatif_results_tab="Cost–quality frontier")
    assert not at.exception, at.exception
    [fig] = [c for c in vega.charts(at) if "Random pick, low (P10 of 10 draws)" in vega.series(c)]
    assert {"Frontier", "Oracle bound (any router)", "Random pick, high (P90 of 10 draws)"} <= set(vega.series(fig))
    assert not [c for c in vega.charts(at) if any("seed" in s.lower() for s in vega.series(c))]  # no jargon (issue 15)


@pytest.mark.slow
def test_builder_sends_the_simplest_share_to_our_self_hosted_model(page, ledger, tmp_path):
    """Issue 16: the ledger's self-hosted model is a What-if target on the page, priced at its effective $ per 1M
    tokens (cost file ÷ tokens logged, by hand here); "the simplest 60% of the frontier tier to it" shows the
    savings a hand-written scenario with that price replays to. A ledger without a cost file offers no such target."""
    import shutil

    from finance import whole_bill

    at = page(whatif_source="Build your own")
    assert not at.exception, at.exception
    assert at.radio(key="whatif_target_kind").options == ["A catalog model", "A price ratio"]
    own = tmp_path / "own.duckdb"
    shutil.copy(ledger, own)
    with Warehouse(own) as wh:
        whole_bill.replace_self_hosted(wh, [
            whole_bill.SelfHostedCost(provider="self-hosted", model="acme-llama-ft-v2", start=dt.date(2025, 8, 1),
                                      end=dt.date(2025, 8, 31), amount_usd=900),
            whole_bill.SelfHostedCost(provider="self-hosted", model="acme-llama-ft-v2", start=dt.date(2025, 9, 1),
                                      end=dt.date(2025, 9, 30), amount_usd=200)])
        # September holds the range's end (Sep 17): its cost over its logged tokens
        tokens = wh.sql("select sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens) from usage "
                        "where model = 'acme-llama-ft-v2' and ts >= '2025-09-01'").item()
        rate = 200 * 1e6 / float(tokens)
        hand = {"name": "by hand", "period": {"start": str(RANGE[0]), "end": str(RANGE[1])},
                "policies": [{"kind": "shift", "share": 0.6, "pick": "simplest",
                              "match": {"models": list(svc.FRONTIER_TIER)},
                              "to": {"model": "acme-llama-ft-v2", "quality_ratio": 0.9,
                                     "prices": {"input": rate, "output": rate, "cache_read": rate,
                                                "cache_write": rate}}}]}
        want = simulate.run(wh, simulate.parse_scenario(hand))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = page(db=own, modelmix_date_range=RANGE, whatif_source="Build your own",
              whatif_target_kind="Our self-hosted model")
    assert not at.exception, at.exception
    [picker] = [s for s in at.selectbox if s.key == "whatif_self_hosted"]
    assert picker.options == [f"acme-llama-ft-v2 (self-hosted) · ${rate:,.4g} per 1M tokens"]
    assert any("Priced at its effective rate for 1–30 Sep 2025" in c.value for c in at.caption)
    [share] = [s for s in at.slider if "eligible requests moved" in s.label]
    share.set_value(60).run()
    assert not at.exception, at.exception
    assert want.moved_requests > 0 and want.savings_usd > 0
    assert metric(at, "Replay under the scenario") == usd(want.scenario_cost_usd)
    assert metric(at, "Savings") == usd(want.savings_usd)


def test_no_sessions_is_said_plainly(page):
    at = page(whatif_preset="armstrong-80-99")
    assert not at.exception, at.exception
    assert any("No source in this range logs sessions: each request is its own unit." in c.value for c in at.caption)
    assert not [r for r in at.radio if r.key == "whatif_unit"]
    assert at.radio(key="whatif_cache_on_switch").value == "lost"


@pytest.mark.slow
def test_whole_conversations_and_the_cache_they_keep(page, tmp_path):
    """A ledger whose requests carry conversation ids: the page offers whole conversations; the savings shown are
    the replay's for that unit and cache setting, and the lost cache is its own lever in the waterfall."""
    from test_simulate_sessions import six

    db = tmp_path / "s.duckdb"
    day = (dt.date(2025, 6, 1), dt.date(2025, 6, 1))
    combos = (("request", "lost"), ("session", "lost"), ("session", "kept"))
    with Warehouse(db) as wh:
        six(wh, tmp_path)
        want = {}
        for unit, cache in combos:
            sc = svc.with_conversations(svc.build_scenario(
                name="my-scenario", start=day[0], end=day[1], models=["gpt-4o"], tier=False, route="shift",
                target_model="gpt-4o-mini", price_ratio=None, quality_ratio=0.9, pick="simplest", batch=False,
                batch_workloads=[], cache=False), unit, cache)
            want[unit, cache] = simulate.run(wh, sc)
    at = page(db, modelmix_date_range=day, whatif_source="Build your own", whatif_tier=False,
              whatif_models=["gpt-4o"], whatif_target_model="gpt-4o-mini")
    assert not at.exception, at.exception
    assert any("5 of the 6 requests logged one by one" in c.value and "2 conversations" in c.value
               and "totals" not in c.value for c in at.caption)
    for unit, cache in combos:
        at.radio(key="whatif_unit").set_value(unit).run()
        at.radio(key="whatif_cache_on_switch").set_value(cache).run()
        assert not at.exception, at.exception
        r = want[unit, cache]
        assert metric(at, "Savings") == usd(r.savings_usd), (unit, cache)
        [share] = [s for s in at.slider if "moved" in s.label]
        assert ("eligible conversations" in share.label) == (unit == "session")
        lost = r.savings_by_lever().get("cache_lost_on_switch", 0.0)
        [waterfall] = [c for c in vega.charts(at) if "steps" in c["datasets"]]
        steps = vega.series(waterfall, "step")
        assert ("Cache lost on switch" in steps) == (lost != 0), (unit, cache, lost)
    # the lost line shows where it is not zero: moving single requests at 50% loses A2's cache (and B1 writes)
    assert want["request", "lost"].savings_by_lever()["cache_lost_on_switch"] < 0
    # single requests of one conversation paying for each other's cache: the oracle bound over conversations,
    # said what it is
    at.session_state["whatif_results_tab"] = "Cost–quality frontier"     # the note sits under the frontier
    at.radio(key="whatif_unit").set_value("request").run()
    at.radio(key="whatif_cache_on_switch").set_value("lost").run()
    assert not at.exception, at.exception
    assert any("exact at its corners" in c.value for c in at.caption)


def test_conversation_count_names_the_requests_it_leaves_out(wh, tmp_path):
    """Only requests logged one by one carry a conversation id: the count says so, and names the requests the
    range holds in daily totals instead of setting them beside a total they are not part of."""
    from simulate_data import load_rows
    from test_simulate_sessions import six

    six(wh, tmp_path)
    load_rows(wh, tmp_path, [{"ts": "2025-06-01T00:00:00", "granularity": "day", "model": "gpt-4o-mini", "project": "p2",
                              "requests": 40, "input_tokens": 4000, "output_tokens": 400, "cost_usd": "0.02"}],
              name="daily.csv")
    got = svc.sessions(lambda name, **p: wh.query(name, **p), dt.date(2025, 6, 1), dt.date(2025, 6, 1))
    assert got == {"requests": 6, "with_session": 5, "sessions": 2, "in_totals": 40}


def test_random_single_requests_losing_each_others_cache_draw_the_seed_band_and_the_conversation_bound(wh, tmp_path):
    """unit: request, cache lost, conversations of several requests: each seed's cache extras are recomputed for its
    own order (exact), so the frontier draws the seed band; the oracle is the bound over each conversation's
    requests (simulate/hull.py, exact at its corners), the note says so and its RouteLLM metrics are not given."""
    from test_simulate_sessions import six

    six(wh, tmp_path)
    day = dt.date(2025, 6, 1)
    sc = svc.with_conversations(svc.build_scenario(
        name="my-scenario", start=day, end=day, models=["gpt-4o"], tier=False, route="shift",
        target_model="gpt-4o-mini", price_ratio=None, quality_ratio=0.9, pick="random", batch=False,
        batch_workloads=[], cache=False), "request", "lost")
    fr = svc.frontier_curve(wh, sc)
    assert fr.note.startswith("Oracle bound here") and "exact at its corners" in fr.note
    assert fr.metrics["oracle"]["apgr"] is None and fr.metrics["policy"]["apgr"] is not None
    assert sorted(fr.bounds["curve"].unique()) == ["oracle", "random", "seeds p10", "seeds p90"]
    rep = frontier.router_report(wh, sc, svc.slider_policy(sc))
    oracle = fr.bounds.filter(pl.col("curve") == "oracle")["scenario_cost_usd"].to_list()
    assert oracle == pytest.approx(rep.oracle.cost.tolist(), abs=1e-12)          # the page draws the library's
    kept = svc.frontier_curve(wh, svc.with_conversations(sc, "request", "kept"))
    assert kept.note is None and "oracle" in kept.bounds["curve"].to_list()


def test_an_upload_is_parsed_once_per_content(monkeypatch):
    """The page reruns on every widget change: an uploaded grades or router-score file is read once per content, and
    the scenario gets the same parsed object each time (its fingerprint, keys and prepared tables are kept by it)."""
    from simulate import router, shadow

    calls = []
    for module in (shadow, router):
        monkeypatch.setattr(module, "parse", functools.partial(
            lambda real, text, name: calls.append(name) or real(text, name), module.parse))
    grades = b"request_id,model,score,provider\nr1,gpt-4o,0.5,openai\nr1,gpt-4o-mini,0.4,openai\n"
    base = simulate.parse_scenario({"name": "t", "policies": [{"kind": "shift", "share": 0.5,
                                                               "to": {"model": "gpt-4o-mini"}}]})
    first = svc.with_shadow(base, "once.csv", grades)
    again = svc.with_shadow(base, "once.csv", bytes(grades))        # another bytes object, the same content
    assert again.assumptions.request_grades is first.assumptions.request_grades and calls == ["once.csv"]
    svc.with_shadow(base, "once.csv", grades + b"r2,gpt-4o,0.9,openai\n")
    assert calls == ["once.csv", "once.csv"]                         # new content: read
    scores = b"request_id,score\nr1,0.1\nr2,0.7\n"
    one, two = svc.router_scores("s.csv", scores), svc.router_scores("s.csv", bytes(scores))
    assert one is two and calls.count("s.csv") == 1 and one.score.to_list() == [0.1, 0.7]
    built = svc.build_scenario(name="b", start=None, end=None, models=["gpt-4o"], tier=False, route="shift",
                               target_model="gpt-4o-mini", price_ratio=None, quality_ratio=None, pick="score",
                               batch=False, batch_workloads=[], cache=False, router_scores=one)
    assert svc.with_conversations(built, "request", "lost").assumptions.router_scores is one
