"""Who is using the dashboard, and what they may do (docs/reliability.md, "Sign-in and roles"). Fail closed: no identity, no role, no data.

The identity comes from exactly one of three modes, chosen by the deployment:

- **oidc**: Streamlit's secrets have an `[auth]` section. Until `st.user.is_logged_in`, the page is a sign-in
  screen whose button calls `st.login()`; the email is `st.user.email` (an `email_verified` claim that is false
  is refused).
- **header**: `MODELMIX_TRUSTED_HEADER` names a request header set by a sign-in proxy (oauth2-proxy, IAP). A
  request without it is denied. Only safe when the port is reachable through the proxy alone.
- **local**: neither. One person on their own machine: an admin named `local`, with a small
  "Local mode" badge in the sidebar whose tooltip explains it.

The role (oidc, header) comes from `warehouse.users.role_for`: MODELMIX_ADMINS, else the `users` table, else the
claim named by MODELMIX_ROLE_CLAIM; none of these -> a "not registered" screen. The person is resolved once per
session and kept in session state (`state.USER_KEY`); the role is looked up again only after the ledger changed
(a user edit bumps its data version, so a demotion applies on the next click). Each session records one
`sign_in` audit row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard import state
from modelmix.settings import Settings
from warehouse import users
from warehouse.errors import ModelMixError
from warehouse.users import ROLES

LOCAL = "local"
_SEEN_KEY = "modelmix_user_seen"        # (mode, email, data_version) the session's user was resolved at
_SIGNED_IN_KEY = "modelmix_signed_in"   # (mode, email) whose sign_in row this session recorded


@dataclass(frozen=True)
class User:
    email: str
    role: str                        # viewer | analyst | admin
    teams: tuple[str, ...] | None    # None: every team
    mode: str                        # oidc | header | local

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def scope_text(self) -> str:
        return "every team" if self.teams is None else ", ".join(self.teams) or "no team"


# --- where the identity comes from (the seams tests replace are `request_headers` only) ---------------------
def auth_secrets() -> Mapping[str, Any] | None:
    """The `[auth]` section of Streamlit's secrets, or None (no secrets file, or no such section)."""
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:
        return None
    return section if isinstance(section, Mapping) and section else None


def request_headers() -> Mapping[str, str]:
    """The headers of the request that opened this session (as the proxy forwarded them)."""
    return st.context.headers


def _header(name: str) -> str | None:
    wanted = name.strip().lower()
    for key, value in request_headers().items():
        if key.lower() == wanted and str(value).strip():
            return str(value).strip()
    return None


def providers(section: Mapping[str, Any], settings: Settings) -> list[str | None]:
    """What `st.login` can be called with: the configured provider, else every `[auth.<name>]` section, else
    None (a flat `[auth]` section with one provider's keys)."""
    if settings.auth_provider:
        return [settings.auth_provider]
    named = [k for k, v in section.items() if isinstance(v, Mapping)]
    return named or [None]


# --- screens that stop the script ------------------------------------------------------------------------
def _gate() -> None:
    """The one (hidden) page of someone not let in; its content is drawn by the screen itself."""


def _no_navigation() -> None:
    """Replace whatever navigation the browser shows by a single hidden page, so a signed-out or denied person
    sees no list of pages (a freshly started process would otherwise show every page file)."""
    try:
        st.navigation([st.Page(_gate, title="ModelMix", url_path="welcome")], position="hidden")
    except StreamlitAPIException:   # inside a fragment's rerun: the navigation stays as it was
        pass


def _screen(title: str, message: str, *, kind: str = "error") -> None:
    """A full-page stop: no navigation, no data; forgets this session's user."""
    st.session_state.pop(state.USER_KEY, None)
    _no_navigation()
    st.title("ModelMix")
    (st.error if kind == "error" else st.info)(f"**{title}** — {message}")
    st.stop()


def _sign_in_screen(section: Mapping[str, Any], settings: Settings) -> None:
    st.session_state.pop(state.USER_KEY, None)
    _no_navigation()
    st.title("ModelMix")
    st.markdown("AI spend ledger and routing simulator. Sign in with your company account to continue.")
    for name in providers(section, settings):
        label = "Sign in" if name is None else f"Sign in with {name.replace('-', ' ').title()}"
        if st.button(label, type="primary", icon=":material/login:", key=f"auth_login_{name or 'default'}"):
            st.login(name) if name else st.login()
    st.stop()


def _identity(settings: Settings) -> tuple[str, str, Any]:
    """(mode, email, claim value) of the person, or a screen that stops the script."""
    section = auth_secrets()
    if section is not None:
        info = st.user.to_dict()
        if not info.get("is_logged_in"):
            _sign_in_screen(section, settings)
        if info.get("email_verified") is False:
            _screen("Email not verified", "your identity provider says this email address is not verified, so "
                    "ModelMix can't tell who you are. Verify it with your provider and sign in again.")
        email = str(info.get("email") or "").strip().lower()
        if not email:
            _screen("No email", "your identity provider did not send an email address, so ModelMix can't tell who "
                    "you are. Ask the administrator to request the `email` scope.")
        return "oidc", email, info.get(settings.role_claim) if settings.role_claim else None
    if settings.trusted_header:
        email = (_header(settings.trusted_header) or "").lower()
        if not email:
            _screen("Access denied", f"this dashboard accepts only requests through its sign-in proxy, and this "
                    f"request has no `{settings.trusted_header}` header. Open it through the proxy's address.")
        return "header", email, _header(settings.role_claim) if settings.role_claim else None
    return LOCAL, LOCAL, None


def _team_map(settings: Settings) -> dict[str, list[str]] | None:
    return _read_team_map(str(settings.team_claim_map)) if settings.team_claim_map else None


@st.cache_data(ttl=60, show_spinner=False)
def _read_team_map(path: str) -> dict[str, list[str]]:
    """The team mapping file, read at most once a minute (edits apply within a minute, no restart)."""
    return users.load_team_map(path)


# --- the person -------------------------------------------------------------------------------------------
def current_user() -> User:
    """The signed-in person of this session, or a sign-in / denied screen and `st.stop()`."""
    settings = state.settings()
    how, email, claim = _identity(settings)
    owner = state.owner()
    seen = (how, email, owner.data_version)
    user = st.session_state.get(state.USER_KEY)
    if user is not None and st.session_state.get(_SEEN_KEY) == seen:
        return user
    if how == LOCAL:
        user = User(LOCAL, "admin", None, LOCAL)
    else:
        try:
            found = users.role_for(owner, email, admins=settings.admins.split(","), claim=claim,
                                   claim_prefix=settings.role_claim_prefix, team_map=_team_map(settings))
        except ModelMixError as e:      # UnknownTeam, or an unreadable mapping file: no access, the reason shown
            _screen(e.title, e.message)
        if found is None:
            _screen("Not registered", f"you are signed in as {email}, but ModelMix has no role for this address. "
                    "Ask an admin to add you on the Users & audit page (or `modelmix users add "
                    f"{email} --role viewer`).")
        user = User(found.email, found.role, found.teams, how)
    st.session_state[state.USER_KEY] = user
    st.session_state[_SEEN_KEY] = seen
    if st.session_state.get(_SIGNED_IN_KEY) != (how, email):
        users.record_sign_in(owner, user.email, how, user.role, user.teams)
        st.session_state[_SIGNED_IN_KEY] = (how, email)
    return user


def allows(role: str) -> bool:
    """Whether the signed-in person has at least `role` (for disabling buttons)."""
    return current_user().at_least(role)


def require(role: str) -> User:
    """Stop the page with a clear message unless the signed-in person has at least `role`."""
    user = current_user()
    if not user.at_least(role):
        st.error(f"**Not allowed** — this needs the {role} role; you are signed in as {user.email} "
                 f"({user.role}). Ask an admin if you need it.")
        st.stop()
    return user


def need_text(role: str) -> str:
    """A button's help text when the person lacks `role`."""
    return f"Needs the {role} role; you are {current_user().role}."


# --- the sidebar ------------------------------------------------------------------------------------------
LOCAL_BADGE = "Local mode"
LOCAL_SHORT = "no sign-in"
LOCAL_EXPLAINED = ("**Local single-user mode**: no sign-in, anyone who can open this address is an admin. That "
                   "suits one person on their own machine. For a shared deployment, configure OIDC sign-in (an "
                   "`auth` section in `.streamlit/secrets.toml`) or `MODELMIX_TRUSTED_HEADER` behind a sign-in "
                   "proxy; see docs/reliability.md, \"Sign-in and roles\".")


def banner(user: User) -> None:
    """Nothing above the pages: local mode is said by a small badge in the sidebar (`sidebar`), its meaning one
    click away, so it does not sit as an orange banner over every page of a local install."""


def sidebar(user: User) -> None:
    """Who is signed in, as what, over which teams; sign-out for OIDC."""
    if user.mode == LOCAL:
        # one element, what it means in two words and in full on hover: a badge and a "Why" popover in two
        # columns were four elements the browser renders on every page before the page's own (docs/benchmarks.md)
        st.markdown(f":orange-badge[:material/lock_open: {LOCAL_BADGE}] :gray[· {LOCAL_SHORT}]", help=LOCAL_EXPLAINED)
        return
    st.caption(f"Signed in as **{user.email}** · {user.role} · {user.scope_text}")
    if user.mode == "oidc" and st.button("Sign out", icon=":material/logout:", key="auth_logout"):
        for key in (state.USER_KEY, _SEEN_KEY, _SIGNED_IN_KEY):
            st.session_state.pop(key, None)
        # st.logout() empties st.user at once and queues a message that sends the browser to /auth/logout (which
        # deletes the identity cookie and redirects to the provider's end-session endpoint). It must be the last
        # thing of this run, ended by st.stop(): a rerun here (st.rerun) starts a new run, and a new run drops
        # every queued message not yet sent to the browser, that redirect included (only lifecycle messages and
        # toasts survive). When the redirect was dropped, which happened about 1 run in 3, the page showed the
        # sign-in screen (st.user was empty) while the cookie lived on: the next visit was still signed in.
        st.logout()
        st.stop()
