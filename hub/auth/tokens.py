"""JWT access tokens (RFC 9068) signed by the hub with Ed25519, and the JWKS that publishes the key."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

from hub.errors import Unauthenticated
from protocol.jwk import public_jwk, thumbprint
from protocol.models.common import OrgKind

ALGORITHM = "Ed25519"
VERIFIED_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Caller:
    """Who is calling: the organization and client behind a verified access token, or the person behind a
    browser session (then ``person_id`` is set and the audit names the person)."""

    org_id: uuid.UUID
    org_kind: OrgKind
    client_id: str
    scopes: frozenset[str]
    person_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        if self.person_id is not None:
            return f"person:{self.person_id}"
        return f"client:{self.client_id}"


class TokenKeys:
    """The hub's token key as a JWK, with the public half for /.well-known/jwks.json."""

    def __init__(
        self, private_key: Ed25519PrivateKey, *, issuer: str, previous: list[Ed25519PublicKey] | None = None
    ) -> None:
        self.private_key = private_key
        self.issuer = issuer
        self.jwk = OKPKey.import_key(private_key)
        self.key_id = thumbprint(public_jwk(private_key))
        # Verification keys by id: the current one, then those retired by a rotation (still valid for what they
        # signed: tokens until they expire, audit checkpoints for ever).
        self.public_keys: dict[str, Ed25519PublicKey] = {self.key_id: private_key.public_key()}
        for key in previous or []:
            self.public_keys.setdefault(thumbprint(public_jwk(key)), key)
        self._key_set = KeySet(
            [OKPKey.import_key(key, parameters={"kid": kid}) for kid, key in self.public_keys.items()]
        )
        # Verified tokens, until they expire: a client sends the same token for many requests, and checking its
        # signature and claims again each time is a tenth of a KPI report's CPU. Bounded; the oldest goes first.
        self._verified: dict[str, tuple[Caller, int]] = {}

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                {**public_jwk(key), "kid": kid, "use": "sig", "alg": ALGORITHM}
                for kid, key in self.public_keys.items()
            ]
        }

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": self.key_id}
        return jwt.encode(header, claims, self.jwk, algorithms=[ALGORITHM])

    def verify(self, token: str) -> Caller:
        """Check signature, type, issuer, audience and lifetime; never touches the database."""
        known = self._verified.get(token)
        if known is not None and known[1] > now():
            return known[0]
        caller, expires = self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)), None)
        self._verified[token] = (caller, expires)
        return caller

    def _verify(self, token: str) -> tuple[Caller, int]:
        try:
            decoded = jwt.decode(token, self._key_set, algorithms=[ALGORITHM])
        except (JoseError, ValueError) as exc:
            raise Unauthenticated("access token is malformed or its signature is invalid") from exc
        if decoded.header.get("typ") != "at+jwt":
            raise Unauthenticated("not an access token (typ must be at+jwt)")
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.issuer},
            exp={"essential": True},
            sub={"essential": True},
            org_id={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise Unauthenticated(f"access token rejected: {exc.description or exc.error}") from exc
        try:
            caller = Caller(
                org_id=uuid.UUID(str(claims["org_id"])),
                org_kind=OrgKind(claims["org_kind"]),
                client_id=str(claims["client_id"]),
                scopes=frozenset(str(claims.get("scope", "")).split()),
            )
            return caller, int(claims["exp"])
        except (KeyError, ValueError, TypeError) as exc:
            raise Unauthenticated("access token lacks the hub's claims") from exc


def now() -> int:
    return int(time.time())
