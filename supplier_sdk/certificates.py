"""Certificates as verifiable credentials: sign one as a certification body, verify one offline, and the hub's
certificate resource (issue, list, show, share, unshare, suspend, reinstate, withdraw).

A certificate is a W3C Verifiable Credential with an ``eddsa-jcs-2022`` proof (:mod:`protocol.credentials`):
anyone who holds the JSON can verify it without the hub (:func:`verify_certificate`); the hub adds the status the
certifier sets and who the supplier shares it with.

Example:
    >>> from datetime import UTC, datetime
    >>> from uuid import UUID
    >>> from protocol.signing import load_private_key
    >>> claims = CertificateClaims(standard="ISO 9001", number="Q-1", scope="machining", supplier_id=UUID(int=7),
    ...     site_id="p1", site_name="Plant 1", valid_from=datetime(2026, 1, 1, tzinfo=UTC),
    ...     valid_until=datetime(2029, 1, 1, tzinfo=UTC))
    >>> credential = sign_certificate(claims, load_private_key(bytes(32)), created=datetime(2026, 1, 2, tzinfo=UTC))
    >>> verify_certificate(credential).number
    'Q-1'
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import credentials as vc
from protocol.credentials import CertificateClaims, CredentialInvalid
from protocol.models.certificates import Certificate, CertificateAction


def sign_certificate(
    claims: CertificateClaims, key: Ed25519PrivateKey, *, created: datetime | None = None
) -> dict[str, Any]:
    """The credential stating ``claims``, issued by ``key``'s ``did:key`` and secured with its proof.

    Args:
        claims: what the certificate states.
        key: the certifier's Ed25519 signing key (registered with the hub).
        created: when it is signed (default: now).

    Example:
        >>> from protocol.signing import generate_signing_key
        >>> from uuid import UUID
        >>> c = CertificateClaims(standard="ISO 14001", number="E-1", scope="all", supplier_id=UUID(int=1),
        ...     site_id="p", site_name="P", valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        ...     valid_until=datetime(2027, 1, 1, tzinfo=UTC))
        >>> sign_certificate(c, generate_signing_key())["proof"]["cryptosuite"]
        'eddsa-jcs-2022'
    """
    document = vc.credential_for(claims, issuer=vc.did_key(key))
    return vc.add_proof(document, key, created=created or datetime.now(UTC))


def verify_certificate(credential: dict[str, Any]) -> CertificateClaims:
    """Verify a certificate credential offline (its proof, that the issuer signed it, its fields); raises
    :class:`~protocol.credentials.CredentialInvalid` naming the failed check.

    Args:
        credential: the credential JSON as issued.

    Example:
        >>> verify_certificate({"issuer": "did:key:z6Mk"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        protocol.credentials.CredentialInvalid: the credential carries no single proof object
    """
    return vc.verify_credential(credential)


class Requester(Protocol):
    """What the resource needs of :class:`supplier_sdk.requester.Requester`: one authenticated request."""

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = ..., json: Any = ...
    ) -> Any: ...  # pragma: no cover


class Certificates:
    """The hub's certificates (``client.certificates``).

    Args:
        requester: a :class:`supplier_sdk.requester.Requester` (anything with its ``request``).

    Example::

        with Client(base_url="https://hub.example", client_id="…", private_key=key) as hub:
            for certificate in hub.certificates.list():
                print(certificate.standard, certificate.status, certificate.valid_until)
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def issue(self, credential: dict[str, Any]) -> Certificate:
        """Send a signed credential to the hub (certifier), which verifies and stores it."""
        return Certificate.model_validate(
            self._requester.request("POST", "/v1/certificates", json={"credential": credential})
        )

    def list(self, *, supplier_id: uuid.UUID | None = None) -> list[Certificate]:
        """Every certificate the caller issued, holds or was shared (following the pages)."""
        found: list[Certificate] = []
        cursor: str | None = None
        while True:
            params: dict[str, str] = {"limit": "100"}
            if supplier_id is not None:
                params["supplier_id"] = str(supplier_id)
            if cursor:
                params["cursor"] = cursor
            page = self._requester.request("GET", "/v1/certificates", params=params)
            found += [Certificate.model_validate(item) for item in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                return found

    def get(self, certificate_id: uuid.UUID) -> Certificate:
        """One certificate with its signed credential."""
        return Certificate.model_validate(
            self._requester.request("GET", f"/v1/certificates/{certificate_id}")
        )

    def share(self, certificate_id: uuid.UUID, oem_id: uuid.UUID, *, shared: bool = True) -> Certificate:
        """Share the supplier's certificate with a customer (``shared=False``: stop sharing it)."""
        verb = "share" if shared else "unshare"
        body = {"oem_id": str(oem_id)}
        return Certificate.model_validate(
            self._requester.request("POST", f"/v1/certificates/{certificate_id}/{verb}", json=body)
        )

    def change_status(
        self, certificate_id: uuid.UUID, action: CertificateAction, *, reason: str = ""
    ) -> Certificate:
        """Suspend, reinstate or withdraw the certifier's certificate."""
        body = {"reason": reason}
        return Certificate.model_validate(
            self._requester.request("POST", f"/v1/certificates/{certificate_id}/{action}", json=body)
        )


__all__ = ["Certificates", "CredentialInvalid", "sign_certificate", "verify_certificate"]
