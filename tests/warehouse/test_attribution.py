"""Attribution rules map project / key / user / model patterns to team and workload, applied at read time."""

from __future__ import annotations

import pytest

from ingest import ingest_paths
from warehouse import config

HEADER = "ts,provider,model,project,api_key,team,input_tokens,output_tokens"


def test_rules_apply_without_reingest_and_first_match_wins(wh, csv_file, tmp_path):
    ingest_paths(wh, [csv_file(HEADER,
                               "2026-01-01T00:00:00Z,openai,gpt-4o,support-bot,k1,,10,1",
                               "2026-01-01T00:00:00Z,openai,gpt-4o,support-email,k2,,10,1",
                               "2026-01-01T00:00:00Z,openai,gpt-4o-mini,research,k3,from-file,10,1",
                               "2026-01-01T00:00:00Z,openai,gpt-4o-mini,misc,k4,,10,1")])
    assert set(wh.sql("select team from usage").to_series()) == {"unassigned", "from-file"}
    rules = tmp_path / "rules.yaml"
    rules.write_text("""rules:
  - {field: project, pattern: "SUPPORT-EMAIL", team: email-ops, priority: 10}
  - {field: project, pattern: "support-*", team: support, workload: chat, priority: 20}
  - {field: model, pattern: "gpt-4o-mini*", workload: extraction}
""")
    config.replace_rules(wh, config.load_rules_file(rules))
    got = dict((p, (t, w)) for p, t, w in wh.sql("select project, team, workload from usage").rows())
    assert got == {
        "support-bot": ("support", "chat"),
        "support-email": ("email-ops", "chat"),
        "research": ("from-file", "extraction"),
        "misc": ("unassigned", "extraction"),
    }
    assert wh.sql("select count(distinct team) from usage_daily").item() == 4
    config.replace_rules(wh, [])
    assert wh.sql("select count(*) from usage where team = 'support'").item() == 0


def test_bad_rule_is_named(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {field: project, pattern: 'a*', team: x}\n  - {field: colour, pattern: 'a*', team: y}\n")
    with pytest.raises(config.ConfigError, match="entry 2, field field"):
        config.load_rules_file(rules)
