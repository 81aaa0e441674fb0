"""The OAuth 2.0 authorization server, built on Authlib's RFC 6749 / RFC 7523 machinery.

One grant: client credentials (RFC 6749 §4.4). Two ways for a client to authenticate: ``private_key_jwt``
(RFC 7523 client assertion, preferred) and ``client_secret_basic``. Access tokens are RFC 9068 JWTs.
Authlib's server is synchronous; the router hands it a request built from the already-read form body.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749 import grants as rfc6749_grants
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidScopeError
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import import_key
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.auth.tokens import TokenKeys, now
from hub.config import Settings
from hub.errors import OAuthError
from hub.models import ApiClient, Organization, UsedClientAssertion
from protocol.models.common import ClientAuthMethod

ASSERTION_ALGORITHMS = ["Ed25519", "EdDSA", "ES256"]


def secret_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class RegisteredClient(ClientMixin):
    """Authlib's view of an ApiClient row."""

    def __init__(self, row: ApiClient, org: Organization) -> None:
        self.row = row
        self.org = org

    def get_client_id(self) -> str:
        return self.row.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        if self.row.secret_sha256 is None:
            return False
        return hmac.compare_digest(self.row.secret_sha256, secret_digest(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method == self.row.auth_method

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def allowed_scopes(self) -> set[str]:
        return set(self.row.scopes.split())


class _ClientCredentials(rfc6749_grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = [
        ClientAuthMethod.PRIVATE_KEY_JWT.value,
        ClientAuthMethod.CLIENT_SECRET_BASIC.value,
    ]

    def validate_requested_scope(self) -> None:
        requested = self.request.payload.scope
        super().validate_requested_scope()
        if requested:
            client: RegisteredClient = self.request.client
            extra = set(requested.split()) - client.allowed_scopes()
            if extra:
                raise InvalidScopeError(f"the client may not request: {' '.join(sorted(extra))}")


class _PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = ClientAuthMethod.PRIVATE_KEY_JWT.value

    def __init__(self, server: HubAuthorizationServer) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.server = server

    def get_audiences(self) -> list[str]:
        return self.server.settings.client_assertion_audiences()

    def resolve_client_public_key(self, client: RegisteredClient) -> Any:
        if not client.row.public_jwk:
            raise InvalidClientError(description="this client has no registered public key")
        return import_key(client.row.public_jwk)

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        # Authlib decodes with joserfc's "recommended" algorithms only; our clients sign with Ed25519.
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except JoseError as exc:
            raise InvalidClientError(
                description=f"client assertion rejected: {exc.description or exc.error}"
            ) from exc
        claims = token.claims
        exp = claims.get("exp")
        limit = now() + self.server.settings.client_assertion_max_age_seconds
        if isinstance(exp, int) and exp > limit:
            raise InvalidClientError(
                description="client assertion lives too long (exp too far in the future)"
            )
        self.verify_claims(claims)
        return claims

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        return self.server.consume_jti(str(claims["sub"]), str(jti), int(claims["exp"]))


class HubAuthorizationServer(AuthorizationServer):
    """Lives for one token request: it holds that request's database session."""

    def __init__(self, session: Session, settings: Settings, keys: TokenKeys, scopes: list[str]) -> None:
        super().__init__(scopes_supported=scopes)
        self.session = session
        self.settings = settings
        self.keys = keys
        self.register_grant(_ClientCredentials)
        self.register_client_auth_method(ClientAuthMethod.PRIVATE_KEY_JWT.value, _PrivateKeyJWT(self))
        self.register_token_generator("default", self._generate_token)

    def query_client(self, client_id: str) -> RegisteredClient | None:
        row = self.session.execute(
            select(ApiClient, Organization)
            .join(Organization, Organization.id == ApiClient.organization_id)
            .where(ApiClient.client_id == client_id, ApiClient.revoked_at.is_(None))
        ).first()
        return RegisteredClient(row[0], row[1]) if row else None

    def consume_jti(self, client_id: str, jti: str, exp: int) -> bool:
        if len(jti) > 200:
            return False
        # Kept until the assertion could no longer be accepted anyway; hub.housekeeping deletes them after.
        expires_at = datetime.fromtimestamp(exp, UTC) + timedelta(seconds=60)
        try:
            with self.session.begin_nested():
                self.session.add(UsedClientAssertion(client_id=client_id, jti=jti, expires_at=expires_at))
        except IntegrityError:
            return False
        return True

    def _generate_token(
        self,
        grant_type: str,
        client: RegisteredClient,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        granted = sorted(set(scope.split()) if scope else client.allowed_scopes())
        ttl = self.settings.access_token_ttl_seconds
        issued = now()
        claims = {
            "iss": self.settings.issuer,
            "sub": client.get_client_id(),
            "aud": self.settings.issuer,
            "client_id": client.get_client_id(),
            "org_id": str(client.org.id),
            "org_kind": client.org.kind,
            "scope": " ".join(granted),
            "iat": issued,
            "exp": issued + ttl,
            "jti": secrets.token_urlsafe(16),
        }
        return {
            "access_token": self.keys.sign(claims),
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": " ".join(granted),
        }

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # Access tokens are self-contained JWTs; nothing to store.
        return None

    def create_oauth2_request(self, request: dict[str, Any]) -> OAuth2Request:
        # Authlib refuses a plain-http token endpoint that is not loopback (InsecureTransportError, which was a 500
        # here). It checks the configured URL, not the connection: production settings already require an https
        # issuer, and a development hub on a LAN name is plain http by design. There the check sees https.
        uri = self.settings.token_endpoint
        if self.settings.environment == "development":
            uri = urlunsplit(urlsplit(uri)._replace(scheme="https"))
        return _FormRequest(request["headers"], request["form"], uri)

    def handle_response(self, status: int, body: Any, headers: Any) -> dict[str, Any]:
        header_map = dict(headers)
        if status >= 400:
            if status == 400 and body.get("error") == "invalid_client":
                # Authlib answers 401 only when the client used the Authorization header; a failed client
                # assertion is the same failure, and RFC 6749 §5.2 allows 401 for it too.
                status = 401
                challenge = f'Basic realm="{self.settings.issuer}", error="invalid_client"'
                header_map.setdefault("WWW-Authenticate", challenge)
            raise OAuthError(status, dict(body), header_map)
        return {"body": body, "headers": header_map}

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


class _FormRequest(OAuth2Request):
    def __init__(self, headers: Mapping[str, str], form: dict[str, str], uri: str) -> None:
        super().__init__(method="POST", uri=uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}
