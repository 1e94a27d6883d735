"""Users & audit (admins only): who may sign in and as what (an editable table, validated, saved in one
transaction with an audit row per change), and the audit log (who did what, when) with filters and a CSV export.

Thin by design: widgets -> one service call per visual -> render."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import auth, state
from dashboard.components.formatting import day_span
from dashboard.components.widgets import edit_toggle, editor, sql_behind, summary_table
from dashboard.services import ModelMixError
from dashboard.services import users as svc

run = state.run_query
FLASH_KEY = "users_flash"
EVERYONE = "Everyone"
EVERY_ACTION = "Every action"
AUDIT_DAYS = 30


def users_section() -> None:
    st.subheader("Users")
    saved = st.session_state.pop(FLASH_KEY, None)
    if saved:
        st.success(saved)
    st.caption("Who may sign in, and as what. An email with no row here is refused (unless MODELMIX_ADMINS lists "
               "it, or the identity provider's role claim grants a role). Teams restrict a viewer to those teams' "
               "spend on every page; leave them empty for every team. Saving applies all changes in one step, "
               "each recorded in the audit log.")
    with st.expander("What each role may do"):
        summary_table(svc.role_table(), column_config={"role": "Role", "may": "May"}, download="modelmix-roles")
    frame = svc.users_table(run)
    wh = state.warehouse()
    columns = ["email", "role", "teams", "added_at", "added_by"]
    labels = {
        "email": st.column_config.TextColumn("Email", required=True, help="As the sign-in gives it; "
                                             "stored lower-case."),
        "role": st.column_config.SelectboxColumn("Role", options=list(svc.ROLES), required=True),
        "added_at": st.column_config.DatetimeColumn("Added (UTC)", format="YYYY-MM-DD HH:mm"),
        "added_by": st.column_config.TextColumn("Added by"),
    }
    teams_help = "Only for viewers: they see only these teams' spend. Empty: every team."
    # read as a light table; the editor (the data grid, 1.5 MB of JavaScript) is drawn when asked for
    if not edit_toggle("users_edit"):
        if frame.is_empty():
            st.caption("No users yet: switch on **Edit in a table** and add a row. Add yourself as an admin first.")
        else:
            summary_table(frame, column_order=columns, download="modelmix-users", column_config={
                **labels, "teams": st.column_config.ListColumn("Teams (viewers)", help=teams_help)})
        sql_behind(svc.QUERIES["users"])
        return
    edited = editor(
        frame, num_rows="dynamic", hide_index=True, width="stretch", key=f"users_editor_{wh.data_version}",
        disabled=["added_at", "added_by"], column_order=columns,
        column_config={**labels, "teams": st.column_config.MultiselectColumn(
            "Teams (viewers)", options=svc.team_options(run, frame), accept_new_options=True, help=teams_help)})
    if frame.is_empty():
        st.caption("No users yet: add a row above (the + under the table). Add yourself as an admin first.")
    if st.button("Save users", type="primary", key="users_save", icon=":material/save:"):
        try:
            message = svc.save(state.warehouse(), frame, edited)
        except ModelMixError as e:
            st.error(f"**{e.title}** — {e.message}")
        else:
            st.session_state[FLASH_KEY] = message
            st.rerun()
    sql_behind(svc.QUERIES["users"])


def audit_section() -> None:
    st.subheader("Audit log")
    st.caption("Every sign-in, upload, removal, price, rule, quality, budget, scenario and user change: who, when "
               "(UTC) and what. Written in the same transaction as the change, so a change is never missing from "
               "it.")
    wh = state.warehouse()
    today = dt.datetime.now(dt.UTC).date()
    c1, c2, c3 = st.columns([2, 2, 2], vertical_alignment="bottom")
    default = (today - dt.timedelta(days=AUDIT_DAYS - 1), today)
    held = st.session_state.get("audit_days") or default
    # the calendar in a popover whose button shows the days: its JavaScript loads only when it is opened
    with c1.popover(f"Days (UTC): {day_span(held[0], held[-1])}", icon=":material/calendar_month:", width="stretch"):
        picked = st.date_input("Days (UTC)", value=default, format="YYYY-MM-DD", key="audit_days")
    start, end = (picked[0], picked[-1]) if picked else (None, None)
    actor = c2.selectbox("Who", [EVERYONE, *svc.actors(wh)], key="audit_actor")
    action = c3.selectbox("Action", [EVERY_ACTION, *svc.AUDIT_ACTIONS], key="audit_action",
                          format_func=lambda a: a if a == EVERY_ACTION else f"{a} — {svc.AUDIT_ACTIONS[a]}")
    log = svc.audit_table(wh, start, end, None if actor == EVERYONE else actor,
                          None if action == EVERY_ACTION else action)
    if log.is_empty():
        st.info("Nothing recorded for these filters. Widen the days, or pick everyone and every action.")
    else:
        summary_table(log, height=500,
                     column_order=["occurred_at", "actor", "what", "target", "detail"], column_config={
                         "occurred_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                         "actor": "Who", "what": "What", "target": "On", "detail": "Detail"})
        st.download_button(f"Download these {log.height:,} rows (CSV)", svc.audit_csv(log),
                           file_name=f"modelmix-audit-{start}-{end}.csv", mime="text/csv", key="audit_csv",
                           icon=":material/download:")
    sql_behind(svc.QUERIES["audit"])


st.title("Users & audit")
auth.require("admin")
try:
    users_section()
    audit_section()
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
