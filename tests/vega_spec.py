"""Reading the dashboard's Vega-Lite charts in tests: a builder's spec (a dict, datasets as polars frames) or an AppTest element
(`at.get("vega_lite_chart")`) as plain dicts, each layer with the rows it draws, so tests assert on what a reader
sees (series and their colours, axis titles and formats, values, marks) rather than on Altair's objects."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa


def _rows(arrow: bytes) -> list[dict]:
    """Arrow IPC bytes as row dicts, dates and times as ISO text (as Altair's own `to_dict` gives them)."""
    return _rows_of(pa.ipc.open_stream(arrow).read_all().to_pylist())


def _frame_rows(df) -> list[dict]:
    if isinstance(df, list):
        return df
    return _rows_of(df.to_arrow().to_pylist())


def _rows_of(rows: list[dict]) -> list[dict]:
    return [{k: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for k, v in r.items()} for r in rows]


def spec(chart) -> dict:
    """The Vega-Lite spec with every named dataset as a list of row dicts under spec["datasets"]."""
    if isinstance(chart, dict):                       # a builder's spec: datasets as polars frames
        out = dict(chart)
        out["datasets"] = {name: _frame_rows(d) for name, d in chart.get("datasets", {}).items()}
        return out
    proto = chart.proto                               # an AppTest vega_lite_chart element
    out = json.loads(proto.spec)
    datasets = out.setdefault("datasets", {})
    for d in proto.datasets:
        datasets[d.name] = _rows(d.data.data)
    if proto.data.data:
        out["data"] = {"values": _rows(proto.data.data)}
    return out


def charts(at) -> list[dict]:
    """Every chart of an AppTest run, in page order, as `spec`."""
    return [spec(c) for c in at.get("vega_lite_chart")]


def layers(s: dict) -> list[dict]:
    """The unit specs of a (possibly layered) chart, each with `rows`: the data it draws (its own or inherited)."""
    s = spec(s) if not isinstance(s, dict) or any(not isinstance(d, list) for d in s.get("datasets", {}).values()) else s
    datasets = s.get("datasets", {})

    def rows_of(data, inherited):
        if not data:
            return inherited
        if "values" in data:
            return data["values"]
        return datasets.get(data.get("name"), [])

    out = []

    def walk(unit, inherited):
        rows = rows_of(unit.get("data"), inherited)
        if "layer" in unit:
            for child in unit["layer"]:
                walk(child, rows)
        else:
            out.append({**unit, "rows": rows})

    walk(s, [])
    return out


def mark(unit: dict) -> str:
    m = unit.get("mark")
    return m["type"] if isinstance(m, dict) else m


def colour_scale(s: dict) -> dict[str, str]:
    """Legend entry -> colour, over every layer with a colour scale of its own (domain and range)."""
    out = {}
    for unit in layers(s):
        sc = unit.get("encoding", {}).get("color", {}).get("scale", {})
        out.update(zip(sc.get("domain", []), sc.get("range", []), strict=False))
    return out


def series(s: dict, field: str = "series") -> list[str]:
    """The distinct values of `field` over every layer's rows, in order of first appearance."""
    seen: dict[str, None] = {}
    for unit in layers(s):
        for row in unit["rows"]:
            if field in row and row[field] is not None:
                seen.setdefault(row[field], None)
    return list(seen)


def encoding(s: dict, channel: str) -> list[dict]:
    """The `channel` encoding of every layer that has one."""
    return [u["encoding"][channel] for u in layers(s) if channel in u.get("encoding", {})]


def text(s: dict) -> str:
    """Everything the chart can show as words: titles, formats, row values (for `in` checks)."""
    return json.dumps(s, default=str)
