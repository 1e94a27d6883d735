"""Small Streamlit pieces shared by pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard.services import sql_text
from warehouse.errors import ModelMixError


SHOW_SQL_KEY = "show_sql"     # dashboard.state.SHOW_SQL_KEY: the sidebar toggle app.py draws
MISSING = "—"                 # what every table shows for a missing value (Streamlit's default is a grey "None")


DIGIT_PX, PAD_PX, HEADER_PAD_PX = 6.8, 20, 26     # the grid's 14 px font: ~7 px a digit; cell padding


def _fit_widths(data: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Money and count columns as wide as their widest value as displayed (and their header). The grid sizes a
    column on a sample of its values and then shares the table's width out, which cut "$1,751.65" to
    "1,751.65" in a ten-column table; text columns keep the grid's own sizing. A width set by the page wins."""
    import polars as pl

    from dashboard.components.formatting import usd

    if not isinstance(data, pl.DataFrame) or data.is_empty():
        return config
    out = dict(config)
    for name, cfg in config.items():
        if not isinstance(cfg, dict) or cfg.get("width") is not None or name not in data.columns:
            continue
        kind, fmt = (cfg.get("type_config") or {}).get("type"), (cfg.get("type_config") or {}).get("format")
        col = data[name].drop_nulls()
        if kind != "number" or fmt not in ("dollar", "localized") or not col.dtype.is_numeric() or col.is_empty():
            continue
        shown = [usd(v) if fmt == "dollar" else f"{v:,.0f}" for v in (col.min(), col.max())]
        label = str(cfg.get("label") or name)
        width = max(max(len(v) for v in shown) * DIGIT_PX + PAD_PX, len(label) * 6.8 + HEADER_PAD_PX)
        out[name] = {**cfg, "width": round(width)}
    return out


def table(data: Any, **kwargs: Any) -> Any:
    """`st.dataframe` as every page draws a table: a missing value reads "—" (never "None" or "nan"), no
    index, full width, money and count columns as wide as their widest value (`_fit_widths`: never clipped).
    Draw it inside a column with `with col: table(...)`."""
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    kwargs.setdefault("placeholder", MISSING)
    kwargs["column_config"] = _fit_widths(data, kwargs.get("column_config") or {})
    return st.dataframe(data, **kwargs)


def summary_table(data: Any, *, column_order: list[str] | None = None,
                  column_config: dict[str, Any] | None = None, height: int | None = None,
                  hide_index: bool = True, width: str = "stretch", download: str | None = None) -> None:
    """A short read-only summary (polars, at most `summary.MAX_ROWS` rows) as a light HTML table instead of the
    data grid, whose 1.5 MB of JavaScript a new tab waits for (components/summary.py). Takes `table`'s
    `column_order`, `column_config` and `height` (`hide_index` and `width` are accepted so a call switches by
    its name alone: this table has no index and fills its column). Use `table` where a reader sorts or searches;
    a summary that grows past MAX_ROWS (a ledger with hundreds of teams) is drawn in the grid for that reason.
    `download` (a file name without .csv): a table that was a grid, whose toolbar offered its rows as CSV, keeps
    that as a button under it (`download_rows`)."""
    from dashboard.components.summary import MAX_ROWS, summary_html

    if data.height > MAX_ROWS:
        table(data, column_order=column_order, column_config=column_config, height=height or "auto")
        return
    st.html(summary_html(data, column_order=column_order, column_config=column_config, height=height))
    if download:
        download_rows(data, download, column_order=column_order, column_config=column_config)


def download_rows(data: Any, name: str, *, column_order: list[str] | None = None,
                  column_config: dict[str, Any] | None = None) -> None:
    """A small "Download CSV" button for a summary table's rows: the columns it shows, under their labels, with
    their values as stored (numbers unformatted, text cells neutralised: `exports.to_csv`)."""
    from dashboard.components import exports
    from dashboard.components.summary import shown_columns

    columns = shown_columns(data, column_order, column_config)
    labels = [label for _, label in columns]
    # two columns with one label (a status table's "Budget" name and "Budget" amount) keep their names apart
    import polars as pl

    rows = data.select([
        (pl.col(c).cast(pl.List(pl.String)).list.join(", ") if isinstance(data.schema[c], pl.List) else pl.col(c))
        .alias(label if labels.count(label) == 1 else f"{label} ({c})")    # a list cell as "a, b", as shown
        for c, label in columns])
    st.download_button("Download CSV", exports.to_csv(rows), file_name=f"{name}.csv", mime="text/csv",
                       key=f"download_{name}", icon=":material/download:", type="tertiary")


def edit_toggle(key: str, label: str = "Edit in a table", *, allowed: bool = True, why_not: str | None = None) -> bool:
    """Whether a section shows its editor: a section reads as a light table until a person asks to edit. An
    editor is the data grid, 1.5 MB of JavaScript a new tab would load and run even when nobody edits
    (docs/benchmarks.md, "eighth session"), so it is one click away instead of always drawn. `allowed` False
    (a viewer): the toggle is shown disabled with `why_not` on hover."""
    return st.toggle(label, key=key, disabled=not allowed,
                     help=why_not if not allowed else "Shows the table as an editor: change cells, add or delete "
                                                      "rows, then save.")


def rows_or_editor(frame: Any, key: str, version: int, *, columns: dict[str, Any], download: str, empty: str,
                   empty_editing: str, allowed: bool = True, why_not: str | None = None,
                   editor_columns: dict[str, Any] | None = None) -> Any | None:
    """A section's saved rows, read as a light table with its Download CSV (or the sentence `empty` when there are
    none) until a person switches on "Edit in a table" (`edit_toggle(key + "_edit")`). Then the editor, keyed on
    the ledger's data `version` so a save starts a fresh editor on the saved rows, with `empty_editing` under it
    when there are none; returns its edited rows (None while reading), for the section's save button."""
    if not edit_toggle(f"{key}_edit", allowed=allowed, why_not=why_not):
        if frame.is_empty():
            st.caption(empty)
        else:
            summary_table(frame, column_config=columns, download=download)
        return None
    edited = editor(frame, num_rows="dynamic", key=f"{key}_editor_{version}", column_config=editor_columns or columns)
    if frame.is_empty():
        st.caption(empty_editing)
    return edited


def grid_toggle(key: str, label: str = "Sort in a table") -> bool:
    """Whether a long read-only list is drawn in the data grid (sort by any column, search, full screen) instead of
    its light summary: the grid's JavaScript is loaded when a person asks for it, like an editor (`edit_toggle`)."""
    return st.toggle(label, key=key, help="Shows these rows in the data grid: sort by any column, search, "
                                          "full screen.")


def editor(data: Any, **kwargs: Any) -> Any:
    """`st.data_editor` with the same missing-value text as `table` (an empty note reads "—", not "None")."""
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    kwargs.setdefault("placeholder", MISSING)
    return st.data_editor(data, **kwargs)


PRE_STYLE = ("font-family: 'Source Code Pro', monospace; font-size: 0.8rem; line-height: 1.5; margin: 0; "
             "padding: 0.75rem 1rem; border-radius: 0.5rem; background: rgba(151, 166, 195, 0.15); "
             "white-space: pre; overflow: auto")


def preformatted(text: str, max_height: int | None = None) -> None:
    """A file example or a file's first lines, monospaced as written, without `st.code`: its syntax highlighter
    is a 1.5 MB script the browser loads and runs before the page settles (even inside a collapsed expander),
    which made the pages with a "File format" example (Prices, Attribution, Budgets, Chargeback) the slowest
    to open from a new tab (docs/benchmarks.md, "Dashboard in a browser"). The text is escaped, never HTML."""
    import html

    height = f"; max-height: {max_height}px" if max_height else ""
    st.html(f'<pre style="{PRE_STYLE}{height}">{html.escape(text)}</pre>')


def show_sql() -> bool:
    """Whether the sidebar's "Show SQL" toggle is on (a page run on its own, without the router, shows SQL).
    Every expander showing a query asks this, so one toggle hides or shows them all."""
    return bool(st.session_state.get(SHOW_SQL_KEY, True))


def sql_behind(name: str, label: str = "SQL behind this") -> None:
    """The expander under a chart or table showing the named query it comes from, so a figure can be audited;
    drawn while the sidebar's "Show SQL" toggle is on (off by default, so a page is not a column of "SQL"
    expanders). A page run on its own, without the router's sidebar, shows them."""
    if not show_sql():
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
