"""Sign-in, roles, team restriction and the audit log through AppTest with simulated people (issue 6).

OIDC sessions are simulated the way AppTest supports them: `at.secrets["auth"]` (so the app is in OIDC mode)
and `at.user` (what `st.user` returns). Trusted-header sessions replace `dashboard.auth.request_headers`, the
one seam (AppTest cannot send request headers). Expected figures come from plain SQL over the `usage` view
with the team filtered by hand, computed before the app owns the ledger file."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
import summary_tables
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import auth, state
from dashboard.components.formatting import usd
from dashboard.services import users as users_svc
from ingest import ingest_paths
from ledger_factory import build_ledger, write_usage_csv
from test_dashboard_prices import edit_and_click
from test_dashboard_upload import ROWS, canonical_csv
from warehouse import Warehouse, users

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
PAGES = ROOT / "dashboard" / "views"
LAST_DAY = dt.date(2025, 9, 17)
RANGE = (LAST_DAY - dt.timedelta(days=89), LAST_DAY)          # the sidebar's default: the last 90 days
OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
        "client_id": "modelmix", "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration"}
PEOPLE = {"admin@example.com": ("admin", None), "analyst@example.com": ("analyst", None),
          "viewer@example.com": ("viewer", None), "legal@example.com": ("viewer", ["legal"])}
SPEND = "select coalesce(sum(coalesce(cost_usd, list_cost_usd)), 0) from usage where ts >= $lo and ts < $hi"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("auth")
    db = build_ledger(folder / "ledger.duckdb", [write_usage_csv(folder / "usage.csv")])
    hi = LAST_DAY + dt.timedelta(days=1)
    with Warehouse(db) as wh:
        for email, (role, teams) in PEOPLE.items():
            users.save(wh, email, role, teams)

        def spend(lo: dt.date, team: str | None = None) -> float:
            where = "" if team is None else " and team = $team"
            return float(wh.scalar(SPEND + where, lo=lo, hi=hi, **({} if team is None else {"team": team})))

        expected = {
            "all": spend(RANGE[0]), "legal": spend(RANGE[0], "legal"),
            "legal_sept": spend(dt.date(2025, 9, 1), "legal"),
            "teams": sorted(t for (t,) in wh.sql("select distinct team from usage").rows()),
        }
    assert 0 < expected["legal"] < expected["all"] / 3       # legal is a small part of the spend
    template = shutil.copy(db, folder / "template.duckdb")   # before any session signs in to `db`
    return {"db": db, "template": Path(template), "expected": expected}


@pytest.fixture
def copy(ledger, tmp_path) -> Path:
    """A fresh copy of the ledger (no sign-ins yet) for a test that writes or counts audit rows."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(ledger["template"], db)
    return db


def close_app() -> None:
    """Drop the caches, which closes the cached warehouse so plain SQL (or the next test) can open the file."""
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def session(monkeypatch, ledger):
    """Open a script (the app, or one page) as a simulated person: an email signs in through OIDC; None is local
    single-user mode; `logged_in=False` is an OIDC session before sign-in."""
    monkeypatch.setenv("MODELMIX_DB", str(ledger["db"]))
    monkeypatch.setenv("MODELMIX_JOBS_FILE", str(ledger["db"].parent / "jobs.yaml"))

    def open_(script: str = APP, email: str | None = None, *, logged_in: bool = True, db: Path | None = None,
              claims: dict | None = None, **state) -> AppTest:
        if db is not None:
            monkeypatch.setenv("MODELMIX_DB", str(db))
        at = AppTest.from_file(script, default_timeout=120)
        if email is not None or not logged_in:
            at.secrets["auth"] = OIDC
            at.user = {"is_logged_in": logged_in, **({"email": email} if email else {}), **(claims or {})}
        for k, v in state.items():
            at.session_state[k] = v
        return at.run()

    yield open_
    close_app()


def page(name: str) -> str:
    return str(PAGES / f"{name}.py")


def texts(at: AppTest, *kinds: str) -> str:
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert len(found) == 1, (label, [m.label for m in at.metric])
    return found[0]


def assert_no_data(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.metric and not at.dataframe and not at.get("vega_lite_chart") and not at.date_input


def audit_rows(db: Path, **filters) -> pl.DataFrame:
    close_app()
    with Warehouse(db) as wh:
        return users.audit_log(wh, **filters)


# --- modes -------------------------------------------------------------------------------------------------
def test_local_mode_banner_all_pages_and_one_sign_in(session, copy):
    at = session(db=copy)
    assert not at.exception
    # a small sidebar badge, not a banner over the page; its meaning in the badge's tooltip
    [badge] = [e for e in at.sidebar.get("markdown") if "Local mode" in e.value]
    assert badge.value.startswith(":orange-badge[:material/lock_open: Local mode] :gray[· no sign-in]")
    assert "anyone who can open this address is an admin" in badge.proto.help
    main_md = "\n".join(str(e.value) for e in at.main.get("markdown"))
    assert "Local single-user mode" not in main_md and "orange-background" not in main_md
    for name, title in [("upload", "Upload & data"), ("prices", "Prices"), ("users", "Users & audit")]:
        at.switch_page(f"views/{name}.py").run()
        assert not at.exception and at.title[0].value == title
    signed = audit_rows(copy, action="sign_in")
    assert signed["actor"].to_list() == ["local"] and json.loads(signed["detail"][0])["mode"] == "local"


def test_signed_out_oidc_shows_only_the_sign_in_screen(session):
    at = session(logged_in=False)
    assert_no_data(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in with your company account" in texts(at, "markdown")
    # a page opened directly is the same screen: no identity, no data
    at = session(page("overview"), logged_in=False, modelmix_date_range=RANGE)
    assert_no_data(at) and [b.label for b in at.button] == ["Sign in"]



def test_the_sign_in_button_starts_the_oidc_flow(session, monkeypatch):
    """st.login needs Authlib (a dependency through `streamlit[auth]`); without it the click raises. AppTest's
    `at.secrets` does not reach the secrets file st.login validates, so that check and the provider's redirect URL
    are stood in for; the Authlib check and the click reaching st.login are real."""
    import authlib  # noqa: F401 -- installed with ModelMix, not only as an extra
    import streamlit.user_info as user_info

    asked = []
    monkeypatch.setattr(user_info, "validate_auth_credentials", asked.append)
    monkeypatch.setattr(user_info, "generate_login_redirect_url", lambda provider: f"/auth/login?provider={provider}")
    at = session(logged_in=False)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert asked == ["default"]
    assert_no_data(at)

def _sidebar_script() -> None:
    import streamlit as st

    from dashboard import auth

    with st.sidebar:
        auth.sidebar(auth.User("viewer@example.com", "viewer", ("legal",), "oidc"))
    st.markdown(f"logged in: {st.user.to_dict().get('is_logged_in')}")


def test_sign_out_empties_st_user_and_sends_the_browser_to_auth_logout(monkeypatch):
    """The sidebar's sign-out (AppTest reruns only the page script after the first run of an st.navigation app,
    so the sidebar widget is driven on its own). Besides emptying st.user, the run must end with the redirect to
    /auth/logout still queued for the browser: that request deletes the identity cookie and goes on to the
    provider's end-session endpoint. AppTest's runner drops queued messages at the start of a new run as the
    server does, so a rerun after st.logout() (the bug that left the session alive about 1 run in 3 in the real
    browser) fails here every time."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    redirects: list[list[str]] = []
    sent = LocalScriptRunner.forward_msgs

    def what_the_browser_gets(runner):
        msgs = sent(runner)
        redirects.append([m.auth_redirect.url for m in msgs if m.WhichOneof("type") == "auth_redirect"])
        return msgs

    monkeypatch.setattr(LocalScriptRunner, "forward_msgs", what_the_browser_gets)
    at = AppTest.from_function(_sidebar_script)
    at.user = {"is_logged_in": True, "email": "viewer@example.com"}
    at.run()
    assert "Signed in as **viewer@example.com** · viewer · legal" in texts(at.sidebar, "caption")
    assert redirects[-1] == []
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}
    assert redirects[-1] == ["/auth/logout"]


def test_providers_for_the_sign_in_buttons(monkeypatch):
    from modelmix.settings import Settings

    assert auth.providers(OIDC, Settings()) == [None]                               # flat [auth]
    named = {**OIDC, "google": {"client_id": "x"}, "okta": {"client_id": "y"}}
    assert auth.providers(named, Settings()) == ["google", "okta"]                  # a button each
    monkeypatch.setenv("MODELMIX_AUTH_PROVIDER", "okta")
    assert auth.providers(named, Settings()) == ["okta"]


@pytest.mark.parametrize("script", [APP, page("explore"), page("users")])
def test_unregistered_email_is_denied_with_no_data(session, script):
    at = session(script, "stranger@example.com", modelmix_date_range=RANGE)
    assert_no_data(at)
    assert "Not registered" in at.error[0].value and "stranger@example.com" in at.error[0].value
    assert "modelmix users add stranger@example.com" in at.error[0].value


def test_unverified_email_is_denied(session):
    at = session(email="viewer@example.com", claims={"email_verified": False})
    assert_no_data(at)
    assert "Email not verified" in at.error[0].value


@pytest.mark.slow
def test_role_claim_for_an_email_without_a_row(session, monkeypatch):
    monkeypatch.setenv("MODELMIX_ROLE_CLAIM", "groups")
    at = session(email="newcomer@example.com", claims={"groups": ["staff", "modelmix-analyst"]})
    assert not at.exception and not at.error
    assert "Signed in as **newcomer@example.com** · analyst · every team" in texts(at.sidebar, "caption")
    at.switch_page("views/upload.py").run()       # analysts see Data
    assert not at.exception and at.title[0].value == "Upload & data"


def test_admins_setting_bootstraps_the_first_admin(session, monkeypatch):
    monkeypatch.setenv("MODELMIX_ADMINS", "boss@example.com, other@example.com")
    at = session(email="Boss@Example.com")
    assert "boss@example.com** · admin" in texts(at.sidebar, "caption")
    at.switch_page("views/users.py").run()
    assert not at.exception and at.title[0].value == "Users & audit"


def test_trusted_header_without_the_header_is_denied(session, monkeypatch):
    monkeypatch.setenv("MODELMIX_TRUSTED_HEADER", "X-Forwarded-Email")
    monkeypatch.setattr(auth, "request_headers", lambda: {"Host": "spend.example.com"})
    for script in (APP, page("overview"), page("chargeback")):
        at = session(script, modelmix_date_range=RANGE)
        assert_no_data(at)
        assert "Access denied" in at.error[0].value and "X-Forwarded-Email" in at.error[0].value


@pytest.mark.slow
def test_trusted_header_signs_in_with_role_from_the_table_or_header(session, monkeypatch, copy):
    monkeypatch.setenv("MODELMIX_TRUSTED_HEADER", "X-Forwarded-Email")
    monkeypatch.setenv("MODELMIX_ROLE_CLAIM", "X-Forwarded-Groups")
    monkeypatch.setattr(auth, "request_headers", lambda: {"x-forwarded-email": "Legal@Example.com"})
    at = session(db=copy)
    assert not at.exception
    assert "Signed in as **legal@example.com** · viewer · legal" in texts(at.sidebar, "caption")
    assert "Local single-user mode" not in texts(at, "markdown")
    assert [b.label for b in at.sidebar.button] == []          # sign-out belongs to the proxy
    monkeypatch.setattr(auth, "request_headers", lambda: {"X-Forwarded-Email": "ops@example.com",
                                                          "X-Forwarded-Groups": "staff,modelmix-admin"})
    at = session(db=copy)
    assert "Signed in as **ops@example.com** · admin" in texts(at.sidebar, "caption")
    modes = [json.loads(d)["mode"] for d in audit_rows(copy, action="sign_in")["detail"]]
    assert modes == ["header", "header"]


# --- roles -------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_viewer_gets_read_sections_only_and_is_denied_on_write_pages(session):
    at = session(email="viewer@example.com")
    assert not at.exception
    assert "Signed in as **viewer@example.com** · viewer · every team" in texts(at.sidebar, "caption")
    assert [b.label for b in at.sidebar.button] == ["Sign out"]
    for name in ("upload", "sources", "prices", "attribution", "users"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):   # not in the navigation
            at.switch_page(f"views/{name}.py")
    for name in ("explore", "budgets", "chargeback", "whatif"):
        at.switch_page(f"views/{name}.py").run()
        assert not at.exception
    # opened directly (as a crafted URL would run it), each write page stops before showing anything
    for name in ("upload", "sources", "prices", "attribution", "users"):
        at = session(page(name), "viewer@example.com", modelmix_date_range=RANGE)
        assert not at.exception
        assert "Not allowed" in at.error[0].value and "needs the" in at.error[0].value, name
        assert not at.dataframe and not at.button and not at.file_uploader, name


@pytest.mark.slow
def test_viewer_buttons_that_write_are_disabled(session):
    at = session(page("budgets"), "viewer@example.com", modelmix_date_range=RANGE)
    assert not at.exception
    assert at.toggle(key="budgets_edit").disabled          # a viewer reads the budgets; no editor to open
    at = session(page("whatif"), "viewer@example.com", modelmix_date_range=RANGE,
                 whatif_results_tab="Save and export")
    assert not at.exception
    save = [b for b in at.button if b.label == "Save scenario"]
    assert len(save) == 1 and save[0].disabled
    # an analyst may save both
    at = session(page("budgets"), "analyst@example.com", modelmix_date_range=RANGE)
    assert not at.toggle(key="budgets_edit").disabled
    at.toggle(key="budgets_edit").set_value(True).run()
    assert not at.button(key="budgets_save").disabled


@pytest.mark.slow
def test_analyst_uploads_and_edits_prices_but_cannot_remove_or_manage_users(session, copy):
    at = session(email="analyst@example.com", db=copy)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/users.py")
    at.switch_page("views/upload.py").run()
    assert not at.exception and at.title[0].value == "Upload & data"
    at.file_uploader[0].set_value([("sept.csv", canonical_csv(*ROWS), "text/csv")]).run()
    at.button(key="upload_load").click().run()
    assert not at.exception
    assert at.dataframe[0].value["status"].to_list() == ["loaded"]
    # removing an upload is an admin's: the button is there, disabled, and says why
    at.selectbox(key="upload_pick").set_value(at.session_state["upload_results"][0].ingest_id).run()
    remove = at.button(key="upload_remove")
    assert remove.disabled and "Needs the admin role" in remove.help
    # prices: an override saved through the editor
    prices = session(page("prices"), "analyst@example.com", db=copy, modelmix_date_range=RANGE,
                     overrides_edit=True)      # the editor is mounted by "Edit in a table"
    added = {"provider": "openai", "model": "gpt-4o", "effective_from": "2025-01-01", "discount_pct": 10.0}
    edit_and_click(prices, "overrides_editor", {"added_rows": [added]}, "overrides_save")
    assert not prices.exception and not prices.error
    assert any("Saved 1 price overrides" in s.value for s in prices.success)
    # the users page, opened directly, refuses
    denied = session(page("users"), "analyst@example.com", db=copy)
    assert "Not allowed" in denied.error[0].value and not denied.dataframe
    log = audit_rows(copy)
    mine = log.filter(pl.col("actor") == "analyst@example.com")
    # newest first; one sign-in per session (the app, the prices page, the users page)
    assert mine["action"].to_list() == ["sign_in", "prices_edit", "sign_in", "ingest", "sign_in"]
    others = log.filter(pl.col("actor") != "analyst@example.com")
    assert all(a.startswith("cli:") for a in others["actor"])        # the fixture's load and users


@pytest.mark.slow
def test_admin_removes_an_upload(session, copy):
    with Warehouse(copy) as wh:
        tmp = copy.parent / "sept.csv"
        tmp.write_bytes(canonical_csv(*ROWS))
        [loaded] = ingest_paths(wh.as_user("analyst@example.com"), [tmp])
    at = session(page("upload"), "admin@example.com", db=copy, modelmix_date_range=RANGE,
                 upload_pick=loaded.ingest_id)
    assert not at.exception and not at.button(key="upload_remove").disabled
    at.button(key="upload_remove").click().run()
    at.button(key="upload_remove_confirm").click().run()
    assert not at.exception
    removed = audit_rows(copy, action="remove_upload")
    assert removed["actor"].to_list() == ["admin@example.com"]


# --- team restriction ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_restricted_viewer_sees_only_their_teams_spend(session, ledger):
    e = ledger["expected"]
    at = session(email="legal@example.com")
    assert not at.exception
    assert "Signed in as **legal@example.com** · viewer · legal" in texts(at.sidebar, "caption")
    assert at.date_input[0].value == RANGE
    assert metric(at, "Spend") == usd(e["legal"])
    teams = [t for t in summary_tables.tables(at) if "team" in t.columns]       # Overview's top teams
    shown_teams = {v for t in teams for v in t["team"]}
    assert teams and shown_teams == {"legal"}
    # Explore: grouped by team, one group with legal's spend
    at.session_state["explore_by"] = "team"
    at.session_state["explore_grid"] = True      # "Sort in a table": the breakdown's exact values in the grid
    at.switch_page("views/explore.py").run()
    assert not at.exception
    groups = dict(zip(at.dataframe[0].value["group_value"], at.dataframe[0].value["spend_usd"]))
    assert list(groups) == ["legal"] and groups["legal"] == pytest.approx(e["legal"], abs=1e-6)
    # Chargeback: September's statement has legal alone, at its own spend (no one else's to allocate)
    at = session(page("chargeback"), "legal@example.com", modelmix_date_range=RANGE,
                 chargeback_month="2025-09")      # not the default: September is still running
    assert not at.exception
    statement = [t for t in summary_tables.tables(at) if "allocated_usd" in t.columns][0]
    assert statement["team"].to_list() == ["legal"]
    assert statement["total_usd"].to_list() == [usd(e["legal_sept"])]
    # What-if: the baseline and the team table are legal's
    at = session(page("whatif"), "legal@example.com", modelmix_date_range=RANGE, whatif_results_tab="Impact by team")
    assert not at.exception
    impact = [t for t in summary_tables.tables(at) if "baseline_cost_usd" in t.columns][0]
    assert impact["team"].to_list() == ["legal"]
    assert metric(at, "Replay baseline") == impact["baseline_cost_usd"][0]
    full = session(page("whatif"), "viewer@example.com", modelmix_date_range=RANGE,
                   whatif_results_tab="Impact by team")
    everyone = [t for t in summary_tables.tables(full) if "baseline_cost_usd" in t.columns][0]
    assert len(everyone) > 1
    assert everyone.filter(pl.col("team") == "legal")["baseline_cost_usd"].to_list() == impact["baseline_cost_usd"].to_list()


@pytest.mark.slow
def test_cached_results_never_cross_team_scopes(session, ledger):
    """Same query, same parameters, same data version: only the scope differs. Caches are not cleared between
    the sessions, so a cache keyed without the scope would hand one person's figures to the other."""
    e = ledger["expected"]
    order = [("viewer@example.com", e["all"]), ("legal@example.com", e["legal"]),
             ("admin@example.com", e["all"]), ("legal@example.com", e["legal"])]
    for email, want in order:
        at = session(email=email)
        assert not at.exception
        assert metric(at, "Spend") == usd(want), email
        at.session_state["explore_by"] = "team"
        at.session_state["explore_grid"] = True
        at.switch_page("views/explore.py").run()
        shown = set(at.dataframe[0].value["group_value"])
        assert shown == ({"legal"} if want == e["legal"] else set(e["teams"])), email


# --- the admin page ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_admin_sees_the_audit_log_and_exports_it_neutralised(session, copy):
    hostile = '=HYPERLINK("http://evil.example")@x.com'
    with Warehouse(copy) as wh:
        tmp = copy.parent / "sept.csv"
        tmp.write_bytes(canonical_csv(*ROWS))
        ingest_paths(wh.as_user("analyst@example.com"), [tmp])
        users.record_sign_in(wh, hostile, "header", "viewer")
    at = session(email="admin@example.com", db=copy, show_sql=True)
    at.switch_page("views/users.py").run()
    assert not at.exception and at.title[0].value == "Users & audit"
    assert not at.dataframe                  # light tables, no grid (past 200 log rows the grid comes back)
    people = shown_table(at, "email")
    assert people["email"].to_list() == ["admin@example.com", "analyst@example.com", "legal@example.com",
                                         "viewer@example.com"]
    log = shown_table(at, "actor")
    said = users_svc.AUDIT_ACTIONS
    rows = set(zip(log["actor"], log["what"]))
    assert {("admin@example.com", said["sign_in"]), ("analyst@example.com", said["ingest"]),
            (hostile, said["sign_in"])} <= rows
    assert log.filter(pl.col("what") == said["ingest"])["target"][0].endswith("sept.csv")
    assert any(b.label.startswith("Download these") for b in at.get("download_button"))
    assert any("-- audit_log:" in c.value for c in at.code) and any("-- users:" in c.value for c in at.code)
    # filters
    at.selectbox(key="audit_action").set_value("ingest").run()
    log = shown_table(at, "actor")
    assert set(log["what"]) == {said["ingest"]} and len(log) == 2          # the fixture's load and the analyst's
    at.selectbox(key="audit_actor").set_value("analyst@example.com").run()
    log = shown_table(at, "actor")
    assert list(zip(log["actor"], log["what"])) == [("analyst@example.com", said["ingest"])]
    at.date_input(key="audit_days").set_value((dt.date(2020, 1, 1), dt.date(2020, 1, 31))).run()
    assert not [t for t in summary_tables.tables(at) if "actor" in t.columns]
    assert "Days (UTC): 1–31 Jan 2020" in [p.proto.popover.label for p in at.get("popover")]   # the days shown
    assert any("Nothing recorded for these filters" in i.value for i in at.info)
    # the export the button offers: the same rows, formula-like cells neutralised
    close_app()
    with Warehouse(copy) as wh:
        shown = users_svc.audit_table(wh, *last_30_days(), None, None)
    exported = users_svc.audit_csv(shown).decode()
    assert "'=HYPERLINK" in exported and '"=HYPERLINK' not in exported and "\n=" not in exported


def shown_table(at, column: str) -> pl.DataFrame:
    """The light summary table (as the reader sees it) that shows `column`."""
    return next(t for t in summary_tables.tables(at) if column in t.columns)


def last_30_days() -> tuple[dt.date, dt.date]:
    today = dt.datetime.now(dt.UTC).date()
    return today - dt.timedelta(days=29), today


def test_admin_edits_users_with_validation(session, copy):
    at = session(page("users"), "admin@example.com", db=copy)
    assert not at.exception
    assert not at.dataframe and shown_table(at, "email").height == 4     # read as a light table until asked to edit
    at.toggle(key="users_edit").set_value(True).run()
    bad = {"email": "not-an-email", "role": "viewer"}
    edit_and_click(at, "users_editor", {"added_rows": [bad]}, "users_save")
    assert "row 5, email: 'not-an-email' is not an email address" in at.error[0].value
    last = {"edited_rows": {"0": {"role": "viewer"}}}          # demote the only admin
    edit_and_click(at, "users_editor", last, "users_save")
    assert "Last admin" in at.error[0].value
    new = {"email": "New@Example.com", "role": "viewer", "teams": ["legal", "support"]}
    edit_and_click(at, "users_editor", {"added_rows": [new], "deleted_rows": [3]}, "users_save")
    assert not at.exception and not at.error
    assert any("Users updated" in s.value for s in at.success)
    close_app()
    with Warehouse(copy) as wh:
        listed = users.list_users(wh).select("email", "role", "teams").rows()
        log = users.audit_log(wh).filter(pl.col("action").is_in(["user_edit", "user_remove"]))
    assert ("new@example.com", "viewer", ["legal", "support"]) in listed
    assert "viewer@example.com" not in [r[0] for r in listed] and "admin@example.com" in [r[0] for r in listed]
    assert set(zip(log["actor"], log["action"], log["target"])) >= {
        ("admin@example.com", "user_edit", "new@example.com"), ("admin@example.com", "user_remove",
                                                               "viewer@example.com")}


def test_a_demotion_applies_to_an_open_session(session, copy):
    at = session(page("prices"), "analyst@example.com", db=copy, modelmix_date_range=RANGE)
    assert not at.error and at.title[0].value == "Prices"
    # an admin demotes them meanwhile (through the process's own warehouse: the app holds the file)
    users.save(state.owner(), "analyst@example.com", "viewer")
    at.run()        # their next click
    assert "Not allowed" in at.error[0].value and "(viewer)" in at.error[0].value and not at.dataframe


@pytest.mark.slow
def test_one_sign_in_row_per_session(session, copy):
    at = session(email="viewer@example.com", db=copy)
    for name in ("explore", "chargeback", "overview"):
        at.switch_page(f"views/{name}.py").run()
    at.run()
    session(email="viewer@example.com", db=copy)          # a second session (another tab or browser)
    signed = audit_rows(copy, action="sign_in")
    assert signed["actor"].to_list() == ["viewer@example.com"] * 2
    assert {json.loads(d)["mode"] for d in signed["detail"]} == {"oidc"}


def test_tracebacks_are_hidden_from_users(monkeypatch, tmp_path):
    """`streamlit run` from the repository root and `modelmix serve` both show a short message for an unexpected
    exception; "false" would not do: Streamlit reads it as "stacktrace"."""
    import tomllib

    from cli import main as cli

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    seen: list[list[str]] = []
    monkeypatch.chdir(tmp_path)             # serve changes to the repository root before it execs
    monkeypatch.setattr(cli.os, "execve", lambda exe, cmd, env: seen.append(cmd))
    assert cli.main(["serve", "--db", str(tmp_path / "l.duckdb"), "--port", "8599"]) == 0
    assert seen[0][seen[0].index("--client.showErrorDetails") + 1] == "none"


def test_serve_turns_off_the_file_watcher_and_the_gc_after_every_run(monkeypatch, tmp_path):
    """`modelmix serve` runs without what costs every session's rerun most beside the page (the per-session file
    watcher, a full garbage collection after each run), and both options still exist in this Streamlit (an
    unknown option would be ignored with a warning, and the cost would silently come back)."""
    from streamlit import config

    from cli import main as cli

    seen: list[list[str]] = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli.os, "execve", lambda exe, cmd, env: seen.append(cmd))
    assert cli.main(["serve", "--db", str(tmp_path / "l.duckdb"), "--port", "8599"]) == 0
    cmd = seen[0]
    assert cmd[cmd.index("--server.fileWatcherType") + 1] == "none"
    assert cmd[cmd.index("--runner.postScriptGC") + 1] == "false"
    options = config._config_options_template
    assert {"server.fileWatcherType", "runner.postScriptGC"} <= set(options)
    assert "none" in options["server.fileWatcherType"].description


@pytest.mark.browser
def test_real_browser_header_mode_and_a_first_direct_url(ledger, tmp_path):
    """A freshly started server (Streamlit still in its file-based page mode) behind a trusted header: the
    first request is a direct URL to a page the viewer may not see. The router still runs: the viewer lands on
    Overview with only their team's spend and the read sections. Without the header: denied, no page list."""
    from test_browser import served_app

    db = tmp_path / "ledger.duckdb"
    shutil.copy(ledger["template"], db)
    from header_proxy import HeaderProxy

    with served_app(db, tmp_path, MODELMIX_TRUSTED_HEADER="X-Forwarded-Email") as (browser, url), \
            HeaderProxy(int(url.rsplit(":", 1)[1]), {"X-Forwarded-Email": "legal@example.com"}) as proxy:
        # through a sign-in proxy: Chromium sends Playwright's extra_http_headers on page requests but not on the
        # WebSocket upgrade Streamlit reads the headers from
        page = browser.new_page()
        page.goto(proxy.url + "/users")
        page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
        kpi = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text("Spend", exact=True))
        kpi.first.wait_for(timeout=60_000)
        assert usd(ledger["expected"]["legal"]) in kpi.first.inner_text()
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "Explore" in nav and "What-if" in nav
        assert not any(name in nav for name in ("Upload", "Prices", "Users", "users", "upload"))
        assert page.get_by_role("heading", name="Users & audit").count() == 0
        assert "legal@example.com" in page.locator('[data-testid="stSidebar"]').inner_text()

        stranger = browser.new_page()           # no header: straight to the port, not through the proxy
        stranger.goto(url + "/upload")
        stranger.get_by_text("Access denied").wait_for(timeout=60_000)
        assert stranger.locator('[data-testid="stSidebarNav"]').count() == 0
        assert stranger.locator('[data-testid="stMetric"]').count() == 0

