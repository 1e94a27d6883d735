"""ModelMix dashboard: the router. Page config, the pages in the sections the signed-in person's role may see,
and the sidebar every page shares (`sidebar.py`: who is signed in, the date range, the Show SQL toggle). Pages
live in `views/`; everything they show comes from `services/`. Each page with a write action checks the role
again (`auth.require`).

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

from dashboard import sidebar

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
SECTION_ROLE = {"Spend": "viewer", "Finance": "viewer", "Simulate": "viewer", "Data": "analyst",
                "Configure": "analyst", "Admin": "admin"}

user = sidebar.draw()      # the person (or a sign-in / denied screen), then the sidebar's widgets

# expanded: every section and page listed (collapsed, Streamlit hides the last ones behind "View N more")
st.navigation({name: listed for name, listed in pages.items() if user.at_least(SECTION_ROLE[name])},
              expanded=True).run()
