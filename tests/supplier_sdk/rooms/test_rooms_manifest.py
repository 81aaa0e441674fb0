"""The uploader's signed dataset manifest: checked for signature, room, dataset, digest and hub metadata."""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.signing import SignedEnvelope, generate_signing_key
from supplier_sdk.rooms.crypto import DatasetIntegrityError
from supplier_sdk.rooms.manifest import build_manifest, sign_manifest, verify_manifest

ROOM, DATASET = uuid.uuid4(), uuid.uuid4()
DIGEST = "c0ffee" + "0" * 58


def manifest_envelope() -> tuple[Ed25519PrivateKey, SignedEnvelope]:
    signer = generate_signing_key()
    manifest = build_manifest(
        room_id=ROOM,
        dataset_id=DATASET,
        name="noise.csv",
        media_type="text/csv",
        plaintext_size=100,
        chunk_size=1024,
        ciphertext_size=132,
        ciphertext_sha256=DIGEST,
        recipient_key_ids=["b", "a", "b"],
    )
    return signer, sign_manifest(manifest, private_key=signer)


def test_a_good_manifest_verifies_and_lists_sorted_unique_key_ids() -> None:
    key, envelope = manifest_envelope()
    manifest = verify_manifest(
        envelope,
        key.public_key(),
        room_id=ROOM,
        dataset_id=DATASET,
        ciphertext_sha256=DIGEST.upper(),
        expected={"ciphertext_size": 132},
    )

    assert manifest.recipient_key_ids == ["a", "b"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"room_id": uuid.uuid4()}, "for room"),
        ({"dataset_id": uuid.uuid4()}, "for dataset"),
        ({"ciphertext_sha256": "0" * 64}, "SHA-256"),
        ({"expected": {"plaintext_size": 101}}, "plaintext_size"),
    ],
)
def test_a_manifest_for_something_else_is_refused(change: dict[str, object], message: str) -> None:
    key, envelope = manifest_envelope()
    arguments: dict[str, object] = {"room_id": ROOM, "dataset_id": DATASET, "ciphertext_sha256": DIGEST}
    arguments.update(change)

    with pytest.raises(DatasetIntegrityError, match=message):
        verify_manifest(envelope, key.public_key(), **arguments)


def test_a_changed_manifest_or_another_signer_is_refused() -> None:
    key, envelope = manifest_envelope()
    envelope.payload["plaintext_size"] = 99
    with pytest.raises(DatasetIntegrityError, match="signature"):
        verify_manifest(envelope, key.public_key(), room_id=ROOM, dataset_id=DATASET)
    _, other = manifest_envelope()
    with pytest.raises(DatasetIntegrityError, match="signature"):
        verify_manifest(other, key.public_key(), room_id=ROOM, dataset_id=DATASET)
