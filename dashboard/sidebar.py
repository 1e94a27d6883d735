"""What every page shows around itself: who is signed in (`auth`) and the sidebar's cross-page widgets (the date
range with its presets and typed box, the "Show SQL" toggle). `app.py` draws it before its navigation; the
browser bench (bench/browser.py) draws it around an empty page, as the "sidebar floor" a page is compared with."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, state
from dashboard.auth import User
from dashboard.components.formatting import day_span
from dashboard.services import ledger
from warehouse.errors import ModelMixError

TYPED_KEY, TYPED_ERROR_KEY = "date_typed", "date_typed_error"   # the typed-range box and its last error
PRESET_KEY = "date_preset"
CALENDAR_KEY = "date_calendar"      # the sidebar's calendar picker (its key also names the range it shows)


def draw() -> User:
    """Resolve the person (or show a sign-in / denied screen and stop), then draw the sidebar; returns the person."""
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
            date_range(*bounds)
        st.toggle("Show SQL", key=state.SHOW_SQL_KEY, value=False,
                  help="Show the query behind each figure, under it, so any number can be audited.")
    return user


def date_range(first, last) -> None:
    """The period every page reads: presets, the range picker, a typed range (Enter applies it)."""

    def apply_preset() -> None:     # a preset sets the range widget's value before it is drawn again
        picked = st.session_state.get(PRESET_KEY)
        if picked:
            st.session_state[state.DATE_WIDGET_KEY] = ledger.preset_range(picked, first, last)

    st.pills("Period", ledger.PRESETS, key=PRESET_KEY, on_change=apply_preset,
             help=f"Counted back from the ledger's last day with usage ({last:%-d %b %Y}).")
    state.seed_date_widget(first, last)
    held = st.session_state[state.DATE_WIDGET_KEY]      # the range every page reads (kept inside the ledger's days)
    start, end = held[0], held[-1]
    # The calendar sits in a popover whose button shows the range: Streamlit mounts a popover's content only when
    # it is opened, so a new tab of any page no longer loads and runs the date picker's 0.24 MB of JavaScript
    # (docs/benchmarks.md, "eighth session"). The range lives under DATE_WIDGET_KEY, not in the picker: a picker
    # the browser no longer shows keeps sending the value it last had, which would undo a preset, a typed range
    # or an upload's reset; so the picker is keyed by the range it shows (a new range, a new picker) and a whole
    # range picked on it is copied over (its first click holds only the start: nothing changes until the end).
    calendar_key = f"{CALENDAR_KEY}_{start}_{end}"

    def apply_calendar() -> None:
        picked = st.session_state.get(calendar_key)
        if picked and len(picked) == 2:
            st.session_state[state.DATE_WIDGET_KEY] = (min(picked), max(picked))
            st.session_state[PRESET_KEY] = None

    with st.popover(day_span(start, end), icon=":material/calendar_month:", width="stretch",
                    help="The period every page shows: open to pick it on a calendar."):
        st.date_input(
            "Date range",
            value=(start, end),
            key=calendar_key,
            on_change=apply_calendar,
            min_value=first,
            max_value=last,
            format="YYYY-MM-DD",
            help=f"The ledger holds usage from {first:%d %b %Y} to {last:%d %b %Y}. "
                 f"The default is its last {ledger.DEFAULT_WINDOW_DAYS} days.",
        )
    state.set_date_range((start, end))

    def apply_typed() -> None:      # Enter in the box applies the range typed (the picker needs clicks)
        typed = st.session_state.get(TYPED_KEY, "").strip()
        st.session_state.pop(TYPED_ERROR_KEY, None)
        if not typed:
            return
        try:
            st.session_state[state.DATE_WIDGET_KEY] = ledger.parse_range(typed, first, last)
            st.session_state[PRESET_KEY] = None
            st.session_state[TYPED_KEY] = ""
        except ValueError as e:
            st.session_state[TYPED_ERROR_KEY] = str(e)

    st.text_input("Or type dates, then Enter", key=TYPED_KEY, on_change=apply_typed,
                  placeholder="2026-09-01 – 2026-09-30, or Sep 2026",
                  help="A range (start – end), one day, or a month such as Sep 2026 or 2026-09; Enter applies it.")
    if error := st.session_state.get(TYPED_ERROR_KEY):
        st.caption(f":red[{error[0].upper() + error[1:]}.]")
    st.caption(f"Data from {first:%d %b %Y} to {last:%d %b %Y}")
