"""``client.keys``: your organization's public keys and API clients, for registering and rotating keys.

The hub holds one active key per use: ``sig`` (Ed25519, verifies your KPI reports and dataset manifests) and
``enc`` (X25519, room data keys are wrapped to it). Registering a new key of a use retires the previous one: a
retired key still verifies what it signed before but signs nothing new. Revoking a key makes it verify nothing
any more. An API client authenticates with its own registered public JWK (``private_key_jwt``); rotating the
signing key therefore also makes a client for the new key (:meth:`Keys.create_client`). Needs ``org:admin``
to change anything, ``org:read`` to list.

Example::

    new_key = generate_key(KeyUse.ENCRYPTION)
    registered = hub.keys.register(new_key)      # the previous enc key is now retired
    print(registered.key_id, [k.key_id for k in hub.keys.list() if k.status == "retired"])
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.encoding import b64url_encode
from protocol.models.common import KeyStatus, KeyUse
from protocol.models.orgs import ApiClient, OrgKey, OrgKeyRegister
from supplier_sdk.auth import public_jwk
from supplier_sdk.errors import ConfigError, ConflictError
from supplier_sdk.key_files import PrivateKey, key_id, public_raw
from supplier_sdk.organizations import own_organization

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester
    from supplier_sdk.signer import Signer


def key_use(key: PrivateKey) -> KeyUse:
    """``sig`` for an Ed25519 key, ``enc`` for an X25519 key.

    Example:
        >>> key_use(Ed25519PrivateKey.generate()).value
        'sig'
    """
    return KeyUse.SIGNING if isinstance(key, Ed25519PrivateKey) else KeyUse.ENCRYPTION


class Keys:
    """The keys and API clients of one client's organization (``client.keys``).

    Example::

        active = [k for k in hub.keys.list() if k.status == "active"]
    """

    def __init__(self, requester: Requester, *, signer: Signer | None = None) -> None:
        self._requester = requester
        self._signer = signer

    def list(self) -> builtins.list[OrgKey]:
        """Every public key of your organization: active, retired and revoked.

        Example: ``ids = [k.key_id for k in hub.keys.list()]``
        """
        org = own_organization(self._requester)
        return [
            OrgKey.model_validate(item) for item in self._requester.pages(f"/v1/organizations/{org.id}/keys")
        ]

    def register(self, key: PrivateKey) -> OrgKey:
        """Register the public half of ``key`` (its use from its kind); the previous key of that use is retired.

        Registering the key that is already active is not an error: the registered key is returned.

        Raises:
            ConflictError: the key is registered already but is not active (retired or revoked), or another
                organization's.

        Example: ``hub.keys.register(load_key_file("org.enc.key", KeyUse.ENCRYPTION)).status``
        """
        use = key_use(key)
        body = OrgKeyRegister(use=use, public_key=b64url_encode(public_raw(key)))
        try:
            return OrgKey.model_validate(
                self._requester.request("POST", "/v1/keys", json=body.model_dump(mode="json"))
            )
        except ConflictError:
            wanted = key_id(key)
            for registered in self.list():
                if registered.key_id == wanted and registered.status is KeyStatus.ACTIVE:
                    return registered
            raise

    def register_signing_key(self) -> str:
        """Register the public half of the client's own signing key (its signer's) as the organization's
        Ed25519 key; return its id. The previous signing key is retired; the key already active is no error.

        Example::

            key_id = hub.keys.register_signing_key()
            assert key_id == hub.signing_key_id
        """
        if self._signer is None:
            raise ConfigError("no Ed25519 signing key to register")
        return self.register(self._signer.private_key).key_id

    def revoke(self, key_id: str) -> OrgKey:
        """Revoke a key: it verifies nothing any more, not even what it signed before.

        Example: ``hub.keys.revoke("kPrK_qmxVWaY…").status == "revoked"``
        """
        return OrgKey.model_validate(self._requester.request("POST", f"/v1/keys/{key_id}/revoke"))

    def clients(self) -> builtins.list[ApiClient]:
        """Your organization's API clients, revoked ones included.

        Example: ``[c.client_id for c in hub.keys.clients() if c.revoked_at is None]``
        """
        return [ApiClient.model_validate(item) for item in self._requester.pages("/v1/clients")]

    def create_client(
        self, *, name: str, key: Ed25519PrivateKey, scopes: Iterable[str] | None = None
    ) -> ApiClient:
        """A new ``private_key_jwt`` API client that authenticates with ``key`` (default scopes if ``None``).

        Example: ``new = hub.keys.create_client(name="plant-mes", key=new_key, scopes=["kpi:write"])``
        """
        body: dict[str, Any] = {"name": name, "public_jwk": public_jwk(key)}
        if scopes is not None:
            body["scopes"] = list(scopes)
        return ApiClient.model_validate(self._requester.request("POST", "/v1/clients", json=body)["client"])

    def revoke_client(self, client_id: str) -> ApiClient:
        """Revoke an API client of your organization: it gets no more tokens.

        Example: ``hub.keys.revoke_client("qlc_old")``
        """
        return ApiClient.model_validate(self._requester.request("POST", f"/v1/clients/{client_id}/revoke"))


__all__ = ["Keys", "key_use"]
