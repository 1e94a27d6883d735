"""Attribution & quality: the team/workload rules (edit or upload), what each rule decides in the selected
range (first match wins, so a rule behind an earlier one can decide nothing), the share of spend still
unassigned, and the workload × model quality table the simulator scores routing with.

The page opens without the data grid (docs/benchmarks.md, "ninth session"): its tables are light summaries with a
Download CSV, and the rules and saved scores become editors on "Edit in a table".

Thin by design: widgets -> one service call per visual (`services/attribution.py`) -> render."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import auth, state
from dashboard.components.formatting import day_span, pct, usd
from dashboard.components.widgets import (flash, preformatted, rows_or_editor, save_button, show_error,
                                          sql_behind, summary_table)
from dashboard.services import ModelMixError
from dashboard.services import attribution as svc

run = state.run_query
FLASH_KEY = "attribution_flash"
RULES_EXAMPLE = """rules:
  - field: project            # project | api_key | user_id | model | account | provider | label:<name>
    pattern: "support-*"      # glob, case-insensitive
    team: support
    workload: chat            # optional: the task class the quality table scores
    priority: 10              # lower is tried first; ties keep file order
  - field: api_key
    pattern: "ci-*"
    team: engineering
    workload: coding-agent
    note: CI keys
  - field: label:deployment.environment.name   # a label the source carries (OTel attribute, FOCUS tag)
    pattern: "staging"
    team: platform
    workload: testing"""
STATUS_HELP = ("decides: sets team/workload for every row it matches · partly shadowed: an earlier rule decides "
               "some of them · shadowed: earlier rules decide everything it matches, so it changes nothing · "
               "no match: its pattern matches no usage in the range")


def rules_section() -> None:
    st.subheader("Attribution rules")
    flash(FLASH_KEY, "rules")
    st.caption("Each rule matches one field of the usage against a glob pattern (`support-*`, case-insensitive) and "
               "sets a team, a workload or both. Rules are tried by priority (lowest first; equal priorities top to "
               "bottom); for each of team and workload, the first matching rule that sets it wins. Where no rule "
               "sets a team, the team the file gave is kept, else *unassigned*. Saving re-attributes the whole "
               "ledger at once. A field `label:<name>` matches a label the source carries (OpenTelemetry resource "
               "and span attributes, FOCUS tags, Google Cloud labels); a row without that label never matches.")
    frame = svc.rule_table(run)
    labels = svc.label_names(run)
    columns = {
        "priority": st.column_config.NumberColumn("Priority", format="%d", step=1, default=100, required=True,
                                                  help="Lower is tried first."),
        "field": st.column_config.TextColumn("Field"),
        "pattern": st.column_config.TextColumn("Pattern", required=True, help="Glob: * any text, ? one character."),
        "team": st.column_config.TextColumn("Team"),
        "workload": st.column_config.TextColumn("Workload"),
        "note": st.column_config.TextColumn("Note"),
    }
    edited = rows_or_editor(
        frame, "rules", state.warehouse().data_version, columns=columns, download="attribution-rules",
        empty="No rules yet: switch on **Edit in a table** to add them, or upload a rules file.",
        empty_editing="No rules yet: add a row above (the + under the table), or upload a rules file.",
        editor_columns={**columns, "field": st.column_config.SelectboxColumn(
            "Field", options=svc.rule_fields(labels, frame), required=True)})
    labels_section(labels)
    if edited is not None:
        save_button("Save rules", "rules_save",
                    lambda: svc.save_rules(state.warehouse(), edited),
                    lambda n: f"Saved {n:,} attribution rules; the ledger is re-attributed.",
                    flash_key=FLASH_KEY, section="rules", type="primary")
    sql_behind(svc.QUERIES["rules"])
    upload = st.file_uploader("Or replace all rules with a file (YAML)", type=["yaml", "yml"], key="rules_file")
    with st.expander("File format"):
        preformatted(RULES_EXAMPLE)
    if upload is not None:
        save_button(f"Replace all rules with {upload.name}", "rules_load",
                    lambda: svc.load_rules_file(state.warehouse(), upload.name, upload.getvalue()),
                    lambda n: f"Loaded {n:,} attribution rules from {upload.name}.",
                    flash_key=FLASH_KEY, section="rules")


def labels_section(labels) -> None:
    """The labels a rule can match, with a few of their values; nothing when the ledger carries none."""
    if labels.is_empty():
        return
    with st.expander(f"Labels in the ledger ({labels.height:,}): fields `label:<name>` for the rules above"):
        summary_table(labels, download="ledger-labels",
              column_order=["field", "n_values", "sample_values", "spend_usd"],
              column_config={"field": st.column_config.TextColumn("Field"),
                             "n_values": st.column_config.NumberColumn("Values", format="localized"),
                             "sample_values": st.column_config.ListColumn("Some values"),
                             "spend_usd": st.column_config.NumberColumn("Spend carrying it", format="dollar")})
        sql_behind(svc.QUERIES["labels"])


def coverage_section(start: dt.date, end: dt.date) -> None:
    cov = svc.coverage(run, start, end)
    if cov.is_empty():
        st.info(f"No usage between {start:%d %b %Y} and {end:%d %b %Y}. Widen the date range in the sidebar.")
        return
    u = svc.unassigned(cov)
    by = {r["decided_by"]: r for r in cov.iter_rows(named=True)}
    c1, c2, c3 = st.columns(3)
    c1.metric("Spend still unassigned", pct(100 * u["share"]), border=True,
              delta=f"{usd(u['spend_usd'])} of {usd(u['total_usd'])}", delta_color="off", delta_arrow="off",
              help="Spend whose team no rule sets and no file named.")
    rule = by.get("rule", {})
    c2.metric("Team set by a rule", pct(100 * rule.get("spend_share", 0.0)), border=True,
              delta=usd(rule.get("spend_usd", 0.0)), delta_color="off", delta_arrow="off")
    file = by.get("file", {})
    c3.metric("Team named by the file", pct(100 * file.get("spend_share", 0.0)), border=True,
              delta=usd(file.get("spend_usd", 0.0)), delta_color="off", delta_arrow="off",
              help="No rule sets a team there; the source's own team field (e.g. a LiteLLM team alias) is kept.")
    if u["share"] > 0:
        st.caption("To assign the rest, add a rule for its projects or keys: the **Explore** page grouped by project "
                   "with the filter team = unassigned lists them.")
    sql_behind(svc.QUERIES["coverage"])


def matches_section(start: dt.date, end: dt.date) -> None:
    st.markdown("**Per rule**")
    df = svc.rule_matches(run, start, end)
    if df.is_empty():
        st.info("No rules yet, so every team comes from the files or is *unassigned*. Add rules above.")
        sql_behind(svc.QUERIES["matches"])
        return
    num = st.column_config.NumberColumn
    summary_table(
        df, download="attribution-rule-matches",
        column_order=["position", "field", "pattern", "team", "workload", "status", "shadowed_by_text",
                      "matched_rows", "decided_rows", "decided_requests", "decided_spend_usd", "projects_sample",
                      "api_keys_sample"],
        column_config={
            "position": num("#", format="%d", help="The order rules are tried in (priority, then table order)."),
            "field": st.column_config.TextColumn("Field"),
            "pattern": st.column_config.TextColumn("Pattern"),
            "team": st.column_config.TextColumn("Team"),
            "workload": st.column_config.TextColumn("Workload"),
            "status": st.column_config.TextColumn("Status", help=STATUS_HELP),
            "matched_rows": num("Rows matched", format="localized", help="Ledger rows its pattern matches."),
            "decided_rows": num("Rows decided", format="localized",
                                help="Rows whose team or workload this rule sets (it is the first match)."),
            "decided_requests": num("Requests decided", format="localized"),
            "decided_spend_usd": num("Spend decided", format="dollar"),
            "shadowed_by_text": st.column_config.TextColumn(
                "Shadowed by", help="Rules (#) that decide rows this rule matches but does not decide."),
            "projects_sample": st.column_config.TextColumn("Projects (sample)"),
            "api_keys_sample": st.column_config.TextColumn("API keys (sample)"),
        },
    )
    shadowed = df.filter(df["status"] == "shadowed")
    if shadowed.height:
        names = ", ".join(f"#{r['position']} `{r['field']} = {r['pattern']}` (behind {r['shadowed_by_text']})"
                          for r in shadowed.iter_rows(named=True))
        st.warning(f"**Shadowed rules change nothing:** {names}. Give them a lower priority number than the rule "
                   "in front, or remove them.", icon=":material/layers:")
    st.caption(STATUS_HELP + ". Spend is billed where reported, else list.")
    sql_behind(svc.QUERIES["matches"])


def quality_section() -> None:
    st.subheader("Quality: workload × model")
    flash(FLASH_KEY, "quality")
    st.caption("Scores in [0, 1] the what-if simulator uses to report the quality a routing mix keeps. The shipped "
               "defaults come from public benchmarks (one benchmark per workload block, so compare scores only "
               "within a block; `*` is any workload). Saved scores win over the defaults model by model; a "
               "scenario's own `assumptions.quality` wins over both.")
    frame = svc.quality_table(run)
    st.markdown("**Saved scores**")
    columns = {
        "workload": st.column_config.TextColumn("Workload", required=True, help="e.g. chat, coding, or * for any."),
        "model": st.column_config.TextColumn("Model", required=True, help="Catalog model id."),
        "score": st.column_config.NumberColumn("Score", min_value=0.0, max_value=1.0, step=0.01, format="%.2f",
                                               required=True),
        "source": st.column_config.TextColumn("Source", help="Benchmark, shadow sample or judgement."),
        "as_of": st.column_config.DateColumn("As of", format="YYYY-MM-DD"),
    }
    edited = rows_or_editor(
        frame, "quality", state.warehouse().data_version, columns=columns, download="quality-scores",
        empty="No saved scores yet: the simulator uses the defaults below. Switch on **Edit in a table** to score a "
              "model on your own evaluation.",
        empty_editing="No saved scores yet: the simulator uses the defaults below. Add a row to score a model on "
                      "your own evaluation.")
    if edited is not None:
        save_button("Save quality scores", "quality_save",
                    lambda: svc.save_quality(state.warehouse(), edited),
                    lambda n: f"Saved {n:,} quality scores.",
                    flash_key=FLASH_KEY, section="quality", type="primary")
    sql_behind(svc.QUERIES["quality"])
    defaults = svc.quality_defaults()
    workloads = sorted(set(defaults["workload"]))
    st.markdown("**Shipped defaults** (`simulate/quality_defaults.yaml`)")
    picked = st.segmented_control("Workload block", workloads, default=workloads[0], key="quality_workload")
    shown = defaults.filter(defaults["workload"] == picked) if picked else defaults
    if shown.height:
        first = shown.row(0, named=True)
        if picked:
            st.caption(f"{first['benchmark']} — {first['source']}, {first['date']}.")
    summary_table(shown.sort("score", descending=True), height=280, download="quality-defaults",
                 column_order=["model", "score"] if picked else
                 ["workload", "model", "score", "benchmark", "source", "date"],
                 column_config={"workload": st.column_config.TextColumn("Workload"),
                                "model": st.column_config.TextColumn("Model"),
                                "score": st.column_config.ProgressColumn("Score", format="%.2f", min_value=0.0,
                                                                         max_value=1.0)})


def render() -> None:
    st.title("Attribution & quality")
    selected = state.date_range()
    rules_section()
    if selected is None:
        st.info("No usage loaded yet, so no rule matches anything. Load an export on **Upload & data**; rules "
                "saved now apply to it as it loads.")
    else:
        start, end = selected
        st.subheader(f"What the rules decide: {day_span(start, end)}")
        coverage_section(start, end)
        matches_section(start, end)
    quality_section()


auth.require("analyst")   # the router hides this page from viewers; check again
try:
    render()
except ModelMixError as e:
    show_error(e)
