"""Small Streamlit pieces shared by pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard.services import sql_text
from warehouse.errors import ModelMixError


SHOW_SQL_KEY = "show_sql"     # dashboard.state.SHOW_SQL_KEY: the sidebar toggle app.py draws


def sql_behind(name: str, label: str = "SQL behind this") -> None:
    """The expander under a chart or table showing the named query it comes from, so a figure can be audited;
    drawn while the sidebar's "Show SQL" toggle is on (off by default, so a page is not a column of "SQL"
    expanders). A page run on its own, without the router's sidebar, shows them."""
    if not st.session_state.get(SHOW_SQL_KEY, True):
        return
    with st.expander(label):
        st.caption(f"`sql/queries/{name}.sql` — parameters are bound, never spliced into the text.")
        st.code(sql_text(name), language="sql")


def show_error(e: ModelMixError) -> None:
    st.error(f"**{e.title}** — {e.message}")


def flash(flash_key: str, section: str) -> None:
    """The confirmation of a save, shown in the section that saved (the page reruns after a save)."""
    saved = st.session_state.get(flash_key)
    if saved and saved[0] == section:
        del st.session_state[flash_key]
        st.success(saved[1])


def save_button(label: str, key: str, save: Callable[[], int], done: Callable[[int], str], *, flash_key: str,
                section: str, **button: Any) -> None:
    """A button that runs the write `save()` (it returns how many rows it saved). A ModelMixError is shown where
    the button is; on success `done(n)` is kept for `flash` and the page reruns, so every view reads the saved
    state and the editor starts fresh."""
    if not st.button(label, key=key, **button):
        return
    try:
        n = save()
    except ModelMixError as e:
        show_error(e)
        return
    st.session_state[flash_key] = (section, done(n))
    st.rerun()
