"""The signer: the organization's Ed25519 key and the key id it signs under, for the resources that sign.

KPI reports (``client.kpi_reports``) and room dataset manifests (``client.rooms``) are signed envelopes; the
resources that make them are handed a :class:`Signer`, never the client or its private parts. The requester
(:mod:`supplier_sdk.requester`) does not sign anything but its own client assertions.

Example:
    >>> from protocol.models.kpi import KpiClaim, KpiReportPayload
    >>> from uuid import UUID
    >>> signer = Signer(Ed25519PrivateKey.generate())
    >>> payload = KpiReportPayload(supplier_id=UUID(int=1), oem_id=UUID(int=2), agreement_id=UUID(int=3),
    ...     part_number="A-1", period="2026-11", kpi="mtbf", claim=KpiClaim(meets=True, threshold="5000"),
    ...     sdk_version="0.1.0")
    >>> signer.sign(payload, type="kpi-report").key_id == signer.key_id
    True
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel

from protocol.signing import SignedEnvelope, key_id_for, public_key_raw, sign_envelope


class Signer:
    """An Ed25519 private key and the key id its signatures name.

    Args:
        private_key: the organization's Ed25519 signing key.
        key_id: the id the hub knows the key by; default its RFC 7638 thumbprint, which is the id the hub
            gives it at registration.

    Example:
        >>> signer = Signer(Ed25519PrivateKey.generate())
        >>> len(signer.public_key_raw), signer.key_id == key_id_for(signer.public_key_raw)
        (32, True)
    """

    def __init__(self, private_key: Ed25519PrivateKey, *, key_id: str | None = None) -> None:
        if not isinstance(private_key, Ed25519PrivateKey):
            raise TypeError(f"private_key must be an Ed25519 private key, not {type(private_key).__name__}")
        self._private_key = private_key
        self._key_id = key_id or key_id_for(public_key_raw(private_key))

    @property
    def key_id(self) -> str:
        """The key id every envelope this signer makes carries.

        Example: ``envelope.key_id == signer.key_id``
        """
        return self._key_id

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The private key itself (to register its public half, or for a signing function that wants it).

        Example: ``hub.keys.register(signer.private_key)``
        """
        return self._private_key

    @property
    def public_key_raw(self) -> bytes:
        """The 32 raw bytes of the public key.

        Example: ``b64url_encode(signer.public_key_raw)``
        """
        return public_key_raw(self._private_key)

    def sign(self, payload: BaseModel, *, type: str) -> SignedEnvelope:
        """Sign ``payload`` into an envelope of ``type`` now (a fresh ``signed_at`` and nonce).

        Example: ``envelope = signer.sign(payload, type=KPI_REPORT_TYPE)``
        """
        return sign_envelope(payload, type=type, private_key=self._private_key, key_id=self._key_id)


__all__ = ["Signer"]
