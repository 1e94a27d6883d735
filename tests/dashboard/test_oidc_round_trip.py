"""A real OIDC sign-in round trip (issue 18, item 2): the dashboard served as `modelmix serve` serves it
(`test_browser.serve_command`), with an `[auth]` section pointing at a real OpenID Connect provider on loopback
(tests/oidc_provider.py), Debian's headless Chromium driven through the provider's sign-in form. Streamlit's own
Authlib client fetches the discovery document, exchanges the code with the client secret, checks the RS256 ID
token against the JWKS and sets its cookie; the role and teams come from the token's `groups` claim. Then:
sign-out through the provider's end-session endpoint, a person the ledger doesn't know (denied), a claim naming
an unknown team (denied), and an expired session (the session cookie gone: back to the sign-in screen)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from oidc_provider import OidcProvider
from test_browser import CHROMIUM, CHROMIUM_ARGS, _free_port, _wait_healthy, serve_command
from test_dashboard_auth import ledger  # noqa: F401 -- fixture

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = {
    "alice@example.com": {"groups": ["staff", "modelmix-viewer", "modelmix-team-legal"]},
    "bob@example.com": {"groups": ["staff"]},
    "carol@example.com": {"groups": ["modelmix-viewer", "modelmix-team-no-such-team"]},
}


@contextlib.contextmanager
def served_with_oidc(db: Path, tmp_path: Path, idp: OidcProvider):
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    secrets_file = tmp_path / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{idp.client_id}"\n'
        f'client_secret = "{idp.client_secret}"\n'
        f'server_metadata_url = "{idp.metadata_url}"\n')
    log = tmp_path / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            serve_command(db, port, "--secrets.files", str(secrets_file)), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "MODELMIX_DB": str(db), "MODELMIX_ROLE_CLAIM": "groups", "MODELMIX_WARM_UP": "false"})
    try:
        _wait_healthy(proc, port, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield browser, url, log
            finally:
                browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sign_in(page, url: str, email: str) -> None:
    page.goto(url + "/")
    page.get_by_role("button", name="Sign in").click(timeout=60_000)
    page.locator("#email").fill(email, timeout=30_000)          # the provider's own form
    page.locator("#sign-in").click()


def sidebar(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text(timeout=30_000)


@pytest.mark.slow
@pytest.mark.browser
def test_real_oidc_round_trip(ledger, tmp_path):  # noqa: F811 -- the fixture
    db = shutil.copy(ledger["template"], tmp_path / "l.duckdb")
    with OidcProvider(PEOPLE) as idp, served_with_oidc(db, tmp_path, idp) as (browser, url, log):
        ctx = browser.new_context()
        page = ctx.new_page()
        try:
            sign_in(page, url, "alice@example.com")
            page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
            page.get_by_text("alice@example.com").first.wait_for(timeout=30_000)
        except Exception:
            pytest.fail(f"{page.url}\n{page.locator('body').inner_text()[:1500]}\n{log.read_text()[-3000:]}")
        assert "viewer · legal" in sidebar(page)                  # role and team from the token's groups claim
        assert idp.signed_in == ["alice@example.com"]
        assert page.locator('[data-testid="stException"]').count() == 0

        # an expired session: the session cookie is gone (expired or cleared); the next visit must sign in again
        ctx.clear_cookies()
        page.goto(url + "/")
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        assert page.locator('[data-testid="stMetric"]').count() == 0

        # sign in again, then sign out: through the provider's end-session endpoint, back to the sign-in screen
        sign_in(page, url, "alice@example.com")
        page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
        page.get_by_role("button", name="Sign out").click(timeout=30_000)
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        for _ in range(100):            # the end-session hit is on the way back to the sign-in screen; allow 10 s
            if idp.signed_out:
                break
            page.wait_for_timeout(100)
        assert idp.signed_out == 1
        assert page.locator('[data-testid="stMetric"]').count() == 0
        # the session is over, not only hidden: a new visit in the same browser (same cookies) must sign in again
        again = ctx.new_page()
        again.goto(url + "/")
        again.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        assert again.locator('[data-testid="stMetric"]').count() == 0
        assert again.get_by_text("alice@example.com").count() == 0
        ctx.close()

        # someone the ledger doesn't know (no role claim, no users row): denied, no data
        ctx = browser.new_context()
        page = ctx.new_page()
        sign_in(page, url, "bob@example.com")
        page.get_by_text("Not registered").first.wait_for(timeout=60_000)
        assert page.locator('[data-testid="stMetric"]').count() == 0
        ctx.close()

        # a viewer whose claim names only an unknown team: denied, never every team
        ctx = browser.new_context()
        page = ctx.new_page()
        sign_in(page, url, "carol@example.com")
        page.get_by_text("No known team").first.wait_for(timeout=60_000)
        assert page.locator('[data-testid="stMetric"]').count() == 0
        ctx.close()
    assert idp.signed_in == ["alice@example.com", "alice@example.com", "bob@example.com", "carol@example.com"]
