"""Labels (migration 024): the key/value metadata a source attaches to usage - OpenTelemetry resource, scope and span
attributes, FOCUS `Tags`, GCP billing `labels` - stored on the row as metadata (not content), and attribution rules
on them (`field: label:<name>`): applied, shown per rule, counted in coverage, validated with file and entry named,
filled in on a reload of requests loaded without them, kept out of the content key."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import sql
from ingest import ingest_paths
from warehouse import config
from warehouse.db import Warehouse
from warehouse.errors import DatabaseError

ROOT = Path(__file__).resolve().parents[2]
SPANS = ROOT / "tests" / "data" / "otel" / "otel_genai_spans_labels_2026-11-20.jsonl"
FOCUS = ROOT / "sample_data" / "focus_reseller_bedrock_2026-10.csv"
GCP = ROOT / "sample_data" / "gcp_billing_export_2026-08.csv"
RESOURCE = {"deployment.environment.name": "production", "host.name": "ip-10-0-3-17",
            "k8s.cluster.name": "eu-west-prod-1", "k8s.namespace.name": "shop", "service.version": "2.4.1"}


def _one(wh, path):
    [r] = ingest_paths(wh, [path])
    assert r.status == "loaded", r.error
    return r


def _rules(wh, tmp_path, text: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    config.replace_rules(wh, config.load_rules_file(path))


def test_otel_resource_and_span_attributes_become_labels(wh):
    r = _one(wh, SPANS)
    assert (r.rows_loaded, r.rows_rejected) == (4, 0)
    got = wh.sql("select ts, project, labels from usage_raw order by ts").rows()
    assert [g[2] for g in got] == [
        # resource attributes + the span's own (server.address, an OpenLLMetry association property); gen_ai.*,
        # traceloop.entity.input (prompt text), telemetry.sdk.*, process.*, service.instance.id and the columns'
        # own attributes (service.name -> project) are not labels
        {**RESOURCE, "server.address": "api.openai.com",
         "traceloop.association.properties.customer_tier": "enterprise"},
        # the span's deployment.environment.name wins over the resource's; a 390-character value is dropped
        {**RESOURCE, "deployment.environment.name": "canary",
         "traceloop.association.properties.customer_tier": "free"},
        {**RESOURCE, "deployment.environment.name": "staging", "host.name": "ip-10-8-1-4",
         "k8s.namespace.name": "shop-staging"},
        None,   # a resource with service.name only: no labels
    ]
    # keys in sorted order: one label set is one value whatever order the exporter wrote the attributes in
    assert all(list(g[2]) == sorted(g[2]) for g in got if g[2])
    # the rollup keeps them (one row per label set per day)
    assert wh.sql("select count(distinct labels) from usage_daily").item() == 3
    assert wh.sql("select labels from usage where ts = '2026-11-20 10:00:00'").item()["k8s.namespace.name"] == \
        "shop-staging"


def test_label_rule_sets_team_and_is_reported(wh, tmp_path):
    _one(wh, SPANS)
    _rules(wh, tmp_path, """rules:
  - {field: "label:Deployment.Environment.Name", pattern: "prod*", team: shop-prod, priority: 10}
  - {field: label:k8s.namespace.name, pattern: "*-staging", team: shop-staging, workload: testing, priority: 20}
  - {field: project, pattern: "checkout-*", team: shop-other, priority: 30}
  - {field: label:no.such.label, pattern: "*", team: nobody, priority: 40}
""")
    got = wh.sql("select ts, team, workload from usage order by ts").rows()
    assert [(t, w) for _, t, w in got] == [
        ("shop-prod", "general"),       # label (name matched ignoring case) on the resource
        ("shop-other", "general"),      # the span's canary overrides production: the project rule decides
        ("shop-staging", "testing"),
        ("unassigned", "general"),      # no labels: a label rule never matches, even with pattern '*'
    ]
    # the rule as the Attribution page shows it: field as written, what it decides
    per_rule = wh.sql(sql.load("queries/attribution_rule_matches"), start="2026-11-20", end="2026-11-20")
    status = {r["field"]: (r["status"], r["decided_rows"]) for r in per_rule.iter_rows(named=True)}
    assert status == {"label:Deployment.Environment.Name": ("decides", 1), "label:k8s.namespace.name": ("decides", 1),
                      "project": ("partly shadowed", 1), "label:no.such.label": ("no match", 0)}
    cov = {r["decided_by"]: r["row_count"] for r in
           wh.sql(sql.load("queries/attribution_coverage"), start="2026-11-20", end="2026-11-20").iter_rows(named=True)}
    assert cov == {"rule": 3, "unassigned": 1}


def test_label_rule_validation_names_file_and_entry(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {field: 'label:env', pattern: 'p*', team: x}\n  - {field: 'label: ', pattern: 'a', team: y}\n")
    with pytest.raises(config.ConfigError, match=r"rules.yaml: entry 2, field field: .*`label:` needs a label name"):
        config.load_rules_file(path)
    path.write_text("rules:\n  - {field: labels.env, pattern: 'p*', team: x}\n")
    with pytest.raises(config.ConfigError, match=r"entry 1, field field: .*'labels.env' is not a rule field.*"
                                                 r"label:<name>"):
        config.load_rules_file(path)
    # a dimension in capitals is that dimension; a label keeps its name as written
    path.write_text("rules:\n  - {field: Project, pattern: 'p*', team: x}\n  - {field: 'LABEL:Env ', pattern: a, team: y}\n")
    assert [r.field for r in config.load_rules_file(path)] == ["project", "label:Env"]


def test_the_table_refuses_a_field_that_is_neither(wh):
    with pytest.raises(DatabaseError, match="CHECK constraint failed"):
        wh.write(lambda cur: cur.execute("insert into attribution_rules (field, pattern, team) "
                                         "values ('label:', 'x', 'y')"), changes_data=False)


def test_reload_with_labels_fills_rows_loaded_without(wh, tmp_path):
    """Spans loaded before their exporter added attributes (or before migration 024) get the labels when the same
    spans come again: not a restatement (no row replaced or duplicated), the dimension set re-keyed, rules apply."""
    bare = tmp_path / "bare.jsonl"
    lines = [json.loads(x) for x in SPANS.read_text().splitlines()]
    for line in lines:
        for rs in line["resourceSpans"]:
            rs["resource"]["attributes"] = [a for a in rs["resource"]["attributes"] if a["key"] == "service.name"]
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    sp["attributes"] = [a for a in sp["attributes"] if a["key"].startswith("gen_ai.")]
    bare.write_text("".join(json.dumps(x) + "\n" for x in lines))
    _rules(wh, tmp_path, "rules:\n  - {field: label:deployment.environment.name, pattern: production, team: prod}\n")
    assert _one(wh, bare).rows_loaded == 4
    assert wh.sql("select count(*) from usage_raw where labels is not null").item() == 0
    assert wh.sql("select count(*) from usage where team = 'prod'").item() == 0
    keys_before = set(wh.sql("select dim_key from usage_raw").to_series())
    r = _one(wh, SPANS)
    assert (r.rows_loaded, r.rows_duplicate, r.rows_replaced) == (0, 4, 0)
    assert wh.sql("select count(*) from usage_raw where labels is not null").item() == 3
    assert wh.sql("select count(*) from usage where team = 'prod'").item() == 1
    assert wh.sql("select count(*) from usage_daily where team = 'prod'").item() == 1
    # re-keyed rows: the three with labels have new dimension keys, the bare one keeps its own
    assert len(set(wh.sql("select dim_key from usage_raw").to_series()) - keys_before) == 3


def test_labels_are_not_content_and_null_labels_keep_old_keys(wh, csv_file):
    """A row without labels keys its dimension set as before migration 024 (hash of the eight dimensions), so
    dim_attribution of older rows stays valid; labels never enter the content key."""
    _one(wh, csv_file("ts,provider,model,project,input_tokens,output_tokens",
                      "2026-01-01T00:00:00Z,openai,gpt-4o,p1,10,1"))
    assert wh.sql("select bool_and(dim_key = hash(account, project, api_key, user_id, provider, model, team, "
                  "workload)) from usage_raw").item()
    assert "labels" not in sql.load("migrations/011_every_dollar").split("usage_content_hash")[1].split(" as")[0]


def _focus_with_tags(dst: Path) -> Path:
    rows = list(csv.reader(io.StringIO(FOCUS.read_text())))
    tags = rows[0].index("Tags")
    for row in rows[1:]:
        if row[tags]:
            row[tags] = json.dumps({"workload": "chat", "CostCenter": "CC-4410", "env": "prod", "team": "sales",
                                    "owner": {"name": "x"}, "blank": ""})
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    dst.write_text(buf.getvalue())
    return dst


def test_focus_tags_and_gcp_labels_become_labels(wh, tmp_path):
    _one(wh, _focus_with_tags(tmp_path / "focus_tagged_2026-10.csv"))
    sets = wh.sql("select distinct labels from usage_raw where source_format = 'focus' and labels is not null").rows()
    # every tag (a nested value as its JSON text, a blank one dropped), keys sorted
    assert sets == [({"CostCenter": "CC-4410", "env": "prod", "owner": '{"name":"x"}', "team": "sales",
                      "workload": "chat"},)]
    _rules(wh, tmp_path, "rules:\n  - {field: label:costcenter, pattern: 'cc-44*', team: finance-44}\n")
    assert wh.sql("select count(*) from usage where source_format = 'focus' and team = 'finance-44'").item() == \
        wh.sql("select count(*) from usage_raw where source_format = 'focus' and labels is not null").item() > 0
    _one(wh, GCP)
    gcp = wh.sql("select distinct labels from usage_raw where source_format = 'gcp-billing-export' "
                 "order by all").to_series().to_list()
    # BigQuery's repeated record [{key, value}] as written in the bundled export
    assert {"team": "data-science", "workload": "extraction"} in gcp


def test_rules_survive_the_migration(tmp_path):
    """A ledger at 023 with rules: 024 recreates attribution_rules (its field check) and keeps every rule and id."""
    import duckdb

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table schema_version (version integer primary key, applied_at timestamp)")
    for version, text in sql.migrations():
        if version < 24:
            con.execute(text)
            con.execute("insert into schema_version values (?, now())", [version])
    con.execute("insert into attribution_rules (priority, field, pattern, team) values "
                "(5, 'project', 'a*', 't1'), (7, 'model', 'gpt*', 't2')")
    with pytest.raises(duckdb.ConstraintException):   # before 024 the table refuses a label rule
        con.execute("insert into attribution_rules (field, pattern, team) values ('label:env', 'p*', 't3')")
    con.close()
    with Warehouse(path) as wh:
        assert wh.sql("select rule_id, priority, field, pattern, team from attribution_rules order by rule_id").rows() \
            == [(1, 5, "project", "a*", "t1"), (2, 7, "model", "gpt*", "t2")]
        assert "labels" in wh.sql("select * from usage_daily limit 0").columns
        wh.write(lambda cur: cur.execute("insert into attribution_rules (field, pattern, team) "
                                         "values ('label:env', 'p*', 't3')"), changes_data=False)
        assert wh.scalar("select count(*) from attribution_rules where field = 'label:env'") == 1


def test_a_restated_span_without_labels_keeps_the_older_ones(wh, tmp_path):
    """A newer export restates a span (other token counts: the newest load wins) but carries no attributes: the
    replacing row keeps the labels the replaced row had, so a label rule still decides it."""
    _rules(wh, tmp_path, "rules:\n  - {field: label:deployment.environment.name, pattern: production, team: prod}\n")
    _one(wh, SPANS)
    line = json.loads(SPANS.read_text().splitlines()[0])
    rs = line["resourceSpans"][0]
    rs["resource"]["attributes"] = [a for a in rs["resource"]["attributes"] if a["key"] == "service.name"]
    span = rs["scopeSpans"][0]["spans"][0]
    span["attributes"] = [a for a in span["attributes"] if a["key"].startswith("gen_ai.")]
    for a in span["attributes"]:
        if a["key"] == "gen_ai.usage.output_tokens":
            a["value"] = {"intValue": "121"}
    rs["scopeSpans"][0]["spans"] = [span]
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps(line) + "\n")
    r = _one(wh, newer)
    assert (r.rows_loaded, r.rows_replaced) == (1, 1)
    row = wh.sql("select output_tokens, labels, team from usage where ts = '2026-11-20 09:00:00'").row(0, named=True)
    assert (row["output_tokens"], row["labels"]["deployment.environment.name"], row["team"]) == (121, "production",
                                                                                                 "prod")


def test_a_restatement_keeps_each_missing_metadata_column_and_its_own(wh, tmp_path):
    """Session id and labels are kept column by column (writes/keep_row_metadata): the newer export of a span logs
    other labels of its own but no conversation id, so the row takes the new labels and keeps the old session id."""
    line = json.loads(SPANS.read_text().splitlines()[0])
    rs = line["resourceSpans"][0]
    span = rs["scopeSpans"][0]["spans"][0]
    rs["scopeSpans"][0]["spans"] = [span]
    span["attributes"].append({"key": "gen_ai.conversation.id", "value": {"stringValue": "conv-17"}})
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps(line) + "\n")
    _one(wh, first)
    span["attributes"] = [a for a in span["attributes"] if a["key"] != "gen_ai.conversation.id"]
    for a in span["attributes"]:
        if a["key"] == "gen_ai.usage.output_tokens":
            a["value"] = {"intValue": "121"}
    for a in rs["resource"]["attributes"]:
        if a["key"] == "deployment.environment.name":
            a["value"] = {"stringValue": "staging"}
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps(line) + "\n")
    r = _one(wh, newer)
    assert (r.rows_loaded, r.rows_replaced) == (1, 1)
    row = wh.sql("select output_tokens, session_id, labels from usage").row(0, named=True)
    assert (row["output_tokens"], row["session_id"]) == (121, "conv-17")
    assert row["labels"]["deployment.environment.name"] == "staging"


def test_focus_export_writes_labels_as_tags_and_round_trips(wh, tmp_path):
    """The FOCUS export's Tags carry the usage's labels beside team and workload; the exported file passes the
    spec row checks and, read back as FOCUS, gives the same labels."""
    from finance import chargeback, focus_check
    from warehouse import Warehouse

    _one(wh, SPANS)
    out = chargeback.export_focus(wh, "2026-11", tmp_path / "focus_2026-11.csv")
    rows = list(csv.DictReader(out.open()))
    tags = {json.loads(r["Tags"])["deployment.environment.name"] for r in rows if "deployment" in r["Tags"]}
    assert tags == {"production", "canary", "staging"}
    assert {json.loads(r["Tags"]).get("team") for r in rows} == {"unassigned"}
    assert focus_check.violations(out).is_empty()
    back = tmp_path / "back.duckdb"
    with Warehouse(back) as other:
        _one(other, out)
        got = other.sql("select distinct labels from usage_raw order by all").to_series().to_list()
    # the label sets of the spans, each with the team and workload the export adds
    assert {**RESOURCE, "deployment.environment.name": "staging", "host.name": "ip-10-8-1-4",
            "k8s.namespace.name": "shop-staging", "team": "unassigned", "workload": "general"} in got
    assert {"team": "unassigned", "workload": "general"} in got        # the span without labels


def test_a_mapped_file_fills_labels_from_columns_and_constants(wh, tmp_path):
    """mapped-csv: `columns: {env: label:environment}` and `constants: {label:source: harness}` fill labels; a blank
    cell is no label; a rule on the label decides; a label without a name is refused naming the key."""
    from ingest.formats.mapped import MappingError, build

    path = tmp_path / "harness.csv"
    path.write_text("at,model,in,out,env,cost center\n"
                    "2026-11-02T10:00:00Z,gpt-4o-mini,100,10,prod,CC-1\n"
                    "2026-11-02T11:00:00Z,gpt-4o-mini,100,10,,CC-2\n")
    fmt = build({"columns": {"at": "ts", "model": "model", "in": "input_tokens", "out": "output_tokens",
                             "env": "label:environment", "cost center": "label:cost center"},
                 "constants": {"provider": "openai", "label:source": "harness"}})
    [r] = ingest_paths(wh, [path], fmt=fmt)
    assert (r.status, r.rows_loaded) == ("loaded", 2), r.error
    assert wh.sql("select labels from usage_raw order by ts").to_series().to_list() == [
        {"cost center": "CC-1", "environment": "prod", "source": "harness"},
        {"cost center": "CC-2", "source": "harness"}]
    _rules(wh, tmp_path, "rules:\n  - {field: label:environment, pattern: prod, team: prod-team}\n")
    assert wh.sql("select team from usage order by ts").to_series().to_list() == ["prod-team", "unassigned"]
    with pytest.raises(MappingError, match=r"columns.env: label: needs a label name"):
        build({"columns": {"at": "ts", "model": "model", "env": "label: "}, "constants": {"provider": "x"}})
    with pytest.raises(MappingError, match=r"constants.label:env: label 'env' is also mapped from a column"):
        build({"columns": {"at": "ts", "model": "model", "e": "label:env"},
               "constants": {"provider": "x", "label:env": "p"}})


def test_label_map_cleans_sorts_and_keeps_the_first_of_a_repeated_key(wh):
    got = wh.sql("select label_map([{'k': ' b ', 'v': '1'}, {'k': 'a', 'v': ' 2 '}, {'k': 'b', 'v': '3'}, "
                 "{'k': ' ', 'v': 'x'}, {'k': 'c', 'v': ''}, {'k': 'd', 'v': repeat('x', 257)}, "
                 "{'k': 'e', 'v': repeat('y', 256)}]) as m").item()
    assert list(got.items()) == [("a", "2"), ("b", "1"), ("e", "y" * 256)]
    assert wh.sql("select label_map([{'k': 'z', 'v': '1'}, {'k': 'y', 'v': '2'}]) as m").item() == {"y": "2", "z": "1"}
    assert wh.sql("select label_map([{'k': 'z', 'v': ' '}]) as m").item() is None
