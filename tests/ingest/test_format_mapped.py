"""mapped-csv: any CSV plus a YAML mapping file. The Acme gateway example in docs/examples/ loads with
hand-checked rows; bad mapping files are refused naming the key; hostile column names and constants stay data."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ingest import formats, ingest_paths, read
from ingest.formats.mapped import MappingError, build, load_mapping
from ingest.read import SourceFile

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "acme_gateway.csv"
MAPPING = ROOT / "docs" / "examples" / "acme_gateway.mapping.yaml"
COLS = ("ts, granularity, provider, model, project, team, operation, service_tier, requests, input_tokens, "
        "cache_read_tokens, cache_write_tokens, output_tokens, cost_usd")


def _one(wh, path, fmt):
    [result] = ingest_paths(wh, [path], fmt=fmt)
    return result


def test_example_loads_with_units_cents_and_cache_split(wh):
    r = _one(wh, EXAMPLE, load_mapping(MAPPING))
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("mapped-csv", "loaded", 24, 0)
    # acme-0008: created 1793680095542 ms; prompt_k 1.784 includes cached_k 1.024; completion_k 0.081; 0.1267 cents
    frame = wh.sql(f"select {COLS} from usage_raw where ts = timestamp '2026-11-03 04:28:15.542'")
    assert frame.rows(named=True) == [{
        "ts": datetime(2026, 11, 3, 4, 28, 15, 542000), "granularity": "request", "provider": "acme-gateway",
        "model": "claude-haiku-4-5", "project": "ledger-bot", "team": "finance-ops", "operation": "chat",
        "service_tier": "standard", "requests": 1, "input_tokens": 760, "cache_read_tokens": 1024,
        "cache_write_tokens": 0, "output_tokens": 81, "cost_usd": Decimal("0.001267"),
    }]


def test_example_is_never_auto_detected_and_loads_once(wh, tmp_path):
    assert formats.detect(read.sample(SourceFile(EXAMPLE, EXAMPLE.name, "none"))) is None
    fmt = load_mapping(MAPPING)
    first = _one(wh, EXAMPLE, fmt)
    copy = tmp_path / "again.csv"
    copy.write_bytes(EXAMPLE.read_bytes() + b"\n")
    again = _one(wh, copy, fmt)
    assert (again.rows_loaded, again.rows_duplicate) == (0, first.rows_loaded)


def test_missing_mapped_column_and_bad_value_name_the_source_column(wh, tmp_path):
    fmt = load_mapping(MAPPING)
    text = EXAMPLE.read_text()
    no_cost = tmp_path / "no_cost.csv"
    no_cost.write_text(text.replace("cost_cents", "cost_eur", 1))
    r = _one(wh, no_cost, fmt)
    assert r.status == "rejected" and r.error.endswith("missing required column(s) cost_cents for format mapped-csv")
    lines = text.splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[6], "n/a")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    r = _one(wh, bad, fmt)
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 23, 1)
    assert wh.sql("select row_number, column_name, value from ingest_rejects").row(0) == (3, "cost_cents", "n/a")


def test_strptime_pattern_and_hostile_names_stay_data(wh, tmp_path):
    hostile = 'x"; drop table usage_raw; --'
    path = tmp_path / "gw.csv"
    path.write_text(f'when,"{hostile.replace(chr(34), chr(34) * 2)}",in,out\n'
                    "03/11/2026 14:05:09,gpt-4o-mini,100,20\n", encoding="utf-8")
    fmt = build({"columns": {"when": "ts", hostile: "model", "in": "input_tokens", "out": "output_tokens"},
                 "time_format": "%d/%m/%Y %H:%M:%S", "constants": {"provider": "o'hare'); drop table x; --"}})
    r = _one(wh, path, fmt)
    assert (r.status, r.rows_loaded) == ("loaded", 1)
    assert wh.sql("select ts, provider, model, input_tokens from usage_raw").row(0) == \
        (datetime(2026, 11, 3, 14, 5, 9), "o'hare'); drop table x; --", "gpt-4o-mini", 100)


@pytest.mark.parametrize("doc, message", [
    ({"columns": {"t": "ts", "m": "model", "x": "tokens_in"}, "constants": {"provider": "p"}},
     "columns.x: 'tokens_in' is not a canonical column"),
    ({"columns": {"t": "ts", "m": "model", "i": "input_tokens"}, "constants": {"provider": "p"},
      "scale": {"input_tokens": "thousand"}}, "scale.input_tokens: scale must be a number"),
    ({"columns": {"t": "ts", "m": "model"}, "constants": {"provider": "p"}, "scale": {"model": 2}},
     "scale.model: only numeric columns"),
    ({"columns": {"t": "ts", "m": "model"}, "constants": {"provider": "p"}, "time_format": "%Y'; drop"},
     "time_format:"),
    ({"columns": {"t": "ts", "m": "model"}, "constants": {"provider": "p"}, "time_format": "%Q"},
     "time_format:"),
    ({"columns": {"t": "ts", "m": "model"}}, "nothing fills 'provider'"),
    ({"columns": {"t": "ts", "m": "model"}, "constants": {"provider": "p"}, "colums": {}}, "unknown key 'colums'"),
])
def test_bad_mapping_is_refused_naming_the_key(doc, message):
    with pytest.raises(MappingError, match=None) as err:
        build(doc)
    assert message in err.value.message


@pytest.mark.slow
def test_cli_mapping_option(tmp_path):
    db = tmp_path / "cli.duckdb"
    run = lambda *a: subprocess.run([sys.executable, "-m", "modelmix", *a], capture_output=True, text=True,  # noqa: E731
                                    cwd=ROOT, timeout=120)
    ok = run("ingest", str(EXAMPLE), "--mapping", str(MAPPING), "--db", str(db), "--json")
    assert ok.returncode == 0, ok.stderr
    [file] = json.loads(ok.stdout)["files"]
    assert (file["format"], file["rows_loaded"]) == ("mapped-csv", 24)
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {t: ts, m: model}\nconstants: {provider: p}\nscale: {cost_usd: lots}\n")
    refused = run("ingest", str(EXAMPLE), "--mapping", str(bad), "--db", str(db))
    assert refused.returncode == 2 and "scale.cost_usd" in refused.stderr


def test_session_id_column_is_stored_and_is_not_content(wh, tmp_path):
    """A mapped `session_id` column fills usage_raw.session_id (blank = none), which the simulator's views carry; a
    reload of the same rows without the column is not a restatement (metadata), and a constant is refused."""
    head = "id,when,model,in,out"
    rows = ["r-1,2026-11-03T10:00:00Z,gpt-4o,100,10", "r-2,2026-11-03T10:01:00Z,gpt-4o,200,20",
            "r-3,2026-11-03T10:02:00Z,gpt-4o,300,30"]
    with_s = tmp_path / "with.csv"
    with_s.write_text(head + ",thread\n" + "\n".join(f"{r},{s}" for r, s in zip(rows, ["t-9", "t-9", ""])) + "\n")
    cols = {"when": "ts", "model": "model", "in": "input_tokens", "out": "output_tokens"}
    fmt = build({"columns": {**cols, "thread": "session_id"}, "constants": {"provider": "acme"}, "key": "id"})
    assert fmt.sessions
    assert _one(wh, with_s, fmt).rows_loaded == 3
    assert wh.sql("select session_id from usage_raw order by ts").to_series().to_list() == ["t-9", "t-9", None]
    assert wh.sql("select count(session_id) from usage_replay").item() == 2
    without = tmp_path / "without.csv"
    without.write_text(head + "\n" + "\n".join(rows) + "\n")
    plain = build({"columns": cols, "constants": {"provider": "acme"}, "key": "id"})
    assert not plain.sessions
    again = _one(wh, without, plain)
    assert (again.rows_loaded, again.rows_duplicate, again.rows_replaced) == (0, 3, 0)
    assert wh.sql("select session_id from usage_raw order by ts").to_series().to_list() == ["t-9", "t-9", None]
    with pytest.raises(MappingError, match="constants.session_id: a session id must come from a column"):
        build({"columns": cols, "constants": {"provider": "acme", "session_id": "s"}})
