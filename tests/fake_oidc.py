"""A small fake OpenID Connect provider for tests, served over real HTTP on 127.0.0.1.

It implements just enough of OpenID Connect Core and Discovery for the
authorization code flow: discovery document, JWKS, authorize, token and
userinfo endpoints. Its behaviour can be bent per test to simulate a
misbehaving or hostile provider (wrong nonce, wrong issuer, foreign signing
key, ...), and it records what it received so tests can assert on it::

    with FakeOIDCProvider(client_id="agora", client_secret="s3cret") as idp:
        idp.nonce_override = "not-the-nonce-we-were-given"
        ...
        callback_url = idp.authorize(authorize_url)

Attributes that tune the behaviour may be changed at any time, also between
the authorize and the token request of a single login.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

HTTP_TIMEOUT_SECONDS = 5
DEFAULT_CLIENT_ID = "agora-client"
DEFAULT_CLIENT_SECRET = "agora-secret-for-tests-only-0123456789"


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT = _Omit()
"""Sentinel: leave the claim out of the ID token altogether."""


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class AuthorizeRequest:
    """What the relying party sent to /authorize (all parameters, first value each)."""

    params: dict[str, str]

    @property
    def nonce(self) -> str | None:
        return self.params.get("nonce")

    @property
    def acr_values(self) -> str | None:
        return self.params.get("acr_values")

    @property
    def state(self) -> str | None:
        return self.params.get("state")


@dataclass
class _Grant:
    code: str
    client_id: str
    redirect_uri: str
    nonce: str | None
    acr_values: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    uses: int = 0
    token_response: dict | None = None


@dataclass
class _Recorder:
    authorize: list[AuthorizeRequest] = field(default_factory=list)
    token: list[dict[str, str]] = field(default_factory=list)
    userinfo: int = 0
    discovery: int = 0
    jwks: int = 0


class FakeOIDCProvider:
    """An OpenID Connect provider on ``http://127.0.0.1:<free port>``, in a daemon thread.

    Use it as a context manager (or call ``start()``/``stop()``).
    """

    def __init__(
        self,
        *,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        redirect_uris: list[str] | None = None,
        subject: str = "fc-sub-0001",
        claims: dict | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        # None: accept any redirect_uri at /authorize (it must still match at /token).
        self.redirect_uris = redirect_uris
        self.subject = subject
        self.user_claims = {
            "email": "marianne@example.org",
            "email_verified": True,
            "given_name": "Marianne",
            "family_name": "Dupont",
        }
        if claims:
            self.user_claims.update(claims)

        self.key = _new_rsa_key()
        self.kid = "fake-key-1"
        self.other_key = _new_rsa_key()

        # --- behaviour knobs (tests set these) ---
        self.nonce_override: str | _Omit | None = None  # None: echo the nonce given
        self.acr: str | _Omit | None = None  # None: echo the first requested acr value
        self.issuer_in_token: str | None = None  # None: the real issuer
        self.audience_in_token: str | None = None  # None: the client id
        self.discovery_issuer: str | None = None  # None: the real issuer
        self.sign_with_other_key = False  # same kid, key not in the JWKS
        self.id_token_alg = "RS256"  # "HS256" (signed with the client secret) or "none"
        self.token_lifetime = 300
        self.omit_id_token = False
        self.userinfo_sub: str | None = None  # None: the ID token's subject
        self.allow_code_reuse = False  # a code normally works once
        self.extra_claims: dict = {}
        self.omit_kid = False  # a header that names no key

        self.received = _Recorder()
        self.issued_tokens: list[dict] = []  # every token response sent, in order
        self._grants: dict[str, _Grant] = {}
        self._access_tokens: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> FakeOIDCProvider:
        handler = type("_BoundHandler", (_Handler,), {"provider": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-oidc",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=HTTP_TIMEOUT_SECONDS)
            self._thread = None

    def __enter__(self) -> FakeOIDCProvider:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- addresses -----------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "the fake provider is not running"
        return self._server.server_address[1]

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.issuer}{path}"

    # --- helpers for tests -----------------------------------------------------------

    @property
    def last_authorize(self) -> AuthorizeRequest:
        with self._lock:
            return self.received.authorize[-1]

    def authorize(self, authorize_url: str) -> str:
        """Play the browser at /authorize: GET it, do not follow, return the Location.

        Raises ``AssertionError`` if the provider did not answer with a redirect.
        """
        parts = urlsplit(authorize_url)
        assert (parts.hostname, parts.port) == ("127.0.0.1", self.port), authorize_url
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT_SECONDS)
        try:
            conn.request("GET", f"{parts.path}?{parts.query}")
            response = conn.getresponse()
            body = response.read()
            location = response.getheader("Location")
        finally:
            conn.close()
        assert response.status == HTTPStatus.FOUND, (response.status, body)
        assert location
        return location

    # --- documents -----------------------------------------------------------------

    def discovery_document(self) -> dict:
        return {
            "issuer": self.discovery_issuer or self.issuer,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "userinfo_endpoint": self.url("/userinfo"),
            "jwks_uri": self.url("/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid", "email", "given_name", "family_name"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "claims_supported": ["sub", "email", "email_verified", "given_name", "family_name"],
        }

    def jwks(self) -> dict:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def id_token_claims(self, grant: _Grant) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer_in_token or self.issuer,
            "sub": self.subject,
            "aud": self.audience_in_token or self.client_id,
            "exp": now + self.token_lifetime,
            "iat": now,
            "auth_time": now,
            "nonce": grant.nonce if self.nonce_override is None else self.nonce_override,
            "acr": self.acr,
            **self.user_claims,
            **self.extra_claims,
        }
        if claims["acr"] is None:
            requested = (grant.acr_values or "").split()
            claims["acr"] = requested[0] if requested else OMIT
        return {
            name: value
            for name, value in claims.items()
            if value is not OMIT and not (name == "nonce" and value is None)
        }

    def sign(self, claims: dict) -> str:
        if self.id_token_alg == "none":
            return jwt.encode(claims, None, algorithm="none")
        if self.id_token_alg == "HS256":
            return jwt.encode(
                claims, self.client_secret, algorithm="HS256", headers={"kid": self.kid}
            )
        key = self.other_key if self.sign_with_other_key else self.key
        headers = {} if self.omit_kid else {"kid": self.kid}
        return jwt.encode(claims, key, algorithm=self.id_token_alg, headers=headers)

    # --- endpoint logic (called by the handler; returns status, headers, body) --------

    def handle_authorize(self, params: dict[str, str]):
        with self._lock:
            self.received.authorize.append(AuthorizeRequest(params=dict(params)))
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id:
            return _json_error(HTTPStatus.BAD_REQUEST, "invalid_client")
        if not redirect_uri or (
            self.redirect_uris is not None and redirect_uri not in self.redirect_uris
        ):
            return _json_error(HTTPStatus.BAD_REQUEST, "invalid_redirect_uri")
        if params.get("response_type") != "code":
            return _redirect(redirect_uri, error="unsupported_response_type", state=params)
        if "openid" not in params.get("scope", "").split():
            return _redirect(redirect_uri, error="invalid_scope", state=params)
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                code=code,
                client_id=self.client_id,
                redirect_uri=redirect_uri,
                nonce=params.get("nonce"),
                acr_values=params.get("acr_values"),
                code_challenge=params.get("code_challenge"),
                code_challenge_method=params.get("code_challenge_method"),
            )
        return _redirect(redirect_uri, code=code, state=params)

    def handle_token(self, form: dict[str, str], authorization: str | None):
        with self._lock:
            self.received.token.append(dict(form))
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or not secrets.compare_digest(
            client_secret or "", self.client_secret
        ):
            return _json_error(HTTPStatus.UNAUTHORIZED, "invalid_client")
        if form.get("grant_type") != "authorization_code":
            return _json_error(HTTPStatus.BAD_REQUEST, "unsupported_grant_type")
        with self._lock:
            grant = self._grants.get(form.get("code", ""))
            if grant is None or (grant.uses and not self.allow_code_reuse):
                return _json_error(HTTPStatus.BAD_REQUEST, "invalid_grant")
            grant.uses += 1
        if grant.redirect_uri != form.get("redirect_uri"):
            return _json_error(HTTPStatus.BAD_REQUEST, "invalid_grant")
        if grant.code_challenge and not _pkce_matches(grant, form.get("code_verifier")):
            return _json_error(HTTPStatus.BAD_REQUEST, "invalid_grant")
        if grant.token_response is None:
            access_token = secrets.token_urlsafe(32)
            response = {"access_token": access_token, "token_type": "Bearer", "expires_in": 60}
            if not self.omit_id_token:
                response["id_token"] = self.sign(self.id_token_claims(grant))
            with self._lock:
                self._access_tokens[access_token] = {
                    "sub": self.userinfo_sub or self.subject,
                    **self.user_claims,
                }
                grant.token_response = response
        # A reused code (allow_code_reuse) gets the very same tokens again.
        with self._lock:
            self.issued_tokens.append(dict(grant.token_response))
        return HTTPStatus.OK, {"Cache-Control": "no-store"}, grant.token_response

    def handle_userinfo(self, authorization: str | None):
        with self._lock:
            self.received.userinfo += 1
            token = (authorization or "").removeprefix("Bearer ")
            claims = self._access_tokens.get(token)
        if not authorization or not authorization.startswith("Bearer ") or claims is None:
            return (
                HTTPStatus.UNAUTHORIZED,
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
                {"error": "invalid_token"},
            )
        return HTTPStatus.OK, {}, claims


def _pkce_matches(grant: _Grant, verifier: str | None) -> bool:
    if not verifier:
        return False
    if grant.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        computed = verifier
    return secrets.compare_digest(computed, grant.code_challenge or "")


def _json_error(status: HTTPStatus, error: str):
    return status, {}, {"error": error}


def _redirect(redirect_uri: str, *, state: dict[str, str], **params: str):
    if state.get("state"):
        params["state"] = state["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return HTTPStatus.FOUND, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"}, None


class _Handler(BaseHTTPRequestHandler):
    provider: FakeOIDCProvider  # set on the per-server subclass
    timeout = HTTP_TIMEOUT_SECONDS  # socket timeout: a stuck client cannot hang the server

    def log_message(self, format, *args) -> None:
        pass  # keep test output quiet

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        provider = self.provider
        if parts.path == "/.well-known/openid-configuration":
            with provider._lock:
                provider.received.discovery += 1
            self._send(HTTPStatus.OK, {}, provider.discovery_document())
        elif parts.path == "/jwks":
            with provider._lock:
                provider.received.jwks += 1
            self._send(HTTPStatus.OK, {}, provider.jwks())
        elif parts.path == "/authorize":
            params = {k: v[0] for k, v in parse_qs(parts.query).items()}
            self._send(*provider.handle_authorize(params))
        elif parts.path == "/userinfo":
            self._send(*provider.handle_userinfo(self.headers.get("Authorization")))
        else:
            self._send(HTTPStatus.NOT_FOUND, {}, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if urlsplit(self.path).path != "/token":
            self._send(HTTPStatus.NOT_FOUND, {}, {"error": "not_found"})
            return
        form = {k: v[0] for k, v in parse_qs(body).items()}
        self._send(*self.provider.handle_token(form, self.headers.get("Authorization")))

    def _send(self, status: HTTPStatus, headers: dict[str, str], payload: dict | None) -> None:
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
