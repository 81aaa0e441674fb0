"""A real OpenID Connect provider for the tests, on a loopback port: Authlib's authorization server (the code
grant with PKCE and its OpenID Connect extension) behind a small Starlette app that serves discovery, JWKS,
the authorization endpoint and the token endpoint, and signs real RS256 ID tokens.

The authorization endpoint signs in ``provider.login`` at once (the person "typed their password"); a test
sets ``provider.tamper`` to make the next ID tokens wrong in one way (``aud``, ``nonce``, ``exp``)."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode, UserInfo
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.local import free_port


@dataclass
class Login:
    """Who signs in at the provider, and what it says about them."""

    sub: str
    email: str
    email_verified: bool = True
    name: str = "Jo Example"
    groups: list[str] = field(default_factory=list)


@dataclass
class _Code(AuthorizationCodeMixin):
    code: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    login: Login

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int | None:
        return None

    def get_acr(self) -> str:
        return ""

    def get_amr(self) -> list[str]:
        return []


class _Client(ClientMixin):
    def __init__(self, provider: OidcProvider) -> None:
        self.provider = provider

    def get_client_id(self) -> str:
        return self.provider.client_id

    def get_default_redirect_uri(self) -> str:
        return self.provider.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in {"openid", "email", "profile"})

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.provider.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.provider.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_basic"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class _CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        provider: OidcProvider = self.server.provider  # type: ignore[attr-defined]
        provider.codes[code] = _Code(
            code=code,
            redirect_uri=request.payload.redirect_uri,
            scope=request.payload.scope,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            login=request.user,
        )

    def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
        return client.provider.codes.get(code)

    def delete_authorization_code(self, authorization_code: _Code) -> None:
        self.server.provider.codes.pop(authorization_code.code, None)  # type: ignore[attr-defined]

    def authenticate_user(self, authorization_code: _Code) -> Login:
        return authorization_code.login


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return any(code.nonce == nonce for code in self.provider.codes.values())

    def resolve_client_private_key(self, client: _Client) -> RSAKey:
        return self.provider.key

    def get_client_algorithm(self, client: _Client) -> str:
        return "RS256"

    def get_encode_header(self, client: _Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.provider.kid}

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.provider.issuer,
            "aud": [client.get_client_id()],
            "exp": now + 300,
        }
        if "aud" in self.provider.tamper:
            claims["aud"] = self.provider.tamper["aud"]
        if "exp_in" in self.provider.tamper:
            claims["exp"] = now + int(self.provider.tamper["exp_in"])
        return claims

    def get_authorization_code_claims(self, authorization_code: _Code) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        if "nonce" in self.provider.tamper:
            claims["nonce"] = self.provider.tamper["nonce"]
        return claims

    def generate_user_info(self, user: Login, scope: str) -> UserInfo:
        return UserInfo(
            sub=user.sub,
            email=user.email,
            email_verified=user.email_verified,
            name=user.name,
            groups=user.groups,
        )


class _Request(OAuth2Request):
    """A request as Authlib's grants read it: the query (authorization) or the form (token endpoint)."""

    def __init__(self, method: str, uri: str, headers: Any, data: dict[str, str]) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._data = data
        self.payload = BasicOAuth2Payload(data)

    @property
    def args(self) -> dict[str, str]:
        return self._data if self.method == "GET" else {}

    @property
    def form(self) -> dict[str, str]:
        return self._data if self.method == "POST" else {}


class _Server(AuthorizationServer):
    def __init__(self, provider: OidcProvider) -> None:
        super().__init__(scopes_supported=["openid", "email", "profile"])
        self.provider = provider
        self.register_grant(_CodeGrant, [CodeChallenge(required=True), _OpenIDCode(provider)])
        self.register_token_generator(
            "default", BearerTokenGenerator(lambda *_args, **_kw: generate_token(42))
        )

    def query_client(self, client_id: str) -> _Client | None:
        return _Client(self.provider) if client_id == self.provider.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        return None

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return _Request(*request)

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


class OidcProvider:
    """An identity provider on ``http://127.0.0.1:<port>`` for one client, the hub at ``redirect_uri``."""

    def __init__(self, *, redirect_uri: str, client_id: str = "qualink-hub") -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.client_id = client_id
        self.client_secret = generate_token(32)
        self.redirect_uri = redirect_uri
        self.kid = generate_token(8)
        self.key = RSAKey.generate_key(2048, parameters={"kid": self.kid, "use": "sig", "alg": "RS256"})
        self.codes: dict[str, _Code] = {}
        self.login = Login(sub=generate_token(12), email="jo@example.com")
        self.tamper: dict[str, Any] = {}
        self.token_requests = 0
        self._server = _Server(self)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
            ]
        )

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def _authorize(self, request: Request) -> Response:
        query = dict(request.query_params)
        oauth = self._server.create_oauth2_request(("GET", str(request.url), request.headers, query))
        grant = self._server.get_consent_grant(oauth, end_user=self.login)
        return self._server.create_authorization_response(grant.request, grant_user=self.login, grant=grant)  # type: ignore[no-any-return]

    async def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = {key: str(value) for key, value in (await request.form()).items()}
        oauth = ("POST", str(request.url), request.headers, form)
        return self._server.create_token_response(oauth)  # type: ignore[no-any-return]


@contextmanager
def serving(provider: OidcProvider) -> Iterator[OidcProvider]:
    """The provider over a real socket for the duration of the block."""
    server = uvicorn.Server(
        uvicorn.Config(provider.app(), host="127.0.0.1", port=provider.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="oidc-provider", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
