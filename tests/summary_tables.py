"""Reading the dashboard's light summary tables (dashboard/components/summary.py) in tests: each `st.html` table
as a polars frame of the text a reader sees, one column per shown column under its data name (`data-col`),
"—" read back as missing, so tests assert on what the page shows."""

from __future__ import annotations

from html.parser import HTMLParser

import polars as pl

MISSING = "—"


class _Table(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str] = []
        self.labels: list[str] = []
        self.rows: list[list[str]] = []
        self.titles: list[list[str | None]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "th":
            self.columns.append(attrs["data-col"])
            self._cell = []
        elif tag == "tr" and self.columns:
            self.rows.append([])
            self.titles.append([])
        elif tag == "td":
            self._cell = []
            self.titles[-1].append(attrs.get("title"))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "th":
            self.labels.append("".join(self._cell))
            self._cell = None
        elif tag == "td":
            self.rows[-1].append("".join(self._cell))
            self._cell = None


def parse(markup: str) -> _Table:
    table = _Table()
    table.feed(markup)
    table.rows = [r for r in table.rows if r]
    table.titles = [t for t in table.titles if t]
    return table


def frame(markup: str) -> pl.DataFrame:
    """One summary table's shown text: columns by data name, "—" as None."""
    t = parse(markup)
    return pl.DataFrame({c: [None if r[i] == MISSING else r[i] for r in t.rows] for i, c in enumerate(t.columns)},
                        schema={c: pl.String for c in t.columns})


def tables(at) -> list[pl.DataFrame]:
    """Every summary table on an AppTest page, in page order."""
    return [frame(h.value) for h in at.html if 'class="mm-summary"' in h.value]


def labels(at) -> list[list[str]]:
    """Every summary table's header labels, in page order."""
    return [parse(h.value).labels for h in at.html if 'class="mm-summary"' in h.value]
