"""What-if: pick a preset or build a scenario, drag the sliders, see spend, savings, quality, per-team impact, the
savings by lever and the cost–quality frontier. Slider moves are answered from the simulator's prepared tables
(no query per move); the main slider's exact figures at every 0.1 % step are also drawn as a chart whose own range
input the browser answers alone (a preview: no server round trip); the full replay runs on the button.

Thin by design: widgets -> one service call per visual -> a figure builder -> render."""

from __future__ import annotations

import functools
import hashlib

import polars as pl
import streamlit as st

from dashboard import auth, state
from dashboard.components import bridges, widgets
from dashboard.components import whatif_charts as charts
from dashboard.components.formatting import day_span, usd
from dashboard.components.widgets import summary_table
from dashboard.services import ModelMixError, preset_title
from dashboard.services import spend as spend_svc
from dashboard.services import whatif as svc
from dashboard.services import whatif_preview as preview_svc
from dashboard.services.whatif import RouterScores, Scenario

run = state.run_query
SOURCE_KEY = "whatif_source"
PRESET_KEY = "whatif_preset"
RESULT_KEY = "whatif_full_result"
FLASH_KEY = "whatif_flash"
PREVIEW_KEY = "whatif_preview_start"      # (curve digest, the value the preview starts at)
PREVIEW_OPEN_KEY = "whatif_preview_open"  # the preview's expander: open (built) or closed (nothing drawn)
RESULT_TAB_KEY = "whatif_results_tab"     # the results' tab shown (only its content is built)
RESULT_TABS = ["Savings by lever", "Cost–quality frontier", "Impact by team", "Save and export"]
PRESET, BUILD = "A preset", "Build your own"
SELF_HOSTED = "Our self-hosted model"


def preset_scenario(start, end) -> Scenario:
    name = st.selectbox("Preset", svc.preset_names(), key=PRESET_KEY, format_func=preset_title,
                        help="Scenario files shipped in simulate/presets/; each quotes its sources.")
    scenario = svc.load_scenario(name)
    if scenario.description:
        with st.expander("About this preset: what it assumes and where the figures come from"):
            st.caption(scenario.description)
            st.caption(f"Preset file: `{name}`")
    return svc.with_period(scenario, start, end)


def built_scenario(start, end) -> Scenario:
    mix = svc.mix(run, start, end)
    models = mix.group_by("model").agg(pl.col("spend_usd").sum()).sort("spend_usd", descending=True)["model"]
    workloads = sorted(set(mix["workload"].drop_nulls().to_list()))
    c1, c2, c3 = st.columns(3)
    with c1:
        st.markdown("**Move traffic from**")
        tier = st.checkbox("The frontier tier", value=True, key="whatif_tier",
                           help="Claude Opus/Sonnet, GPT-4o/4.1/5, o1/o3, Gemini Pro (the armstrong-80-99 list).")
        picked = st.multiselect("and these models", models.to_list(), key="whatif_models", placeholder="None")
    with c2:
        st.markdown("**To**")
        hosted = state.call(svc.self_hosted_targets, on=end)
        kind = st.radio("Target", ["A catalog model", "A price ratio"] + ([SELF_HOSTED] if hosted else []),
                        key="whatif_target_kind", horizontal=True, label_visibility="collapsed")
        target_model = ratio = own = None
        if kind == "A catalog model":
            target_model = st.selectbox("Catalog model", svc.CHEAP_TARGETS, key="whatif_target_model",
                                        accept_new_options=True, help="Any model id of the genai-prices catalog.")
        elif kind == SELF_HOSTED:
            chosen = st.selectbox("Self-hosted model", hosted, key="whatif_self_hosted",
                                  format_func=svc.self_hosted_label)
            own = chosen["to"]
            st.caption(f"Priced at its effective rate for {day_span(chosen['start_date'], chosen['end_date'])}: the "
                       "cost file's amount (loaded on Chargeback) ÷ the tokens logged, the same for every token "
                       "class. A flat rate per token, as if capacity grew with the traffic.")
        else:
            ratio = st.number_input("Price ratio (target ÷ source)", 0.001, 1.0, 0.05, 0.01, format="%.3f",
                                    key="whatif_ratio")
        q = st.number_input("Target quality ÷ source quality", 0.0, 1.0, 0.9, 0.01, key="whatif_qratio",
                            help="Used instead of the benchmark table. 0.79 = best open vs best frontier model "
                                 "(AA Intelligence Index v4.1, Jun 2026).")
    with c3:
        st.markdown("**How**")
        route = st.radio("Routing", ["shift", "cascade"], key="whatif_route", horizontal=True,
                         format_func={"shift": "Move a share", "cascade": "Cascade (try cheap first)"}.get)
        scores = router_scores()
        picks = ["simplest", "random"] + (["score"] if scores is not None else [])
        pick = st.radio("Which requests move", picks, key="whatif_pick", horizontal=True,
                        format_func={"simplest": "Simplest first", "random": "Random",
                                     "score": "By the router's scores (lowest first)"}.get,
                        disabled=route == "cascade")
        batch = st.checkbox("Batch offline work", key="whatif_batch")
        batch_workloads = []
        if batch:
            default = [w for w in workloads if w in svc.OFFLINE_WORKLOADS]
            batch_workloads = st.multiselect("Offline workloads", workloads, default=default, key="whatif_batch_w")
        cache = st.checkbox("Raise the prompt-cache hit rate", key="whatif_cache")
    return svc.build_scenario(name="my-scenario", start=start, end=end, models=picked, tier=tier, route=route,
                              target_model=target_model, price_ratio=ratio, quality_ratio=q, pick=pick, batch=batch,
                              batch_workloads=batch_workloads, cache=cache,
                              router_scores=scores if pick == "score" else None, self_hosted=own)


def router_scores() -> RouterScores | None:
    """A candidate router's scores per request (optional upload): what it would save and cost in quality on
    this traffic, as the builder's "which requests move"."""
    upload = st.file_uploader(
        "Router scores (optional)", type=["csv", "json", "yaml", "yml"], key="whatif_scores",
        help="A router's score per logged request: columns request_id, score, optional router and provider "
             "(RouteLLM's strong-model win rate, Not Diamond's, your own classifier's). Lower = safer to move: "
             "the lowest-scored requests move first.")
    if upload is None:
        return None
    scores = svc.router_scores(upload.name, upload.getvalue())
    st.caption(f"{len(scores.request_id):,} scored requests" + (f" from {scores.router}" if scores.router else ""))
    return scores


def conversations(scenario: Scenario, start, end) -> Scenario:
    """What moves together (requests, or whole conversations where the sources log them) and what a moved request's
    prompt cache is worth at the target."""
    conv = svc.sessions(run, start, end)
    c1, c2 = st.columns(2)
    unit = None
    with c1:
        if conv["with_session"]:
            unit = st.radio("What moves together", ["request", "session"], key="whatif_unit", horizontal=True,
                            format_func={"request": "Single requests", "session": "Whole conversations"}.get,
                            help="Whole conversations: a shift or batch pick ranks and moves conversations (the "
                                 "session, trace or conversation id your gateway logged), so their prompt cache "
                                 "moves with them. A request without an id is its own conversation.")
            st.caption(f"{conv['with_session']:,} of the {conv['requests']:,} requests logged one by one in "
                       f"{day_span(start, end)} carry a conversation id ({conv['sessions']:,} conversations)."
                       + (f" The range's other {conv['in_totals']:,} requests are in hourly or daily totals, which "
                          "name no conversation." if conv["in_totals"] else ""))
        else:
            st.caption("No source in this range logs sessions: each request is its own unit.")
    with c2:
        cache = st.radio("Prompt cache on a switch", ["lost", "kept"], key="whatif_cache_on_switch", horizontal=True,
                         format_func={"lost": "Lost", "kept": "Kept"}.get,
                         help="Lost: a moved request's cache reads are priced at the target's input price (the first "
                              "moved request of a conversation at its cache-write price) unless its whole "
                              "conversation moved. Kept: at the target's cache-read price, as if the cache came "
                              "along. The difference is its own line in savings by lever.")
    return svc.with_conversations(scenario, unit, cache)


def slider_values(scenario: Scenario) -> Scenario:
    """One slider per value of the scenario; keys carry the structure, so a new structure starts at its own
    values. Labels are built from the sliders' current values (they follow the slider: "the simplest 25% …")."""
    tag = hashlib.sha1(svc.frontier.structure_key(scenario).encode()).hexdigest()[:10]
    specs = svc.sliders(scenario)

    def key(s: svc.Slider) -> str:
        return f"whatif_{tag}_{s.index}_{s.field}"

    current = svc.shown_values(specs, {(s.index, s.field): st.session_state.get(key(s), s.value) for s in specs})
    labels = [s.label for s in svc.sliders(svc.with_values(scenario, current))]
    values = {}
    cols = st.columns(min(len(specs), 4))
    for n, (s, label) in enumerate(zip(specs, labels, strict=True)):
        with cols[n % len(cols)]:
            values[(s.index, s.field)] = st.slider(label, s.lo, s.hi, s.value, s.step, format=s.format, key=key(s))
    return svc.with_values(scenario, svc.shown_values(specs, values))


def preview(scenario: Scenario) -> None:
    """The main slider's exact figures at every step, drawn in the browser: its own range input moves the marker
    and the figures in the chart with no server round trip (a Streamlit slider's round trip alone is ~100 ms).
    It previews only; the page's figures below follow the Streamlit slider, which the caption says in words.

    In an expander built only when opened (`on_change="rerun"`: closed, nothing inside is drawn or computed): on a
    new tab its 1,001-point chart in five layers cost the browser ~0.12 renderer CPU-s (docs/benchmarks.md, tenth
    session) and pushed the headline figures below the first screen; opened, it stays open across slider moves."""
    box = st.expander("Drag to preview: the savings and quality at any value of the first slider, in your browser",
                      key=PREVIEW_OPEN_KEY, on_change="rerun", icon=":material/swipe:")
    if not box.open:
        return
    with box:
        drawn(scenario)


def drawn(scenario: Scenario) -> None:
    """The preview's chart and caption (inside its open expander)."""
    body = svc.swept_key(scenario)
    pv = state.call(preview_svc.preview_of, body=body)
    if pv is None or not pv.moves:
        st.caption("No preview for this scenario: its first slider moves no request (nothing to sweep).")
        return
    i = svc.slider_policy(scenario)
    [main] = [s for s in svc.sliders(scenario) if s.index == i and s.field == pv.field]
    # the preview starts where the page's slider stood when this curve was first drawn, and stays there while that
    # slider moves: the same spec on every rerun, so the browser keeps its chart (and where the reader left the
    # preview) instead of building it again on each move of the page's slider
    digest = hashlib.sha1(body.encode()).hexdigest()[:16]
    held = st.session_state.get(PREVIEW_KEY)
    if held is None or held[0] != digest:
        held = st.session_state[PREVIEW_KEY] = (digest, main.value)
    st.html(charts.PREVIEW_INPUT_CSS)
    st.vega_lite_chart(charts.preview_chart(pv.points, pv.name, held[1], pv.step_pct), width="stretch")
    step = f"{pv.step_pct:.1f}%" if pv.step_pct < 1 else f"{pv.step_pct:.0f}%"
    st.caption(
        f"**Drag to preview.** The slider under the chart shows the savings and quality at any {pv.name.lower()} as "
        f"you drag, in your browser, without recalculating the page: exact at each {step} step, the figures the page "
        f"would show for that value. **It changes nothing else:** the figures, charts, team table and exports below "
        f"follow the slider above (“{main.label}”); set that one to use a value you previewed."
        + ("" if pv.step_pct < 1 else f" Steps of about {step} here: this range holds more rows than the per-request "
           "tables keep in memory, so each point is where a slice of the ranked requests ends (its value shown with "
           "two decimals, within 0.02% of the step), whose figures need no read of the ledger."))


def headline(out, how: str, bridge) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Replay baseline", usd(out.baseline_cost_usd), border=True,
              help="What the replayed requests cost as they ran: the starting point the scenario is compared with. "
                   "It reads the most detailed source of each provider and day (a request log before a daily "
                   "bill), so it can differ from spend; the line below bridges the two.")
    c2.metric("Replay under the scenario", usd(out.scenario_cost_usd), border=True,
              help="The same requests replayed under the scenario's routing.")
    c3.metric("Savings", usd(out.savings_usd),
              delta=None if out.savings_pct is None else f"{out.savings_pct:.1f}%", border=True)
    q = out.quality_ratio
    unscored = out.total_requests - out.scored_requests
    c4.metric("Quality vs baseline" if unscored < 0.5 else "Quality (scored only)",   # whole, in a quarter card
              "—" if q is None else f"{100 * q:.1f}%",
              delta=None if q is None else f"{100 * (q - 1):+.1f} pts vs baseline", border=True,
              help="Request-weighted expected quality of the scenario ÷ the baseline's, over the requests some "
                   "score covers; unscored requests are left out of it.")
    if unscored >= 0.5:
        say = st.warning if unscored > 0.5 * (out.total_requests or 1) else st.info
        say(f"**Unscored: {unscored:,.0f} of {out.total_requests:,.0f} requests** "
            f"({unscored / (out.total_requests or 1):.0%}) have no quality score for their models (no benchmark "
            "scores both, and no shadow grade): the quality figure covers only the other "
            f"{out.scored_requests:,.0f}. Add scores on Attribution & quality, a `quality_ratio` on the target, or a "
            "shadow-evaluation file.", icon=":material/help:")
    assumed = out.scored_requests - out.measured_requests
    total = out.total_requests or 1
    measured = (f"**measured** by shadow evaluation on {out.measured_requests:,.0f} requests "
                f"({out.measured_requests / total:.0%})" if out.measured_requests else
                "not measured on your traffic (no shadow-evaluation file)")
    st.caption(
        f"Quality: {measured}, **assumed** from public benchmarks for {assumed:,.0f} requests "
        f"({assumed / total:.0%}), unscored {unscored:,.0f} "
        f"(no benchmark scores both models). Moved requests: {out.moved_requests:,.0f}. "
        f"Figures from the prepared table ({'a lookup' if how == 'lookup' else 'array evaluation'}, no query).")
    st.caption(" ".join(filter(None, (bridges.replay_baseline(bridge) + ".", bridges.replay_why(bridge),
                                      bridges.SPEND_DEFINITION))))
    widgets.sql_behind(spend_svc.QUERIES["replay"], label="SQL behind the bridge to spend")


def results(scenario: Scenario) -> None:
    """Everything the sliders' values move: figures, charts, the team table, the full replay, save and export."""
    wh = state.warehouse()
    # the first call for a structure replays the period's rows once (seconds on millions of rows); the
    # spinner shows only when it takes over half a second, never on a slider move
    with st.spinner("Preparing the slider tables: one pass over the period's requests, once per scenario "
                    "structure…"):
        out, how = svc.outcome(wh, scenario)
    bridge = state.call(spend_svc.replay_bridge, body=spend_svc.scope_body(scenario))
    if (why := svc.why_nothing_moves(wh, scenario)) is not None:
        st.info(why, icon=":material/info:")
    headline(out, how, bridge)
    teams = svc.team_frame(out)
    # one tab drawn at a time, built when chosen (`on_change="rerun"`): a new tab draws the waterfall alone, not the
    # frontier, the team table and the save and export row beside and below it (docs/benchmarks.md, eleventh session)
    lever, curve, team, save = st.tabs(RESULT_TABS, key=RESULT_TAB_KEY, on_change="rerun")
    if lever.open:
        with lever:
            st.vega_lite_chart(charts.savings_waterfall(out.baseline_cost_usd, svc.lever_frame(out),
                                                     out.scenario_cost_usd), width="stretch")
    if curve.open:
        with curve:
            frontier_block(scenario, out)
    if team.open:
        with team:
            if teams.is_empty():
                st.info("No team has usage in this period.")
            else:
                summary_table(teams, column_config={
                    "team": "Team",
                    "baseline_cost_usd": st.column_config.NumberColumn("Replay baseline", format="dollar"),
                    "scenario_cost_usd": st.column_config.NumberColumn("Scenario", format="dollar"),
                    "savings_usd": st.column_config.NumberColumn("Savings", format="dollar"),
                    "savings_pct": st.column_config.NumberColumn("Savings %", format="%.1f%%")})
    if save.open:
        with save:
            exports(wh, scenario, out, teams, bridge)
    full_replay(wh, scenario, out)
    svc.keep_slider_rows(wh, scenario)      # the slider's later moves read from disk (bucketed engine only)


def frontier_block(scenario: Scenario, out) -> None:
    """The cost–quality frontier of the scenario's swept policy, with the current sliders' point and the cheapest
    point at the quality bar."""
    fr = state.call(svc.frontier_of, body=svc.swept_key(scenario))
    if fr is None or fr.points["quality_ratio"].null_count() == fr.points.height:
        st.info("No frontier: the scenario has no share or escalation rate to sweep, or no benchmark scores "
                "its models (add scores on Attribution & quality).")
        return
    bar = fr.at_bar
    st.vega_lite_chart(charts.frontier_chart(
        fr.points, fr.param, (out.scenario_cost_usd, out.quality_ratio),
        None if bar is None else (bar.scenario_cost_usd, bar.quality_ratio), bounds=fr.bounds), width="stretch")
    if fr.metrics is not None:
        st.caption(svc.metrics_text(fr.metrics))
    if fr.note is not None:
        st.caption(fr.note)
    if bar is not None:
        st.caption(f"Cheapest point keeping ≥ 95% of baseline quality (RouteLLM's bar): share "
                   f"{100 * bar.share:.1f}% for *{fr.policy}*, spend {usd(bar.scenario_cost_usd)}, savings "
                   f"{usd(bar.savings_usd)}. Each point of the line is one share (0–100% in 5% steps"
                   + ("" if fr.points[fr.param].to_list() == svc.GRID else
                      ", each moved to where the nearest slice of the ranked requests ends, within 0.02%")
                   + ").")
    elif fr.param == "hit_rate":
        st.caption(f"Each point is one hit rate of *{fr.policy}* (0–100% in 5% steps); caching keeps "
                   "quality, so the line is flat.")
    elif fr.break_even is not None:
        st.caption(f"Break-even escalation rate of *{fr.policy}*: {100 * fr.break_even:.1f}% "
                   "(the scenario costs the baseline there; below it the cascade saves).")


def sql_behind(structure: Scenario) -> None:
    """The replay's and the prepare's SQL: the same text for every slider value (values are bound), so this sits
    outside the sliders' fragment. Drawn while the sidebar's Show SQL toggle is on, like every page's SQL."""
    if not widgets.show_sql():
        return
    with st.expander("SQL behind this"):
        st.caption("The replay `simulate.run` executes (values bound separately, never spliced); the sliders read "
                   "the prepared table built once per scenario structure by the second query.")
        st.code(state.call(svc.replay_sql_of, body=structure.model_dump_json(exclude_none=True)), language="sql")
        st.code(svc.prepared_sql(state.warehouse(), structure), language="sql")


def full_replay(wh, scenario: Scenario, out) -> None:
    key = scenario.model_dump_json()
    if st.button("Run full replay", help="Replays every row with `simulate.run` (seconds on large ledgers)."):
        with st.spinner("Replaying the ledger…"):
            st.session_state[RESULT_KEY] = (key, svc.full_replay(wh, scenario))
    result = st.session_state.get(RESULT_KEY)
    if result and result[0] == key:
        r = result[1]
        agree = abs(r.scenario_cost_usd - out.scenario_cost_usd) < 0.005
        st.success(f"Full replay in {r.seconds:.2f} s: replay under the scenario {usd(r.scenario_cost_usd)}, savings "
                   f"{usd(r.savings_usd)}" + (" — the slider figures agree to the cent." if agree else
                                              f" (slider figure {usd(out.scenario_cost_usd)})."))


def exports(wh, scenario: Scenario, out, teams: pl.DataFrame, bridge) -> None:
    c1, c2, c3 = st.columns([2, 1, 1], vertical_alignment="bottom")
    with c1:
        name = st.text_input("Scenario name", value=scenario.name, key="whatif_save_name")
    with c2:
        if st.button("Save scenario", width="stretch", disabled=not auth.allows("analyst"),
                     help=None if auth.allows("analyst") else auth.need_text("analyst")):
            saved = svc.save(wh, scenario, name)
            st.session_state[FLASH_KEY] = f"Saved “{saved.name}”."
            st.rerun()          # the whole page: the comparison below the fragment lists the new scenario
    with c3:
        # the files are written when clicked (deferred), not on every slider move
        st.download_button("Scenario file (YAML)", functools.partial(svc.scenario_yaml, scenario),
                           f"{scenario.name}.yaml", "application/yaml", width="stretch")
    st.download_button("Report (Markdown)", functools.partial(svc.report_markdown, scenario, out, teams, bridge),
                       f"{scenario.name}-report.md", "text/markdown")


def compare() -> None:
    """Saved scenarios side by side (each over its own saved period: the sliders don't move it)."""
    saved = svc.saved(run)
    if saved.is_empty():
        st.caption("No saved scenarios yet: save one (*Save and export*, above) to compare it with others side by "
                   "side.")
        return
    st.subheader("Compare saved scenarios")
    picked = st.multiselect("Compare saved scenarios", saved["name"].to_list(), key="whatif_compare",
                            default=saved["name"].to_list()[:3])
    if picked:
        bodies = dict(zip(saved["name"].to_list(), saved["body"].to_list(), strict=True))
        frame = state.call(svc.compare_of, bodies=tuple(bodies[n] for n in picked))
        summary_table(frame, column_config={n: st.column_config.NumberColumn(n, format="%,.2f") for n in picked})
        st.caption("Money in USD; quality and savings in %. Each scenario over its own saved period.")


@st.fragment
def panel(scenario: Scenario) -> None:
    """The sliders and everything they move, as a fragment: a slider move (or a button in here) reruns only this
    function, not the pickers, the preset's text and the shadow upload above it. `scenario` is the structure
    from the last full run; its errors are shown here because a fragment's rerun skips the page's `try`."""
    try:
        st.subheader("Sliders")
        scenario = slider_values(scenario)
        preview(scenario)
        results(scenario)
    except ModelMixError as e:
        st.error(f"**{e.title}** — {e.message}")


st.title("What-if")
dates = state.date_range()
if dates is None:
    st.info("**No usage loaded yet.** Load an export on *Upload & data* (or `modelmix ingest FILE`); the what-if "
            "replays your own traffic.", icon=":material/upload_file:")
    st.stop()
start, end = dates
if flash := st.session_state.pop(FLASH_KEY, None):
    st.toast(flash)
st.caption(f"Replays your traffic of {day_span(start, end)} (the sidebar's range) under a routing scenario. "
           "Sliders answer from prepared tables in milliseconds; structure changes (pickers, toggles) prepare "
           "once.")
try:
    source = st.segmented_control("Start from", [PRESET, BUILD], default=PRESET, required=True, key=SOURCE_KEY)
    scenario = preset_scenario(start, end) if source == PRESET else built_scenario(start, end)
    scenario = conversations(scenario, start, end)
    with st.expander("Measured quality (shadow evaluation, optional)"):
        upload = st.file_uploader(
            "Grades per request or per workload × model", type=["csv", "json", "yaml", "yml"],
            key="whatif_shadow",
            help="Grades (0–1) of logged prompts re-run on the models: columns request_id, model, score, optional "
                 "provider and source (per request: the id your gateway logged); or workload, model, score, "
                 "optional requests and source. They replace the benchmark priors for the requests they cover.")
        if upload is not None:
            scenario = svc.with_shadow(scenario, upload.name, upload.getvalue())
            if (coverage := svc.grade_coverage(state.warehouse(), scenario)) is not None:
                matched, graded = coverage
                say = st.caption if matched else st.warning
                say(f"{matched:,} of {graded:,} graded requests matched a request in {day_span(start, end)}: "
                    "their grades replace the priors. Ids are matched to the request ids your gateway logged "
                    "(with the provider when the file names it); daily exports have no request ids.")
    panel(scenario)
    compare()
    sql_behind(scenario)
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
