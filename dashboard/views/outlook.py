"""Outlook: the monthly projection of baseline vs scenario spend with P10/P50/P90 bands; the assumptions are the
inputs. One replay per scenario (cached on the ledger's version); every input change is a Monte Carlo of a fixed
set of random draws in milliseconds.

Thin by design: widgets -> one service call per visual -> a figure builder -> render."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import state
from dashboard.components import bridges
from dashboard.components import whatif_charts as charts
from dashboard.components.formatting import day_span, usd
from dashboard.components.widgets import sql_behind, summary_table
from dashboard.services import ModelMixError
from dashboard.services import ledger
from dashboard.services import outlook as svc
from dashboard.services import spend as spend_svc

run = state.run_query


def inputs() -> svc.Assumptions:
    c1, c2, c3 = st.columns(3)
    with c1:
        months = st.slider("Months ahead", 3, 36, 18, key="outlook_months")
        fitted = st.toggle("Fit traffic growth from the history", value=True, key="outlook_fit",
                           help="Log-linear fit on monthly totals; its standard error spreads the bands.")
        growth = None
        if not fitted:
            lo, hi = st.slider("Traffic growth per month (%)", -10.0, 20.0, (0.0, 5.0), 0.5, key="outlook_growth")
            growth = (lo / 100, hi / 100)
    with c2:
        lo, hi = st.slider("Price decline per year (× cheaper)", 1.0, 50.0, (1.0, 10.0), 0.5, key="outlook_decline",
                           help="At constant capability. 1× = none; 3× Gundlach et al. 2025 (open models); "
                                "5–10× Gundlach (frontier levels); 10× a16z 2024; 46× Epoch AI 2025 median.")
        mode = st.number_input("Most likely (×/yr)", lo, hi, min(max(3.0, lo), hi), 0.5, key="outlook_decline_mode")
    with c3:
        ramp = st.slider("Months to adopt the scenario", 0, 24, (6, 12), key="outlook_ramp",
                         help="A linear ramp from today's mix to the scenario's; 0 = from the first month.")
        # the bands are the same on every visit (a fixed set of draws); a second set, for a reader who wants to see
        # how much they move by chance, sits out of the way
        with st.expander("Advanced"):
            draw_set = st.number_input("Set of random draws", 1, 10_000, 1, key="outlook_draw_set",
                                       help="The bands come from 2,000 random draws, the same ones on every "
                                            "visit (set 1). Another set draws them again: how far the bands move "
                                            "shows how much of them is chance.")
    return svc.Assumptions(months=months, growth=growth, decline=(lo, mode, hi), adoption_months=ramp,
                           draws=2000, seed=int(draw_set) - 1)


st.title("Outlook")
try:
    choices = svc.scenario_choices(run)
    label = st.selectbox("Scenario", list(choices), key="outlook_scenario",
                         help="A preset, or a scenario saved on the What-if page.")
    assumptions = inputs()
    with st.spinner("Replaying the history under the scenario (once per scenario)…"):
        daily = state.call(svc.daily_history, body=choices[label])
    if daily.is_empty():
        st.info("**No usage loaded yet.** Load an export on *Upload & data*; the outlook projects your own history.",
                icon=":material/upload_file:")
        st.stop()
    done = ledger.source_completeness(run, daily["day"].max())
    fitted_days = svc.complete_history(daily, done.complete_through)
    if fitted_days.is_empty():
        st.warning("No day of the history holds every source's usage yet, so there is nothing sound to project "
                   f"from: {done.describe()}.", icon=":material/hourglass_bottom:")
        st.stop()
    o = svc.project(fitted_days, assumptions)
    fit_months = o.history["month"].to_list()
    st.info(f"**Fitted on {fit_months[0]:%b %Y} – {fit_months[-1]:%b %Y}** ({len(fit_months)} months; "
            f"today's level: {usd(o.level_usd)} a month, from the 28 days to {fitted_days['day'].max():%-d %b %Y})."
            + ("" if done.is_complete else
               f" Left out: {day_span(done.complete_through + dt.timedelta(days=1), done.latest)}, which is "
               f"incomplete ({done.describe()}); projecting from it would start from the gap, not from spend."),
            icon=":material/straighten:")
    c1, c2, c3 = st.columns(3)
    t = o.totals
    c1.metric(f"Baseline, next {assumptions.months} months (P50)", usd(t["baseline"]["p50"]), border=True,
              help=f"P10 {usd(t['baseline']['p10'])} – P90 {usd(t['baseline']['p90'])}")
    c2.metric(f"Scenario, next {assumptions.months} months (P50)", usd(t["scenario"]["p50"]), border=True,
              help=f"P10 {usd(t['scenario']['p10'])} – P90 {usd(t['scenario']['p90'])}")
    c3.metric(f"Savings, next {assumptions.months} months (P50)", usd(t["savings"]["p50"]), border=True,
              help=f"P10 {usd(t['savings']['p10'])} – P90 {usd(t['savings']['p90'])}")
    st.caption(f"P10–P90 over {assumptions.months} months: baseline {usd(t['baseline']['p10'])} – "
               f"{usd(t['baseline']['p90'])}, scenario {usd(t['scenario']['p10'])} – {usd(t['scenario']['p90'])}, "
               f"savings {usd(t['savings']['p10'])} – {usd(t['savings']['p90'])}.")
    bridge = state.call(spend_svc.replay_bridge, body=spend_svc.scope_body(svc.parse(choices[label])))
    if bridge.first_day is not None:
        st.caption(f"The projection starts from the replay baseline of {day_span(bridge.first_day, bridge.last_day)}, "
                   "not from spend: where a request log sees only part of a provider's traffic, only that part is "
                   "projected. " + bridges.replay_baseline(bridge) + ".")
        sql_behind(spend_svc.QUERIES["replay"], label="SQL behind the bridge to spend")
    if assumptions.growth is None and o.fit.fitted and not o.fit.reliable:
        st.warning(f"The fitted traffic growth is unreliable ({o.fit.monthly_growth:+.1%} ± {o.fit.std_error:.1%} "
                   f"a month over {o.fit.months_used} months); the draws are clipped to ±20% a month. Turn the fit "
                   "off and give a growth range for a tighter band.", icon=":material/warning:")
    st.vega_lite_chart(charts.outlook_bands(o.frame), width="stretch")
    st.caption("Lines are the median (P50) of 2,000 random draws (the same on every visit); bands run from P10 to "
               "P90. Spend per month = "
               "today's run-rate × growth × price decline; the scenario follows its adoption ramp. "
               "History used: " + ", ".join(f"{m:%b %Y}" for m in o.history["month"].to_list()) + ".")
    left, right = st.columns(2)
    with left:
        st.subheader("Assumptions")
        summary_table(svc.assumption_table(o))
    with right:
        st.subheader("Price-decline sources")
        st.markdown("\n".join(f"- **{r['figure']}** — {r['source']}" for r in svc.DECLINE_SOURCES))
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
except ValueError as e:
    st.error(f"**Invalid assumptions** — {e}")
