"""The hub never holds plaintext: a dataset encrypted with the SDK's real crypto is uploaded, annotated and
downloaded, then every table of the database and everything the hub logged is searched for a marker that
only the plaintext contains. The downloaded ciphertext decrypts to the plaintext with a member's key."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import Base
from protocol.encoding import b64url_decode, b64url_encode
from supplier_sdk.rooms.crypto import decrypt_pieces, encrypt_stream, generate_data_key
from supplier_sdk.rooms.keywrap import WrappedDataKey, unwrap_data_key, wrap_data_key
from supplier_sdk.rooms.manifest import build_manifest, sign_manifest
from tests.hub.rooms.conftest import Member, open_room

MARKER = b"QX-PLAINTEXT-MARKER-c0ffee-41C"


def _dump(db: Session) -> list[bytes]:
    """Every value of every table, as bytes (text UTF-8 encoded, binary as it is)."""
    values = []
    for table in Base.metadata.sorted_tables:
        for row in db.execute(select(table)):
            for value in row:
                values.append(bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode())
    return values


def test_neither_the_database_nor_the_logs_hold_a_plaintext_byte(
    owner: Member,
    compressor: Member,
    motor: Member,
    db: Session,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level("DEBUG")
    room = open_room(owner, {compressor: "contributor", motor: "contributor"})
    room_id, dataset_id = uuid.UUID(room["id"]), uuid.uuid4()
    plaintext = b"t,temperature,noise_db\n" + b"".join(
        b"%d,41.%d,%s\n" % (n, n % 10, MARKER) for n in range(40_000)
    )  # ~2 MiB: several encrypted chunks and storage rows
    key = generate_data_key()
    sink = io.BytesIO()
    stats = encrypt_stream(io.BytesIO(plaintext), sink, key=key, room_id=room_id, dataset_id=dataset_id)
    ciphertext = sink.getvalue()
    wraps = {
        m: wrap_data_key(
            key,
            recipient_public_key=m.enc_key.public_key(),
            room_id=room_id,
            dataset_id=dataset_id,
            recipient_key_id=m.enc_key_id,
        )
        for m in (owner, compressor, motor)
    }
    manifest = build_manifest(
        room_id=room_id,
        dataset_id=dataset_id,
        name="noise.csv",
        media_type="text/csv",
        plaintext_size=len(plaintext),
        chunk_size=1 << 20,
        ciphertext_size=len(ciphertext),
        ciphertext_sha256=stats.ciphertext_sha256,
        recipient_key_ids=[m.enc_key_id for m in wraps],
    )
    body = {
        "id": str(dataset_id),
        "name": "noise.csv",
        "media_type": "text/csv",
        "plaintext_size": len(plaintext),
        "chunk_size": 1 << 20,
        "ciphertext_size": len(ciphertext),
        "ciphertext_sha256": stats.ciphertext_sha256,
        "manifest_signature": sign_manifest(
            manifest, private_key=compressor.signing_key, key_id=compressor.signing_key_id
        ).model_dump(mode="json"),
        "wrapped_keys": [
            {
                "organization_id": str(m.id),
                "recipient_key_id": w.recipient_key_id,
                "ephemeral_public_key": b64url_encode(w.ephemeral_public_key),
                "wrapped_key": b64url_encode(w.wrapped_key),
                "algorithm": w.algorithm,
            }
            for m, w in wraps.items()
        ],
    }
    created = compressor.post(f"/v1/rooms/{room_id}/datasets", json=body)
    assert created.status_code == 201, created.text
    url = f"/v1/rooms/{room_id}/datasets/{dataset_id}"
    assert compressor.put(f"{url}/content", content=ciphertext).status_code == 200
    motor.post(
        f"/v1/rooms/{room_id}/annotations",
        json={
            "body": "rows 10-20 look odd",
            "anchor": {"dataset_id": str(dataset_id), "row_start": 10, "row_end": 20},
        },
    )

    # A member downloads and decrypts with its own key: the hub served exactly what it was given.
    mine = motor.get(url).json()["wrapped_key"]
    wrapped = WrappedDataKey(
        algorithm=mine["algorithm"],
        recipient_key_id=mine["recipient_key_id"],
        ephemeral_public_key=b64url_decode(mine["ephemeral_public_key"]),
        wrapped_key=b64url_decode(mine["wrapped_key"]),
    )
    data_key = unwrap_data_key(wrapped, private_key=motor.enc_key, room_id=room_id, dataset_id=dataset_id)
    downloaded = motor.get(f"{url}/content").content
    assert (
        b"".join(decrypt_pieces([downloaded], key=data_key, room_id=room_id, dataset_id=dataset_id))
        == plaintext
    )

    values = _dump(db)
    assert any(v == ciphertext[: len(v)] and len(v) > 1000 for v in values), "the ciphertext rows were dumped"
    assert not [v[:80] for v in values if MARKER in v]
    assert not [v for v in values if key in v or b64url_encode(key).encode() in v]
    logged = caplog.text + "".join(capfd.readouterr())
    assert "request" in logged and MARKER.decode() not in logged
