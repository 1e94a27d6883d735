"""A file ModelMix can't read is described, never quoted (docs/reliability.md). `modelmix ingest /etc/shadow` run
as root printed the file's first line (a password hash) as the "columns seen" of its "format not recognised"
error. The rule: a message quotes text of a file only when the file was recognised as what it was given as; an
unrecognised one is described by its container, how many names it holds and those of its names that are
ModelMix's own column names. Checked through the load job, the Upload page's inspection, the Upload page
itself, `modelmix ingest --json`, and the other files a command reads (configuration, scenario, mapping, team
mapping, jobs, shadow and router scores), including their parsers' errors, which print the offending line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dashboard.services import upload as svc
from ingest import ingest_paths
from ingest.formats import KNOWN_COLUMNS, describe
from ingest.formats.base import Sample

SECRET = "S3CRET"   # every hostile file below holds it; no message may
FILES = {
    "shadow": f"root:$6${SECRET}hash.x9:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n",
    "passwd.csv": f"root:x:0:0:{SECRET}:/root:/bin/bash\n",
    "key.txt": f"sk-proj-{SECRET}abc123\n",
    "pairs.csv": f"alice,{SECRET}hunter2\nbob,pw2\n",
    "env.tsv": f"API_KEY={SECRET}\tDB=postgres://u:{SECRET}@h/db\n",
    "keys.json": json.dumps({f"sk-{SECRET}": {"token": f"{SECRET}x"}, "n": 1}),
    "lines.jsonl": json.dumps({f"{SECRET}_key": 1}) + "\n" + json.dumps({f"{SECRET}_key": 2}) + "\n",
    "dupes.csv": f"{SECRET},{SECRET}\n1,2\n",     # a repeated header name is checked only once the format is known
}


def hostile(tmp_path: Path) -> list[Path]:
    out = []
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
        out.append(tmp_path / name)
    table = pa.table({f"{SECRET}_column": [1], "model": ["gpt-4o"]})
    pq.write_table(table, tmp_path / "cols.parquet")
    return [*out, tmp_path / "cols.parquet"]


def test_the_load_job_describes_an_unrecognised_file_without_quoting_it(wh, tmp_path):
    files = hostile(tmp_path)
    results = ingest_paths(wh, files)
    assert [r.status for r in results] == ["rejected"] * len(files)
    for path, r in zip(files, results):
        assert r.error.startswith(f"{path}: format not recognised (read as "), r.error
        assert SECRET not in r.error, r.error
    by_name = {Path(r.path).name: r.error for r in results}
    assert "read as CSV, comma-separated: 1 column name, not one that ModelMix knows" in by_name["shadow"]
    assert "read as CSV, tab-separated: 2 column names, none that ModelMix knows" in by_name["env.tsv"]
    assert "read as JSON: 1 key name, not one that ModelMix knows" in by_name["lines.jsonl"]
    # a known name is shown, the unknown one only counted
    assert "read as Parquet: 2 column names; ModelMix knows model; the other 1 not shown" in by_name["cols.parquet"]
    assert wh.sql("select count(*) from ingest_log").item() == 0


def test_known_column_names_are_shown_others_counted():
    assert {"ts", "model", "cost_usd", "date", "slug", "usage"} <= KNOWN_COLUMNS
    text = describe(Sample("csv", frozenset({"Date", "Model", "Spend secret", "x"}), delimiter=";"))
    assert text.startswith("read as CSV, semicolon-separated: 4 column names; ModelMix knows Date, Model; the "
                           "other 2 not shown")
    assert "secret" not in text.lower().split("shown")[0] and "x," not in text
    assert describe(Sample("json", frozenset())) == "read as JSON: no key names"


def test_a_repeated_header_name_is_named_once_the_format_is_known(wh, tmp_path):
    path = tmp_path / "dupe.csv"
    path.write_text("ts,provider,model,model,input_tokens,output_tokens,cost_usd\n"
                    "2026-03-01T10:00:00Z,openai,gpt-4o,gpt-4o-mini,1,1,0.1\n")
    [r] = ingest_paths(wh, [path])
    assert r.status == "rejected" and "duplicate column name(s) 'model'" in r.error
    [ins] = svc.inspect(path, "dupe.csv")
    assert ins.format_id == "canonical" and "duplicate column name(s) 'model'" in ins.error and not ins.ready


def test_the_upload_inspection_shows_no_text_of_an_unrecognised_file(tmp_path):
    for path in hostile(tmp_path):
        [ins] = svc.inspect(path, path.name)
        assert ins.format_id is None and not ins.ready
        assert ins.error.startswith("format not recognised (read as ") and SECRET not in ins.error
        assert ins.preview is None and ins.preview_text is None      # no preview of its rows either
        # picking a format is saying what the file is: then its first rows are shown, as for any export
    [ins] = svc.inspect(tmp_path / "pairs.csv", "pairs.csv", format_id="canonical")
    assert ins.preview is not None and ins.missing


def test_the_upload_page_shows_no_text_of_an_unrecognised_file(tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from warehouse import Warehouse

    Warehouse(tmp_path / "l.duckdb").close()
    monkeypatch.setenv("MODELMIX_DB", str(tmp_path / "l.duckdb"))
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py"), default_timeout=90)
        at.run()
        at.switch_page("views/upload.py").run()
        files = hostile(tmp_path)
        at.file_uploader[0].set_value([(p.name if p.suffix else p.name + ".txt", p.read_bytes(), "text/plain")
                                       for p in files]).run()
        assert not at.exception
        shown = [e.value for kind in ("error", "markdown", "caption", "code", "info", "warning")
                 for e in at.get(kind)] + [e.label for e in at.expander]
        shown += [df.value.to_csv() for df in at.dataframe]
        assert sum("format not recognised" in s for s in shown) == len(files)
        assert not [s for s in shown if SECRET in s]
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


@pytest.mark.slow
def test_the_command_line_answers_without_the_file_text(tmp_path):
    import subprocess

    files = hostile(tmp_path)
    p = subprocess.run([sys.executable, "-m", "modelmix", "ingest", *map(str, files), "--db",
                        str(tmp_path / "l.duckdb"), "--json"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    answer = json.loads(p.stdout)
    assert [f["status"] for f in answer["files"]] == ["rejected"] * len(files)
    assert SECRET not in p.stdout + p.stderr


# --- the other files a command reads: configuration, scenario, mapping, team mapping, jobs, scores ---------
def _loaders():
    from finance import budgets, whole_bill
    from ingest.formats import mapped
    from pull import jobs
    from simulate import router, scenario, shadow
    from warehouse import config, users

    return {
        "rules": config.load_rules_file, "overrides": config.load_overrides_file,
        "aliases": config.load_aliases_file, "budgets": budgets.load_budgets_file,
        "subscriptions": whole_bill.load_subscriptions_file, "scenario": scenario.load_scenario,
        "mapping": mapped.load_mapping, "team map": users.load_team_map, "jobs": jobs.load_jobs,
        "shadow": shadow.load, "router": router.load,
    }


# what each hostile text is to a YAML reader: keys that are the file's lines; a parse error at a line holding
# the secret (PyYAML's message prints that line); a CSV whose header is the secret
TEXTS = {
    "keys.yaml": f"root:$6${SECRET}hash:20228:0:99999:7:::\ndaemon:*:20228:::\n",
    "broken.yaml": f"name: x\npassword: {SECRET}: [\n",
    "alias.yaml": f"name: *{SECRET}alias\n",
    "tabs.yaml": f"name: x\n\t{SECRET}: 1\n",
    "header.csv": f"{SECRET},{SECRET}2\n1,2\n",
    "broken.json": f'{{"{SECRET}": }}',
}


@pytest.mark.parametrize("kind", list(_loaders()))
def test_configuration_files_are_not_quoted_when_not_recognised(tmp_path, kind):
    from warehouse.errors import ModelMixError

    load = _loaders()[kind]
    for name, text in TEXTS.items():
        path = tmp_path / name
        path.write_text(text)
        try:
            load(path)
        except ModelMixError as e:
            assert SECRET not in str(e), (kind, name, str(e))
            assert "Traceback" not in str(e)
        except KeyError as e:    # a loader's lookup of a required key of a recognised file
            pytest.fail(f"{kind} {name}: {e!r}")
        else:
            pytest.fail(f"{kind} accepted {name}")


def test_a_wrong_file_replaces_no_rules(wh, tmp_path):
    """`modelmix rules FILE` replaces the rules with the file's: a file with no `rules:` list (a wrong file) used
    to be read as no rules, emptying the table; now it is refused and the rules stay."""
    from warehouse import config
    from warehouse.errors import ConfigError

    good = tmp_path / "rules.yaml"
    good.write_text("rules:\n  - {field: project, pattern: '^alpha', team: legal}\n")
    config.replace_rules(wh, config.load_rules_file(good))
    wrong = tmp_path / "wrong.yaml"
    for text in (f"root:$6${SECRET}:1:::\n", "", "# nothing\n", "budgets: []\n"):
        wrong.write_text(text)
        with pytest.raises(ConfigError, match="has no `rules:` list") as e:
            config.load_rules_file(wrong)
        assert SECRET not in e.value.message
    assert wh.sql("select count(*) from attribution_rules").item() == 1
    wrong.write_text("rules: []\n")                 # emptying on purpose still works
    assert config.load_rules_file(wrong) == []
