"""warehouse/users.py (validation, changes with their audit rows, the last-admin rule, role resolution) and the
`modelmix users` / `modelmix audit` commands as real subprocesses."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from test_cli import run
from warehouse import Warehouse, users
from warehouse.errors import ConfigError, ModelMixError, PermissionDenied
from warehouse.users import UserError


def test_validation_normalises_and_explains():
    u = users.user("  Ann.Lee@Example.COM ", " Viewer ", ["legal", " support ", "legal", ""])
    assert (u.email, u.role, u.teams) == ("ann.lee@example.com", "viewer", ("legal", "support"))
    assert users.user("a@b.co", "viewer", "x, y").teams == ("x", "y")      # comma-separated text
    assert users.user("a@b.co", "viewer", []).teams is None                 # empty: every team
    assert users.user("a@b.co", "admin", None).at_least("analyst")
    assert not users.user("a@b.co", "viewer").at_least("analyst")
    for email, role, teams, message in [
        ("ann", "viewer", None, "email: 'ann' is not an email address"),
        ("a b@c.de", "viewer", None, "is not an email address"),
        ("a@b.co", "boss", None, "role: 'boss' is not a role; use one of viewer, analyst, admin"),
        ("a@b.co", "analyst", ["legal"], "only a viewer can be restricted to teams"),
        ("a@b.co", "viewer", ["x" * 201], "longer than 200 characters"),
    ]:
        with pytest.raises(UserError, match=message) as e:
            users.user(email, role, teams)
        assert isinstance(e.value, ConfigError) and e.value.title == "Invalid user"


def test_save_change_remove_each_audited(wh):
    users.save(wh, "Ann@x.com", "admin")
    users.save(wh, "bob@x.com", "viewer", ["legal"])
    users.save(wh, "bob@x.com", "analyst")           # a change keeps when/who added the row
    listed = users.list_users(wh)
    assert listed.select("email", "role", "teams").rows() == [("ann@x.com", "admin", None),
                                                               ("bob@x.com", "analyst", None)]
    assert set(listed["added_by"]) == {wh.actor} and wh.actor.startswith("cli:")
    assert users.get(wh, "BOB@x.com") == users.user("bob@x.com", "analyst")
    users.remove(wh, "bob@x.com")
    assert users.get(wh, "bob@x.com") is None
    log = users.audit_log(wh)
    assert log.select("action", "target").rows() == [("user_remove", "bob@x.com"), ("user_edit", "bob@x.com"),
                                                       ("user_edit", "bob@x.com"), ("user_edit", "ann@x.com")]
    assert json.loads(log["detail"][1]) == {"role": "analyst", "teams": None, "was": "viewer"}
    assert json.loads(log["detail"][2]) == {"role": "viewer", "teams": ["legal"], "was": None}
    with pytest.raises(ModelMixError, match="no user zed@x.com"):
        users.remove(wh, "zed@x.com")


def test_the_last_admin_stays(wh):
    users.save(wh, "ann@x.com", "admin")
    users.save(wh, "bob@x.com", "viewer")
    before = users.audit_log(wh).height
    for change in (lambda: users.remove(wh, "ann@x.com"), lambda: users.save(wh, "ann@x.com", "analyst"),
                   lambda: users.apply(wh, [users.user("bob@x.com", "analyst")], ["ann@x.com"])):
        with pytest.raises(UserError, match="ann@x.com is the last admin") as e:
            change()
        assert e.value.title == "Last admin"
    # refused as a whole: bob was not changed either, and no audit row was written
    assert users.list_users(wh).select("email", "role").rows() == [("ann@x.com", "admin"), ("bob@x.com", "viewer")]
    assert users.audit_log(wh).height == before
    # with a second admin in the same change, the first may go
    users.apply(wh, [users.user("bob@x.com", "admin")], ["ann@x.com"])
    assert users.list_users(wh).select("email", "role").rows() == [("bob@x.com", "admin")]
    with pytest.raises(UserError, match="appears twice"):
        users.apply(wh, [users.user("bob@x.com", "admin")], ["bob@x.com"])


def test_role_for_in_order_and_fail_closed(wh):
    users.save(wh, "ann@x.com", "admin")
    users.save(wh, "val@x.com", "viewer", ["legal"])
    assert users.role_for(wh, "VAL@x.com") == users.user("val@x.com", "viewer", ["legal"])
    assert users.role_for(wh, "nobody@x.com") is None                       # not registered
    assert users.role_for(wh, "") is None and users.role_for(wh, "not-an-email") is None
    # MODELMIX_ADMINS wins over the table (the operator's bootstrap)
    assert users.role_for(wh, "val@x.com", admins=["", " Val@X.com "]).role == "admin"
    # a claim only for emails without a row; the highest role it names wins
    assert users.role_for(wh, "new@x.com", claim=["staff", "ModelMix-Analyst", "modelmix-viewer"]).role == "analyst"
    assert users.role_for(wh, "new@x.com", claim="staff, modelmix-admin").role == "admin"
    assert users.role_for(wh, "new@x.com", claim="staff") is None
    assert users.role_for(wh, "new@x.com", claim=["acme-admin"], claim_prefix="acme-").role == "admin"
    assert users.role_for(wh, "val@x.com", claim="modelmix-admin").role == "viewer"   # the table decides
    assert users.claim_role(None) is None and users.claim_role(42) is None


def test_sign_in_row_keeps_the_data_version_and_caches(wh):
    version = wh.data_version
    users.record_sign_in(wh, "val@x.com", "oidc", "viewer", ("legal",))
    assert wh.data_version == version
    row = users.audit_log(wh, action="sign_in").row(0, named=True)
    assert (row["actor"], row["action"]) == ("val@x.com", "sign_in")
    assert json.loads(row["detail"]) == {"mode": "oidc", "role": "viewer", "teams": ["legal"]}
    users.save(wh, "ann@x.com", "admin")
    assert wh.data_version > version                 # a real change still bumps it


def test_read_only_and_restricted_views_refuse_writes(wh):
    for view in (wh.as_user("val@x.com", read_only=True), wh.as_user("val@x.com", ["legal"])):
        with pytest.raises(PermissionDenied):
            users.save(view, "eve@x.com", "admin")
    assert users.list_users(wh).is_empty() and users.audit_log(wh).is_empty()


def test_audit_log_filters(wh):
    users.save(wh, "ann@x.com", "admin")
    users.record_sign_in(wh, "ann@x.com", "oidc", "admin")
    wh.cursor().execute("update audit_log set occurred_at = timestamp '2026-01-05 10:00' where action = 'user_edit'")
    assert users.audit_log(wh, actor="ann@x.com")["action"].to_list() == ["sign_in"]
    assert users.audit_log(wh, action="user_edit")["target"].to_list() == ["ann@x.com"]
    day = dt.date(2026, 1, 5)
    assert users.audit_log(wh, start=day, end=day)["action"].to_list() == ["user_edit"]   # end is inclusive
    assert users.audit_log(wh, start=day + dt.timedelta(days=1), end=day).is_empty()
    with pytest.raises(ConfigError, match="unknown action 'nope'"):
        users.audit_log(wh, action="nope")


# --- the command line ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_users(tmp_path):
    db = str(tmp_path / "l.duckdb")
    p = run("users", "list", "--db", db)
    assert p.returncode == 0 and "No users" in p.stdout and "modelmix users add EMAIL --role admin" in p.stdout
    p = run("users", "add", "Ann@X.com", "--role", "admin", "--db", db)
    assert p.returncode == 0 and "ann@x.com: admin" in p.stderr
    p = run("users", "add", "val@x.com", "--role", "viewer", "--team", "legal", "--team", "support", "--db", db)
    assert p.returncode == 0 and "val@x.com: viewer, teams legal, support" in p.stderr
    p = run("users", "list", "--db", db)
    assert "ann@x.com" in p.stdout and "legal, support" in p.stdout
    # errors: one line, exit 1 (refused) or 2 (usage); no traceback
    for args, code, message in [
        (("add", "ann", "--role", "admin"), 1, "Invalid user: email: 'ann' is not an email address"),
        (("add", "x@x.com", "--role", "analyst", "--team", "legal"), 1, "only a viewer can be restricted"),
        (("remove", "ann@x.com"), 1, "Last admin: ann@x.com is the last admin"),
        (("remove", "zed@x.com"), 1, "No such user"),
        (("add", "x@x.com", "--role", "boss"), 2, "invalid choice: 'boss'"),
        (("add", "x@x.com"), 2, "--role"),
    ]:
        p = run("users", *args, "--db", db)
        assert p.returncode == code and message in p.stderr and "Traceback" not in p.stderr, (args, p.stderr)
    assert run("users", "remove", "val@x.com", "--db", db).returncode == 0
    with Warehouse(db) as wh:
        assert users.list_users(wh)["email"].to_list() == ["ann@x.com"]
        log = users.audit_log(wh)
    assert set(log["actor"]) == {f"cli:{__import__('getpass').getuser()}"}
    assert log["action"].to_list() == ["user_remove", "user_edit", "user_edit"]


@pytest.mark.slow
def test_cli_audit_filters_and_csv_neutralised(tmp_path):
    db = tmp_path / "l.duckdb"
    with Warehouse(db) as wh:
        users.save(wh, "ann@x.com", "admin")
        users.record_sign_in(wh, "=HYPERLINK(\"http://evil\")@x.com", "header", "viewer")
        users.record_sign_in(wh, "ann@x.com", "oidc", "admin")
        wh.cursor().execute("update audit_log set occurred_at = timestamp '2026-01-05 10:00' where action = 'user_edit'")
    p = run("audit", "--db", str(db))
    assert p.returncode == 0 and "sign_in" in p.stdout and "user_edit" in p.stdout
    p = run("audit", "--db", str(db), "--since", "2026-01-06")
    assert "user_edit" not in p.stdout and "sign_in" in p.stdout
    p = run("audit", "--db", str(db), "--since", "2026-01-05", "--until", "2026-01-05")
    assert "user_edit" in p.stdout and "sign_in" not in p.stdout
    out = tmp_path / "audit.csv"
    p = run("audit", "--db", str(db), "--action", "sign_in", "--csv", str(out))
    assert p.returncode == 0 and "wrote 2 audit row(s)" in p.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["actor"] for r in rows] == ["ann@x.com", "'=HYPERLINK(\"http://evil\")@x.com"]
    assert not any(v[:1] in "=+-@" for r in rows for v in r.values() if v)
    p = run("audit", "--db", str(db), "--action", "nope")
    assert p.returncode == 1 and "unknown action 'nope'" in p.stderr
    assert run("audit", "--db", str(db), "--since", "yesterday").returncode == 2
