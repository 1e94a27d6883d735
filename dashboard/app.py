"""ModelMix dashboard: the router. Page config, who is signed in (`auth`), the pages in the sections their role
may see, and the one cross-page widget (the date range in the sidebar). Pages live in `views/`; everything they
show comes from `services/`. Each page with a write action checks the role again (`auth.require`).

The folder is not called `pages/`: a `pages/` folder beside the entry script puts a freshly started Streamlit
in its file-based page mode, where the first visitor's direct URL (`/whatif`) runs the page file alone,
without this router, its navigation or the signed-in person."""

from __future__ import annotations

# pandas before anything draws: Plotly (the charts' library until issue 15) found pandas by looking in sys.modules,
# so while one session's thread was still importing it, another's chart (first visitors of a fresh server, all at
# once) met a half-initialised module ("partially initialized module 'pandas' has no attribute 'Series'"); kept
# because Streamlit's table and chart data conversion still imports pandas lazily in each session's thread
import pandas  # noqa: F401
import streamlit as st

from dashboard import auth, state
from dashboard.services import ledger
from warehouse.errors import ModelMixError

st.set_page_config(page_title="ModelMix", layout="wide")

pages = {
    "Spend": [
        st.Page("views/overview.py", title="Overview", icon=":material/monitoring:", default=True),
        st.Page("views/explore.py", title="Explore", icon=":material/query_stats:"),
    ],
    "Finance": [
        st.Page("views/budgets.py", title="Budgets & forecast", icon=":material/savings:"),
        st.Page("views/anomalies.py", title="Anomalies", icon=":material/troubleshoot:"),
        st.Page("views/reconciliation.py", title="Reconciliation", icon=":material/receipt_long:"),
        st.Page("views/chargeback.py", title="Chargeback", icon=":material/account_balance:"),
    ],
    "Simulate": [
        st.Page("views/whatif.py", title="What-if", icon=":material/tune:"),
        st.Page("views/outlook.py", title="Outlook", icon=":material/timeline:"),
    ],
    "Data": [
        st.Page("views/upload.py", title="Upload & data", icon=":material/upload_file:"),
        st.Page("views/sources.py", title="Sources", icon=":material/cloud_sync:"),
    ],
    "Configure": [
        st.Page("views/prices.py", title="Prices", icon=":material/sell:"),
        st.Page("views/attribution.py", title="Attribution & quality", icon=":material/rule:"),
    ],
    "Admin": [
        st.Page("views/users.py", title="Users & audit", icon=":material/admin_panel_settings:"),
    ],
}
# the lowest role that sees each section: viewers read; analysts load and configure; admins manage people
TYPED_KEY, TYPED_ERROR_KEY = "date_typed", "date_typed_error"   # the typed-range box and its last error
SECTION_ROLE = {"Spend": "viewer", "Finance": "viewer", "Simulate": "viewer", "Data": "analyst",
                "Configure": "analyst", "Admin": "admin"}

try:
    user = auth.current_user()      # or a sign-in / denied screen, and the script stops
    bounds = ledger.date_bounds(state.run_query)
except ModelMixError as e:
    st.error(f"**{e.title}** — {e.message}")
    st.stop()

auth.banner(user)
with st.sidebar:
    st.markdown("### ModelMix")
    st.caption("AI spend ledger and routing simulator")
    auth.sidebar(user)
    if bounds is None:
        st.caption("No usage loaded yet, so there is no date range to pick.")
        state.set_date_range(None)
    else:
        first, last = bounds

        def apply_preset() -> None:     # a preset sets the range widget's value before it is drawn again
            picked = st.session_state.get("date_preset")
            if picked:
                st.session_state[state.DATE_WIDGET_KEY] = ledger.preset_range(picked, first, last)

        st.pills("Period", ledger.PRESETS, key="date_preset", on_change=apply_preset,
                 help=f"Counted back from the ledger's last day with usage ({last:%-d %b %Y}).")
        state.seed_date_widget(first, last)
        picked = st.date_input(
            "Date range",
            key=state.DATE_WIDGET_KEY,
            min_value=first,
            max_value=last,
            format="YYYY-MM-DD",
            help=f"The ledger holds usage from {first:%d %b %Y} to {last:%d %b %Y}. "
                 f"The default is its last {ledger.DEFAULT_WINDOW_DAYS} days.",
        )
        # while a range is being picked the widget holds only its start
        start, end = (picked[0], picked[-1]) if picked else ledger.default_range(first, last)
        state.set_date_range((start, end))

        def apply_typed() -> None:      # Enter in the box applies the range typed (the picker needs clicks)
            typed = st.session_state.get(TYPED_KEY, "").strip()
            st.session_state.pop(TYPED_ERROR_KEY, None)
            if not typed:
                return
            try:
                st.session_state[state.DATE_WIDGET_KEY] = ledger.parse_range(typed, first, last)
                st.session_state["date_preset"] = None
                st.session_state[TYPED_KEY] = ""
            except ValueError as e:
                st.session_state[TYPED_ERROR_KEY] = str(e)

        st.text_input("Or type dates, then Enter", key=TYPED_KEY, on_change=apply_typed,
                      placeholder="2026-09-01 – 2026-09-30, or Sep 2026",
                      help="A range (start – end), one day, or a month such as Sep 2026 or 2026-09; Enter applies it.")
        if error := st.session_state.get(TYPED_ERROR_KEY):
            st.caption(f":red[{error[0].upper() + error[1:]}.]")
        st.caption(f"Data from {first:%d %b %Y} to {last:%d %b %Y}")
    st.toggle("Show SQL", key=state.SHOW_SQL_KEY, value=False,
              help="Show the query behind each figure, under it, so any number can be audited.")

# expanded: every section and page listed (collapsed, Streamlit hides the last ones behind "View N more")
st.navigation({name: listed for name, listed in pages.items() if user.at_least(SECTION_ROLE[name])},
              expanded=True).run()
