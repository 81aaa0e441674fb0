"""The signed manifest of a room dataset: what the uploader vouches for, checked before any plaintext is released.

The uploader signs (Ed25519, :func:`protocol.signing.sign_envelope`, type ``room-dataset-manifest``) the
canonical bytes of a :class:`~protocol.models.rooms.DatasetManifest`::

    {"chunk_size": 1048576, "ciphertext_sha256": "<hex>", "ciphertext_size": 1048640, "dataset_id": "<uuid>",
     "media_type": "text/csv", "name": "bench-run-17.csv", "plaintext_size": 1048576,
     "recipient_key_ids": ["<X25519 key id>", ...], "room_id": "<uuid>"}

``recipient_key_ids`` are the key ids the data key was first wrapped to, sorted (members who join later get
re-wrapped keys the manifest does not list). A downloader checks the signature with the uploader organization's
signing key, that the manifest is for this room and dataset, and that the hub's metadata and the downloaded
ciphertext's SHA-256 match it (:func:`verify_manifest`); only then is the decrypted file put in place.

Example:
    >>> import uuid
    >>> from protocol.signing import generate_signing_key
    >>> manifest = build_manifest(room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2), name="log.csv",
    ...                           media_type="text/csv", plaintext_size=0, chunk_size=1024, ciphertext_size=32,
    ...                           ciphertext_sha256="ab" * 32, recipient_key_ids=["k2", "k1"])
    >>> manifest.recipient_key_ids
    ['k1', 'k2']
    >>> key = generate_signing_key()
    >>> envelope = sign_manifest(manifest, private_key=key)
    >>> verify_manifest(envelope, key.public_key(), room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2),
    ...                 ciphertext_sha256="ab" * 32).name
    'log.csv'
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from protocol.errors import SignatureInvalid
from protocol.models.rooms import DATASET_MANIFEST_TYPE, DatasetManifest
from protocol.signing import SignedEnvelope, sign_envelope, verify_envelope
from supplier_sdk.rooms.crypto import DatasetIntegrityError


def build_manifest(
    *,
    room_id: uuid.UUID,
    dataset_id: uuid.UUID,
    name: str,
    media_type: str,
    plaintext_size: int,
    chunk_size: int,
    ciphertext_size: int,
    ciphertext_sha256: str,
    recipient_key_ids: Iterable[str],
) -> DatasetManifest:
    """The manifest of one dataset; ``recipient_key_ids`` are sorted and deduplicated.

    Example:
        >>> build_manifest(room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2), name="a", media_type="text/csv",
        ...                plaintext_size=1, chunk_size=1024, ciphertext_size=33, ciphertext_sha256="AB" * 32,
        ...                recipient_key_ids=[]).ciphertext_sha256[:4]
        'abab'
    """
    return DatasetManifest(
        room_id=room_id,
        dataset_id=dataset_id,
        name=name,
        media_type=media_type,
        plaintext_size=plaintext_size,
        chunk_size=chunk_size,
        ciphertext_size=ciphertext_size,
        ciphertext_sha256=ciphertext_sha256.lower(),
        recipient_key_ids=sorted(set(recipient_key_ids)),
    )


def sign_manifest(
    manifest: DatasetManifest, *, private_key: Ed25519PrivateKey, key_id: str | None = None
) -> SignedEnvelope:
    """Sign ``manifest`` with the uploader organization's Ed25519 key (envelope type ``room-dataset-manifest``).

    Example:
        >>> from protocol.signing import generate_signing_key
        >>> manifest = build_manifest(room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2), name="a",
        ...                           media_type="text/csv", plaintext_size=1, chunk_size=1024,
        ...                           ciphertext_size=33, ciphertext_sha256="0" * 64, recipient_key_ids=[])
        >>> sign_manifest(manifest, private_key=generate_signing_key()).type
        'room-dataset-manifest'
    """
    return sign_envelope(manifest, type=DATASET_MANIFEST_TYPE, private_key=private_key, key_id=key_id)


def verify_manifest(
    envelope: SignedEnvelope,
    public_key: Ed25519PublicKey | bytes,
    *,
    room_id: uuid.UUID,
    dataset_id: uuid.UUID,
    ciphertext_sha256: str | None = None,
    expected: dict[str, Any] | None = None,
) -> DatasetManifest:
    """Check a manifest's signature and that it describes this dataset; return the manifest.

    Args:
        envelope: the signed manifest, as the hub keeps it.
        public_key: the uploader organization's Ed25519 signing key named by ``envelope.key_id``.
        room_id, dataset_id: the dataset being read; a manifest for another is refused.
        ciphertext_sha256: the SHA-256 (hex) of the ciphertext actually downloaded, compared in constant time.
        expected: further fields that must equal the manifest's (e.g. the hub's ``ciphertext_size``).

    Raises:
        DatasetIntegrityError: the signature does not verify, or a field differs.

    Example:
        >>> from protocol.signing import generate_signing_key
        >>> key = generate_signing_key()
        >>> manifest = build_manifest(room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2), name="a",
        ...                           media_type="text/csv", plaintext_size=1, chunk_size=1024,
        ...                           ciphertext_size=33, ciphertext_sha256="0" * 64, recipient_key_ids=[])
        >>> verify_manifest(sign_manifest(manifest, private_key=key), key.public_key(), room_id=uuid.UUID(int=1),
        ...                 dataset_id=uuid.UUID(int=3))
        Traceback (most recent call last):
        ...
        supplier_sdk.rooms.crypto.DatasetIntegrityError: the manifest is for dataset 00000000-0000-0000-0000-000000000002
    """
    try:
        verify_envelope(envelope, public_key, expected_type=DATASET_MANIFEST_TYPE)
    except SignatureInvalid as exc:
        raise DatasetIntegrityError(f"the dataset manifest's signature does not verify: {exc}") from exc
    try:
        manifest = DatasetManifest.model_validate(envelope.payload)
    except ValidationError as exc:
        raise DatasetIntegrityError(f"the signed manifest is malformed: {exc.errors()[0]['msg']}") from None
    if manifest.room_id != room_id:
        raise DatasetIntegrityError(f"the manifest is for room {manifest.room_id}")
    if manifest.dataset_id != dataset_id:
        raise DatasetIntegrityError(f"the manifest is for dataset {manifest.dataset_id}")
    if ciphertext_sha256 is not None:
        signed = manifest.ciphertext_sha256.encode()
        if not hmac.compare_digest(signed, ciphertext_sha256.lower().encode()):
            raise DatasetIntegrityError("the ciphertext's SHA-256 is not the one the uploader signed")
    for name, value in (expected or {}).items():
        if getattr(manifest, name) != value:
            raise DatasetIntegrityError(
                f"the hub's {name} ({value!r}) is not the signed {getattr(manifest, name)!r}"
            )
    return manifest


__all__ = ["build_manifest", "sign_manifest", "verify_manifest"]
