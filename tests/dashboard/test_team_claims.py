"""Team limits from the identity provider (issue 18, item 1): group claims map to teams as well as roles
(`modelmix-team-<name>`, or a mapping file), only teams the ledger knows count, and a claim naming none of them
is denied (fail closed). AppTest with simulated OIDC claims and trusted-header groups; one real-browser test
with the groups header set by the browser, as a sign-in proxy would."""

from __future__ import annotations

import pytest

from dashboard import auth
from dashboard.components.formatting import usd
from header_proxy import HeaderProxy
from test_browser import served_app
from test_dashboard_auth import (APP, RANGE, assert_no_data, copy, ledger, metric,  # noqa: F401 -- fixtures
                                 session, texts)
from warehouse import Warehouse, users
from warehouse.errors import ConfigError


def test_claim_teams():
    assert users.claim_teams(["modelmix-viewer", "Modelmix-Team-legal", "staff"]) == ["legal"]
    assert users.claim_teams("modelmix-viewer, modelmix-team-legal,modelmix-team-ops") == ["legal", "ops"]
    assert users.claim_teams(["modelmix-viewer", "staff"]) is None           # names no team: not restricted
    assert users.claim_teams(["modelmix-team-"]) is None
    assert users.claim_teams(["OKTA-Legal"], team_map={"okta-legal": ["legal", "compliance"]}) == \
        ["compliance", "legal"]
    assert users.claim_teams(["acme-team-x"], prefix="acme-") == ["x"]


def test_team_map_file(tmp_path):
    good = tmp_path / "teams.yaml"
    good.write_text("groups:\n  okta-legal: legal\n  finance-all: [legal, platform]\n")
    assert users.load_team_map(good) == {"okta-legal": ["legal"], "finance-all": ["legal", "platform"]}
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups:\n  okta-legal: {team: legal}\n")
    with pytest.raises(ConfigError, match="groups.okta-legal"):
        users.load_team_map(bad)


def test_role_for_with_team_claims(ledger):
    with Warehouse(ledger["template"]) as wh:
        u = users.role_for(wh, "new@example.com", claim=["modelmix-viewer", "modelmix-team-LEGAL"])
        assert (u.role, u.teams) == ("viewer", ("legal",))           # the ledger's spelling
        u = users.role_for(wh, "new@example.com", claim=["modelmix-viewer", "modelmix-team-legal",
                                                          "modelmix-team-nosuch"])
        assert u.teams == ("legal",)                                  # unknown teams never widen anything
        with pytest.raises(users.UnknownTeam, match="nosuch"):
            users.role_for(wh, "new@example.com", claim=["modelmix-viewer", "modelmix-team-nosuch"])
        u = users.role_for(wh, "new@example.com", claim=["modelmix-analyst", "modelmix-team-legal"])
        assert (u.role, u.teams) == ("analyst", None)                 # analysts change the whole ledger
        u = users.role_for(wh, "legal@example.com", claim=["modelmix-viewer", "modelmix-team-nosuch"])
        assert u.teams == ("legal",)                                  # a users-table row wins over claims


@pytest.mark.slow
def test_oidc_group_claim_restricts_a_viewer_to_its_team(session, ledger, monkeypatch):
    e = ledger["expected"]
    monkeypatch.setenv("MODELMIX_ROLE_CLAIM", "groups")
    at = session(email="newcomer@example.com", claims={"groups": ["staff", "modelmix-viewer", "modelmix-team-legal"]})
    assert not at.exception and not at.error
    assert "Signed in as **newcomer@example.com** · viewer · legal" in texts(at.sidebar, "caption")
    assert metric(at, "Spend") == usd(e["legal"])


def test_mapping_file_maps_a_group_to_teams(session, ledger, monkeypatch, tmp_path):
    e = ledger["expected"]
    mapping = tmp_path / "teams.yaml"
    mapping.write_text("groups:\n  okta-legal-readers: legal\n")
    monkeypatch.setenv("MODELMIX_ROLE_CLAIM", "groups")
    monkeypatch.setenv("MODELMIX_TEAM_CLAIM_MAP", str(mapping))
    at = session(email="reader@example.com", claims={"groups": ["modelmix-viewer", "okta-legal-readers"]})
    assert not at.exception and not at.error
    assert "reader@example.com** · viewer · legal" in texts(at.sidebar, "caption")
    assert metric(at, "Spend") == usd(e["legal"])


def test_a_claim_naming_no_known_team_is_denied(session, monkeypatch):
    monkeypatch.setenv("MODELMIX_ROLE_CLAIM", "groups")
    at = session(email="stray@example.com", claims={"groups": ["modelmix-viewer", "modelmix-team-no-such-team"]})
    assert_no_data(at)
    assert "No known team" in at.error[0].value and "no-such-team" in at.error[0].value


@pytest.mark.slow
def test_trusted_header_groups_restrict_a_viewer(session, ledger, monkeypatch):
    e = ledger["expected"]
    monkeypatch.setenv("MODELMIX_TRUSTED_HEADER", "X-Forwarded-Email")
    monkeypatch.setenv("MODELMIX_ROLE_CLAIM", "X-Forwarded-Groups")
    monkeypatch.setattr(auth, "request_headers", lambda: {"X-Forwarded-Email": "proxy-user@example.com",
                                                          "X-Forwarded-Groups": "modelmix-viewer,modelmix-team-legal"})
    at = session(APP)
    assert not at.exception
    assert "proxy-user@example.com** · viewer · legal" in texts(at.sidebar, "caption")
    assert metric(at, "Spend") == usd(e["legal"])
    monkeypatch.setattr(auth, "request_headers", lambda: {"X-Forwarded-Email": "proxy-user2@example.com",
                                                          "X-Forwarded-Groups": "modelmix-viewer,modelmix-team-x"})
    at = session(APP)
    assert_no_data(at)
    assert "No known team" in at.error[0].value


@pytest.mark.slow
@pytest.mark.browser
def test_real_browser_groups_header_restricts_a_viewer(ledger, tmp_path):
    """Chromium through a sign-in proxy that adds the email and groups headers (tests/header_proxy.py): the groups
    give the viewer role and team legal; the Overview shows legal's spend. Groups naming an unknown team: denied,
    no figures."""
    import shutil

    db = shutil.copy(ledger["template"], tmp_path / "l.duckdb")
    env = {"MODELMIX_TRUSTED_HEADER": "X-Forwarded-Email", "MODELMIX_ROLE_CLAIM": "X-Forwarded-Groups",
           "MODELMIX_WARM_UP": "false"}
    viewer = {"X-Forwarded-Email": "browser-viewer@example.com",
              "X-Forwarded-Groups": "staff,modelmix-viewer,modelmix-team-legal"}
    stray = {"X-Forwarded-Email": "browser-stray@example.com",
             "X-Forwarded-Groups": "modelmix-viewer,modelmix-team-nosuch"}
    with served_app(db, tmp_path, **env) as (browser, url):
        port = int(url.rsplit(":", 1)[1])
        with HeaderProxy(port, viewer) as proxy:
            page = browser.new_page()
            page.goto(proxy.url + "/")
            try:
                page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
            except Exception:
                pytest.fail(page.locator("body").inner_text()[:2000])
            page.get_by_text("browser-viewer@example.com").first.wait_for(timeout=30_000)
            assert "viewer · legal" in page.locator('[data-testid="stSidebar"]').inner_text()
            kpi = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("Spend", exact=True))
            kpi.first.wait_for(timeout=60_000)
            assert usd(ledger["expected"]["legal"]) in kpi.first.inner_text()
            assert page.locator('[data-testid="stException"]').count() == 0
            page.close()
        with HeaderProxy(port, stray) as proxy:
            page = browser.new_page()
            page.goto(proxy.url + "/")
            page.get_by_text("No known team").first.wait_for(timeout=60_000)
            assert page.locator('[data-testid="stMetric"]').count() == 0
            page.close()
