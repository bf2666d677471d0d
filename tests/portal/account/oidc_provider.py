"""A small but real OpenID Connect provider on 127.0.0.1, for the single sign-on tests.

It serves the discovery document, the authorisation endpoint (it signs in ``next_person``
without a form, as a provider with an open session would), the token endpoint (client secret,
redirect URI and PKCE checked; an ID token signed RS256 with the key of its JWKS), the user
info and the JWKS. ``tamper`` makes it misbehave the way an attacker or a broken provider
would: sign with a key that is not in its JWKS, send another nonce or audience.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

CLIENT_ID = "motcua-portal"
CLIENT_SECRET = "bi-mat-cua-ung-dung"


def _new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    nonce: str
    person: dict
    challenge: str = ""
    method: str = ""


@dataclass
class Provider:
    """Start it with ``start()``; its URLs are ``settings()``."""

    person: dict = field(default_factory=dict)
    tamper: str = ""  # "" | "signature" | "nonce" | "audience" | "expired"
    key: object = field(default_factory=_new_key)
    other_key: object = field(default_factory=_new_key)
    kid: str = "khoa-1"
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)
    redirect_uris: set[str] = field(default_factory=set)
    token_requests: int = 0

    def start(self) -> Provider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                provider._get(self)

            def do_POST(self):
                provider._post(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def settings(self) -> dict[str, str]:
        return {
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_OP_ISSUER": self.issuer,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.issuer}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.issuer}/token",
            "OIDC_OP_USER_ENDPOINT": f"{self.issuer}/userinfo",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.issuer}/jwks",
        }

    # --- endpoints -------------------------------------------------------------------------

    def _send(self, handler, status: int, body: dict | None = None, headers=None) -> None:
        data = json.dumps(body or {}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _get(self, handler) -> None:
        url = urlparse(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            self._send(
                handler,
                200,
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "userinfo_endpoint": f"{self.issuer}/userinfo",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                },
            )
        elif url.path == "/jwks":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
            self._send(handler, 200, {"keys": [jwk]})
        elif url.path == "/authorize":
            self._authorize(handler, query)
        elif url.path == "/userinfo":
            token = handler.headers.get("Authorization", "").removeprefix("Bearer ")
            claims = self.tokens.get(token)
            if claims is None:
                self._send(handler, 401, {"error": "invalid_token"})
            else:
                self._send(handler, 200, claims)
        else:
            self._send(handler, 404, {"error": "not_found"})

    def _authorize(self, handler, query: dict) -> None:
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            self._send(handler, 400, {"error": "unauthorized_client"})
            return
        if "openid" not in query.get("scope", "").split():
            self._send(handler, 400, {"error": "invalid_scope"})
            return
        redirect_uri = query.get("redirect_uri", "")
        self.redirect_uris.add(redirect_uri)
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            client_id=CLIENT_ID,
            redirect_uri=redirect_uri,
            nonce=query.get("nonce", ""),
            person=dict(self.person),
            challenge=query.get("code_challenge", ""),
            method=query.get("code_challenge_method", ""),
        )
        target = f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        handler.send_response(302)
        handler.send_header("Location", target)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _post(self, handler) -> None:
        url = urlparse(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(handler.rfile.read(length).decode()).items()}
        if url.path != "/token":
            self._send(handler, 404, {"error": "not_found"})
            return
        self.token_requests += 1
        grant = self.grants.pop(form.get("code", ""), None)  # a code works once
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != CLIENT_ID
            or form.get("client_secret") != CLIENT_SECRET
            or form.get("redirect_uri") != grant.redirect_uri
        ):
            self._send(handler, 400, {"error": "invalid_grant"})
            return
        if grant.challenge:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if grant.method != "S256" or expected != grant.challenge:
                self._send(handler, 400, {"error": "invalid_grant"})
                return
        access_token = secrets.token_urlsafe(24)
        self.tokens[access_token] = dict(grant.person)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": grant.person["sub"],
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
        }
        key = self.key
        if self.tamper == "signature":
            key = self.other_key
        elif self.tamper == "nonce":
            claims["nonce"] = "mot-nonce-khac"
        elif self.tamper == "audience":
            claims["aud"] = "ung-dung-khac"
        elif self.tamper == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})
        self._send(
            handler,
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )
