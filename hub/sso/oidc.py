"""The relying party's side of OpenID Connect (Core 1.0, §3.1: the authorization code flow) with PKCE (RFC 7636).

``begin`` makes the authorization URL and the pending sign-in (state, nonce, code verifier) the browser keeps
in a sealed cookie; ``finish`` exchanges the code for tokens with Authlib's client and validates the ID token:
its signature against the provider's JWKS, and issuer, audience, authorized party, nonce, expiry and issue time
(Authlib's ``CodeIDToken`` rules on joserfc's claim registry), all against the hub's clock."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hub.errors import HubError
from hub.models import SsoProvider

with warnings.catch_warnings():
    # Authlib's httpx client warns that it would rather have "httpx2"; the hub speaks httpx throughout.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import OAuth2Client

SCOPE = "openid email profile"
# Asymmetric only: an HS256 ID token would be "signed" with our own client secret.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
LEEWAY_SECONDS = 60


class SignInFailed(HubError):
    """The provider's answer does not sign anyone in (a refused flow, a bad ID token, no matching person)."""

    status_code = 401


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def _get_json(url: str, *, timeout: float, what: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=False)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInFailed(f"the provider's {what} could not be read ({type(exc).__name__})") from None
    if not isinstance(body, dict):
        raise SignInFailed(f"the provider's {what} is no JSON object")
    return body


def discover(provider: SsoProvider, *, timeout: float) -> ProviderMetadata:
    body = _get_json(provider.discovery_url, timeout=timeout, what="discovery document")
    fields = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(body.get(name), str) for name in fields):
        raise SignInFailed("the provider's discovery document lacks an endpoint")
    # OpenID Connect Discovery §4.3: the document must name the very issuer it was configured for.
    if body["issuer"].rstrip("/") != provider.issuer:
        raise SignInFailed("the provider's discovery document names another issuer")
    return ProviderMetadata(**{name: body[name] for name in fields})


def begin(provider: SsoProvider, *, redirect_uri: str, timeout: float) -> tuple[str, dict[str, str]]:
    """The provider's authorization URL, and the pending sign-in to keep until the browser comes back."""
    metadata = discover(provider, timeout=timeout)
    pending = {
        "provider": str(provider.id),
        "state": generate_token(32),
        "nonce": generate_token(32),
        "verifier": generate_token(64),
    }
    client = OAuth2Client(
        client_id=provider.client_id, redirect_uri=redirect_uri, scope=SCOPE, code_challenge_method="S256"
    )
    with client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint,
            state=pending["state"],
            code_verifier=pending["verifier"],
            nonce=pending["nonce"],
        )
    return url, pending


def _exchange(
    provider: SsoProvider,
    metadata: ProviderMetadata,
    *,
    secret: str,
    code: str,
    verifier: str,
    redirect_uri: str,
    timeout: float,
) -> dict[str, Any]:
    client = OAuth2Client(
        client_id=provider.client_id,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name, no secret)
        redirect_uri=redirect_uri,
        timeout=timeout,
    )
    try:
        with client:
            return dict(
                client.fetch_token(
                    metadata.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=verifier,
                )
            )
    except OAuth2Error as exc:
        raise SignInFailed(f"the provider refused the code ({exc.error})") from None
    except (httpx.HTTPError, ValueError) as exc:
        raise SignInFailed(f"the provider's token endpoint failed ({type(exc).__name__})") from None


def validate_id_token(
    id_token: str,
    *,
    jwks: dict[str, Any],
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The ID token's claims, or :class:`SignInFailed` naming the claim that was wrong."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "value": client_id},
            },
            params={"nonce": nonce, "client_id": client_id, "access_token": access_token},
        )
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
    except JoseError as exc:
        raise SignInFailed(
            f"the provider's ID token was refused: {exc.error} {exc.description or ''}".strip()
        ) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise SignInFailed(f"the provider's ID token was refused ({type(exc).__name__})") from None
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SignInFailed("the provider's ID token names no subject")
    return dict(claims)


def finish(
    provider: SsoProvider,
    *,
    secret: str,
    pending: dict[str, str],
    code: str,
    redirect_uri: str,
    now: datetime,
    timeout: float,
) -> dict[str, Any]:
    """Exchange the code (with the PKCE verifier) and return the validated ID token's claims."""
    metadata = discover(provider, timeout=timeout)
    tokens = _exchange(
        provider,
        metadata,
        secret=secret,
        code=code,
        verifier=pending["verifier"],
        redirect_uri=redirect_uri,
        timeout=timeout,
    )
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise SignInFailed("the provider sent no ID token")
    access_token = tokens.get("access_token")
    return validate_id_token(
        id_token,
        jwks=_get_json(metadata.jwks_uri, timeout=timeout, what="keys (JWKS)"),
        issuer=provider.issuer,
        client_id=provider.client_id,
        nonce=pending["nonce"],
        access_token=access_token if isinstance(access_token, str) else None,
        now=now,
    )
