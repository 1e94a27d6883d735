"""A real OpenID Connect provider on loopback for the sign-in round trip (issue 18, item 2): discovery, an
authorization endpoint with a sign-in form, a token endpoint that checks the client secret, the code, its
redirect URI and (when sent) the PKCE verifier, ID tokens signed RS256 with joserfc (the Authlib project's JOSE
library, which Streamlit's auth installs), JWKS, userinfo and an end-session endpoint.

Nothing is simulated on the ModelMix side: Streamlit's own Authlib client talks to this server over HTTP, checks
the token's signature against the JWKS, its issuer, audience and nonce, and sets its session cookie.

    with OidcProvider(users={"alice@example.com": {"groups": ["modelmix-viewer"]}}) as idp:
        idp.metadata_url, idp.client_id, idp.client_secret
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwt
from joserfc.jwk import RSAKey


class OidcProvider:
    def __init__(self, users: dict[str, dict], *, client_id: str = "modelmix", token_seconds: int = 300):
        self.users = users                      # email -> extra claims (groups, email_verified, …)
        self.client_id = client_id
        self.client_secret = secrets.token_urlsafe(24)
        self.token_seconds = token_seconds
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.codes: dict[str, dict] = {}
        self.signed_in: list[str] = []          # who completed the form, in order
        self.signed_out = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:   # quiet
                pass

            def _send(self, code: int, body: bytes, ctype: str = "application/json", headers: dict | None = None):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, payload: dict, code: int = 200) -> None:
                self._send(code, json.dumps(payload).encode())

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    return self._json(provider.metadata())
                if url.path == "/jwks":
                    return self._json({"keys": [provider.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    return self._send(200, provider.form(q).encode(), "text/html; charset=utf-8")
                if url.path == "/userinfo":
                    email = provider.tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
                    return self._json(provider.claims(email)) if email else self._json({"error": "invalid_token"}, 401)
                if url.path == "/logout":
                    provider.signed_out += 1
                    back = q.get("post_logout_redirect_uri")
                    if back:
                        return self._send(302, b"", headers={"Location": back})
                    return self._send(200, b"signed out", "text/plain")
                return self._send(404, b"{}")

            def do_POST(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if url.path == "/authorize":      # the sign-in form: who signs in, then back to the client
                    email = form.get("email", "").strip().lower()
                    if email not in provider.users:
                        return self._send(200, provider.form(form, error="unknown user").encode(),
                                          "text/html; charset=utf-8")
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {**form, "email": email}
                    provider.signed_in.append(email)
                    back = form["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": form["state"]})
                    return self._send(302, b"", headers={"Location": back})
                if url.path == "/token":
                    return provider.token(self, form)
                return self._send(404, b"{}")

        self.tokens: dict[str, str] = {}    # access token -> email
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.metadata_url = f"{self.issuer}/.well-known/openid-configuration"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OidcProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metadata(self) -> dict:
        i = self.issuer
        return {"issuer": i, "authorization_endpoint": f"{i}/authorize", "token_endpoint": f"{i}/token",
                "jwks_uri": f"{i}/jwks", "userinfo_endpoint": f"{i}/userinfo", "end_session_endpoint": f"{i}/logout",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256"], "claims_supported": ["sub", "email", "groups"]}

    def claims(self, email: str) -> dict:
        return {"sub": hashlib.sha256(email.encode()).hexdigest()[:16], "email": email, "email_verified": True,
                **self.users[email]}

    def form(self, q: dict, error: str = "") -> str:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in q.items() if k != "email")
        return (f"<html><body><h1>Test identity provider</h1><p>{html.escape(error)}</p>"
                f'<form method="post" action="/authorize">{hidden}'
                '<label>Email <input name="email" id="email"></label>'
                '<button type="submit" id="sign-in">Sign in</button></form></body></html>')

    def token(self, handler, form: dict) -> None:
        basic = handler.headers.get("Authorization", "")
        cid, secret = form.get("client_id"), form.get("client_secret")
        if basic.startswith("Basic "):
            cid, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            cid, secret = urllib.parse.unquote(cid), urllib.parse.unquote(secret)
        if cid != self.client_id or secret != self.client_secret:
            return handler._json({"error": "invalid_client"}, 401)
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code" \
                or form.get("redirect_uri") != grant.get("redirect_uri"):
            return handler._json({"error": "invalid_grant"}, 400)
        if grant.get("code_challenge"):
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
                return handler._json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        now = int(time.time())
        email = grant["email"]
        claims = {**self.claims(email), "iss": self.issuer, "aud": self.client_id, "iat": now,
                  "exp": now + self.token_seconds, **({"nonce": grant["nonce"]} if grant.get("nonce") else {})}
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        access = secrets.token_urlsafe(16)
        self.tokens[access] = email
        return handler._json({"access_token": access, "token_type": "Bearer", "expires_in": self.token_seconds,
                              "id_token": id_token, "scope": grant.get("scope", "openid email")})
