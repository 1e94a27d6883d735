"""A short read-only summary table as escaped HTML (drawn by `widgets.summary_table` with `st.html`) instead of
Streamlit's data grid. Pure: no Streamlit here.

The grid (`st.dataframe`) is the right tool where a reader sorts or searches many rows; for a summary of a few
dozen rows it costs a new tab 1.5 MB of JavaScript beyond a chart's (the grid, Arrow formatting, moment, numbro)
and the renderer's time to run it (docs/benchmarks.md, "Dashboard in a browser"). This table costs `st.html`'s
31 kB. It reads the same `column_order` / `column_config` a page gives `widgets.table`, so a page switches by
changing the call: labels, help (on the header's hover), number and date formats, hidden columns.

What it shows: numbers right-aligned in tabular figures, never wrapped; "—" for a missing value; long text cut
identifier (a model id, no spaces) cut with an ellipsis, the whole value on hover (`title=`), while long
prose wraps; a header that stays in view while the body scrolls; the
table scrolls sideways inside its own box rather than being clipped. Every value is escaped, never HTML.

Formatting is per cell in Python: a summary is capped at MAX_ROWS rows (a longer table belongs in the grid),
so this is display of a bounded list, not data processing."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from typing import Any

import polars as pl

from dashboard.components.formatting import usd

MISSING = "—"
MAX_ROWS = 200          # a summary a person reads; more rows need the grid's sort and search (widgets.table)
TEXT_CH = 40            # identifiers longer than this are cut with an ellipsis (the whole value on hover); prose wraps

STYLE = """<style>
.mm-summary { overflow: auto; border: 1px solid rgba(49, 51, 63, 0.1); border-radius: 0.5rem; }
.mm-summary table { border-collapse: separate; border-spacing: 0; width: 100%%; font-size: 0.875rem;
  font-variant-numeric: tabular-nums; margin: 0; }
.mm-summary th { position: sticky; top: 0; z-index: 1; background: #f8f9fb; font-weight: 600; text-align: left;
  color: rgba(49, 51, 63, 0.75); border-bottom: 1px solid rgba(49, 51, 63, 0.15); }
.mm-summary th, .mm-summary td { padding: 0.35rem 0.6rem; white-space: nowrap; }
.mm-summary th { white-space: normal; vertical-align: bottom; }
.mm-summary td { border-bottom: 1px solid rgba(49, 51, 63, 0.07); }
.mm-summary tr:last-child td { border-bottom: none; }
.mm-summary .n { text-align: right; }
.mm-summary .t { max-width: %dch; overflow: hidden; text-overflow: ellipsis; }
.mm-summary .w { white-space: normal; min-width: 16ch; }
.mm-summary th[title] { text-decoration: underline dotted rgba(49, 51, 63, 0.4); cursor: help; }
</style>""" % TEXT_CH

# moment.js date tokens (as st.column_config.DateColumn takes them) -> strftime; longest first
_DATE_TOKENS = [("YYYY", "%Y"), ("ddd", "%a"), ("MMM", "%b"), ("MM", "%m"),
                ("DD", "%d"), ("D", "{day}"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]
_DATE_RE = re.compile("|".join(t for t, _ in _DATE_TOKENS))
_PRINTF_RE = re.compile(r"%([+,]*)(\.\d+)?([dfs])")


def _strftime(fmt: str) -> str:
    return _DATE_RE.sub(lambda m: dict(_DATE_TOKENS)[m.group(0)], fmt)


def _printf(fmt: str, value: float) -> str:
    """Streamlit's printf-style number formats ("%.1f%%", "$%.4f", "%+.0f%%", "%,.2f", "%d") in Python."""
    def one(m: re.Match) -> str:
        flags, precision, kind = m.group(1), m.group(2) or "", m.group(3)
        spec = ("+" if "+" in flags else "") + ("," if "," in flags else "") + precision
        if kind == "d":
            return format(round(value), spec + "d")
        return format(value, spec + ("f" if kind == "f" else ""))
    return _PRINTF_RE.sub(one, fmt.replace("%%", "\0")).replace("\0", "%")


def _compact(value: float) -> str:
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def format_number(value: float, fmt: str | None) -> str:
    """One number as the grid would show it with `fmt` (a NumberColumn / ProgressColumn format)."""
    if fmt == "dollar":
        return usd(value)
    if fmt == "percent":
        return f"{value * 100:,.2f}%"
    if fmt == "compact":
        return _compact(value)
    if fmt in ("localized", "accounting"):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    if fmt and "%" in fmt:
        return _printf(fmt, value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{value:.0f}" if fmt == "plain" else f"{value:,.0f}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def format_cell(value: Any, kind: str | None, fmt: str | None) -> str:
    """One cell's text: "—" for missing, numbers and dates by their column's format, anything else as text."""
    if value is None or (isinstance(value, float) and value != value):
        return MISSING
    if isinstance(value, bool) or kind == "checkbox":
        return "Yes" if value else "No"
    if isinstance(value, Decimal):      # a DECIMAL money column (the ingest history's costs): shown as the grid shows it
        value = float(value)
    if isinstance(value, (int, float)) and kind in (None, "number", "progress"):
        return format_number(value, fmt)
    if isinstance(value, (dt.date, dt.datetime)):
        default = "%Y-%m-%d %H:%M" if isinstance(value, dt.datetime) else "%Y-%m-%d"
        pattern = _strftime(fmt) if fmt else default
        return value.strftime(pattern.replace("{day}", str(value.day)))
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or MISSING
    return str(value)


def _columns(data: pl.DataFrame, column_order: list[str] | None,
             column_config: dict[str, Any] | None) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """(column, label, help, kind, format) per shown column: the page's order, minus columns configured None."""
    config = column_config or {}
    out = []
    for name in column_order or data.columns:
        if name not in data.columns or (name in config and config[name] is None):
            continue
        cfg = config.get(name)
        if isinstance(cfg, str):
            cfg = {"label": cfg}
        cfg = cfg or {}
        type_config = cfg.get("type_config") or {}
        out.append((name, str(cfg.get("label") or name), cfg.get("help"), type_config.get("type"),
                    type_config.get("format")))
    return out


def shown_columns(data: pl.DataFrame, column_order: list[str] | None,
                  column_config: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(column, label) of the columns a summary shows, in its order (what a download of it holds)."""
    return [(name, label) for name, label, *_ in _columns(data, column_order, column_config)]


def summary_html(data: pl.DataFrame, *, column_order: list[str] | None = None,
                 column_config: dict[str, Any] | None = None, height: int | None = None) -> str:
    """The table's HTML (escaped; what `widgets.summary_table` draws). `data`: a polars frame of at most MAX_ROWS rows."""
    if data.height > MAX_ROWS:
        raise ValueError(f"a summary table shows at most {MAX_ROWS} rows ({data.height} given): use widgets.table")
    columns = _columns(data, column_order, column_config)
    numeric = {name for name, *_ in columns if data[name].dtype.is_numeric() and data[name].dtype != pl.Boolean}
    esc = html.escape
    head = "".join(
        f'<th data-col="{esc(name)}"' + (' class="n"' if name in numeric else "")
        + (f' title="{esc(str(help_))}"' if help_ else "") + f">{esc(label)}</th>"
        for name, label, help_, _, _ in columns)
    shown = {name: [format_cell(v, kind, fmt) for v in data[name].to_list()] for name, _, _, kind, fmt in columns}
    rows = []
    for i in range(data.height):
        cells = []
        for name, *_ in columns:
            text = esc(shown[name][i])
            if name in numeric:
                cells.append(f'<td class="n">{text}</td>')
            elif len(shown[name][i]) > TEXT_CH and " " in shown[name][i]:
                cells.append(f'<td class="w">{text}</td>')
            elif len(shown[name][i]) > TEXT_CH:
                cells.append(f'<td class="t" title="{text}">{text}</td>')
            else:
                cells.append(f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    box = f' style="max-height: {int(height)}px"' if height else ""
    return (f'{STYLE}<div class="mm-summary"{box}><table><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')

