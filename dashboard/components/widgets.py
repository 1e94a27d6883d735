"""Small Streamlit pieces shared by pages."""

from __future__ import annotations

import streamlit as st

from dashboard.services import sql_text


def sql_behind(name: str) -> None:
    """The expander under a chart or table showing the named query it comes from, so a figure can be audited."""
    with st.expander("SQL behind this"):
        st.caption(f"`sql/queries/{name}.sql` — parameters are bound, never spliced into the text.")
        st.code(sql_text(name), language="sql")
