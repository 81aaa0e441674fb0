"""The people in the demo: each organization with its own key pair, client and narrated HTTP calls."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from rich.console import Console

from protocol.encoding import b64url_encode
from protocol.signing import public_key_raw
from supplier_sdk.auth import token_request_form


class DemoFailure(RuntimeError):
    """A step did not answer as a real user would expect; the demo stops with a non-zero status."""


@dataclass
class Actor:
    name: str
    kind: str
    console: Console
    base_url: str
    signing_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    encryption_key: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)
    org_id: str = ""
    client_id: str = ""
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(2026))
    _token: str = ""
    _token_expires: float = 0.0

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=30)

    def token(self) -> str:
        if time.monotonic() < self._token_expires - 30:
            return self._token
        form = token_request_form(
            client_id=self.client_id,
            private_key=self.signing_key,
            token_url=f"{self.base_url}/oauth/token",
            scope=None,
        )
        response = self.http.post("/oauth/token", data=form)
        if response.status_code != 200:
            raise DemoFailure(f"{self.name} could not get a token: {response.text}")
        body = response.json()
        self._token, self._token_expires = body["access_token"], time.monotonic() + body["expires_in"]
        self.say(f"obtained an access token ([dim]private_key_jwt[/dim], scopes: {body['scope']})")
        return self._token

    def say(self, text: str) -> None:
        self.console.print(f"  [bold cyan]{self.name}[/bold cyan] {text}")

    def call(
        self, method: str, path: str, *, json: Any = None, expect: int = 200, quiet: bool = False
    ) -> Any:
        started = time.perf_counter()
        headers = {"Authorization": f"Bearer {self.token()}"}
        response = self.http.request(method, path, json=json, headers=headers)
        ms = (time.perf_counter() - started) * 1000
        if not quiet:
            self.console.print(f"    [dim]{method} {path} → {response.status_code} ({ms:.0f} ms)[/dim]")
        if response.status_code != expect:
            raise DemoFailure(f"{method} {path} answered {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def register_keys(self) -> None:
        for use, key in (("sig", self.signing_key), ("enc", self.encryption_key)):
            body = {"use": use, "public_key": b64url_encode(public_key_raw(key))}
            registered = self.call("POST", "/v1/keys", json=body, expect=201, quiet=True)
            self.say(f"registered its {registered['algorithm']} key [dim]{registered['key_id'][:16]}…[/dim]")

    def close(self) -> None:
        self.http.close()
