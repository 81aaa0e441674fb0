"""The dataset stream cipher and the key wrap: round trips, and every kind of tampering is refused."""

from __future__ import annotations

import hashlib
import io
import os
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.encoding import b64url_encode
from supplier_sdk.rooms.crypto import (
    HEADER_SIZE,
    TAG_SIZE,
    DatasetIntegrityError,
    StreamDecryptor,
    ciphertext_size,
    decrypt_pieces,
    decrypt_stream,
    encrypt_stream,
    generate_data_key,
    iter_encrypt,
)
from supplier_sdk.rooms.keywrap import (
    WrappedDataKey,
    encryption_key_id,
    generate_encryption_key,
    load_encryption_key,
    unwrap_data_key,
    wrap_data_key,
)

ROOM = uuid.UUID("0193a000-0000-7000-8000-000000000001")
DATASET = uuid.UUID("0193a000-0000-7000-8000-000000000002")
KEY = bytes(range(32))


def seal(
    plaintext: bytes,
    *,
    chunk_size: int = 16,
    key: bytes = KEY,
    room: uuid.UUID = ROOM,
    dataset: uuid.UUID = DATASET,
) -> bytes:
    return b"".join(
        iter_encrypt(io.BytesIO(plaintext), key=key, room_id=room, dataset_id=dataset, chunk_size=chunk_size)
    )


def open_(sealed: bytes, *, key: bytes = KEY, room: uuid.UUID = ROOM, dataset: uuid.UUID = DATASET) -> bytes:
    sink = io.BytesIO()
    decrypt_stream(io.BytesIO(sealed), sink, key=key, room_id=room, dataset_id=dataset, read_size=7)
    return sink.getvalue()


def chunks_of(sealed: bytes, chunk_size: int) -> list[bytes]:
    body = sealed[HEADER_SIZE:]
    step = chunk_size + TAG_SIZE
    return [body[i : i + step] for i in range(0, len(body), step)]


@given(plaintext=st.binary(max_size=300), chunk_size=st.integers(1, 64))
def test_round_trip_and_size(plaintext: bytes, chunk_size: int) -> None:
    sealed = seal(plaintext, chunk_size=chunk_size)

    assert len(sealed) == ciphertext_size(len(plaintext), chunk_size)
    assert open_(sealed) == plaintext


def test_the_same_plaintext_never_gives_the_same_ciphertext() -> None:
    assert seal(b"x" * 40) != seal(b"x" * 40)


def test_stats_report_sizes_and_the_ciphertext_digest() -> None:
    sink = io.BytesIO()
    stats = encrypt_stream(
        io.BytesIO(b"a" * 50), sink, key=KEY, room_id=ROOM, dataset_id=DATASET, chunk_size=16
    )

    assert (stats.plaintext_size, stats.chunks) == (50, 4)
    assert stats.ciphertext_sha256 == hashlib.sha256(sink.getvalue()).hexdigest()
    back = decrypt_stream(
        io.BytesIO(sink.getvalue()), io.BytesIO(), key=KEY, room_id=ROOM, dataset_id=DATASET
    )
    assert back == stats


@settings(max_examples=60)
@given(plaintext=st.binary(min_size=1, max_size=120), position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_any_flipped_bit_fails(plaintext: bytes, position: int, bit: int) -> None:
    sealed = bytearray(seal(plaintext))
    sealed[position % len(sealed)] ^= 1 << bit

    with pytest.raises(DatasetIntegrityError):
        open_(bytes(sealed))


@settings(max_examples=40)
@given(plaintext=st.binary(max_size=100), key=st.binary(min_size=32, max_size=32))
def test_a_wrong_key_fails(plaintext: bytes, key: bytes) -> None:
    if key == KEY:
        return
    with pytest.raises(DatasetIntegrityError):
        open_(seal(plaintext), key=key)


@settings(max_examples=40)
@given(plaintext=st.binary(max_size=100), other=st.uuids())
def test_a_swapped_dataset_or_room_id_fails(plaintext: bytes, other: uuid.UUID) -> None:
    sealed = seal(plaintext)
    with pytest.raises(DatasetIntegrityError):
        open_(sealed, dataset=other if other != DATASET else uuid.uuid4())
    with pytest.raises(DatasetIntegrityError):
        open_(sealed, room=other if other != ROOM else uuid.uuid4())
    with pytest.raises(DatasetIntegrityError):
        open_(sealed, room=DATASET, dataset=ROOM)


@settings(max_examples=60)
@given(plaintext=st.binary(min_size=1, max_size=200), cut=st.integers(1, 10_000))
def test_truncation_anywhere_fails(plaintext: bytes, cut: int) -> None:
    sealed = seal(plaintext)
    keep = len(sealed) - 1 - (cut % (len(sealed) - 1))  # 0 .. len-1 bytes kept: always shorter

    with pytest.raises(DatasetIntegrityError):
        open_(sealed[:keep])


def test_truncation_exactly_at_a_chunk_boundary_fails() -> None:
    sealed = seal(b"z" * 64, chunk_size=16)  # four full chunks
    for kept in range(1, 4):
        cut = HEADER_SIZE + kept * (16 + TAG_SIZE)
        with pytest.raises(DatasetIntegrityError, match=f"chunk {kept - 1}"):
            open_(sealed[:cut])


@settings(max_examples=40)
@given(plaintext=st.binary(min_size=33, max_size=160), data=st.data())
def test_reordered_or_duplicated_chunks_fail(plaintext: bytes, data: st.DataObject) -> None:
    sealed = seal(plaintext, chunk_size=16)
    chunks = chunks_of(sealed, 16)
    order = data.draw(st.permutations(range(len(chunks))))
    if list(order) == list(range(len(chunks))):
        order = [*order[1:], order[0]]
    with pytest.raises(DatasetIntegrityError):
        open_(sealed[:HEADER_SIZE] + b"".join(chunks[i] for i in order))
    with pytest.raises(DatasetIntegrityError):
        open_(sealed[:HEADER_SIZE] + chunks[0] + b"".join(chunks))


@settings(max_examples=40)
@given(plaintext=st.binary(max_size=100), extra=st.binary(min_size=1, max_size=80))
def test_bytes_after_the_final_chunk_fail(plaintext: bytes, extra: bytes) -> None:
    sealed = seal(plaintext)
    with pytest.raises(DatasetIntegrityError):
        open_(sealed + extra)
    with pytest.raises(DatasetIntegrityError):
        open_(sealed + sealed[HEADER_SIZE:])  # a whole second copy of the chunks


def test_a_chunk_from_another_stream_under_the_same_key_fails() -> None:
    first, second = seal(b"a" * 48), seal(b"b" * 48)
    spliced = (
        first[: HEADER_SIZE + 32] + second[HEADER_SIZE + 32 : HEADER_SIZE + 64] + first[HEADER_SIZE + 64 :]
    )

    with pytest.raises(DatasetIntegrityError):
        open_(spliced)


def test_no_plaintext_of_a_bad_chunk_is_released() -> None:
    sealed = bytearray(seal(b"A" * 16 + b"B" * 16 + b"C" * 16))
    sealed[HEADER_SIZE + 32 + 3] ^= 1  # second chunk
    reader = StreamDecryptor(key=KEY, room_id=ROOM, dataset_id=DATASET)

    released = reader.feed(bytes(sealed[: HEADER_SIZE + 33]))  # first chunk complete, second begun
    with pytest.raises(DatasetIntegrityError):
        released += reader.feed(bytes(sealed[HEADER_SIZE + 33 :]))

    assert released == b"A" * 16


def test_an_empty_file_is_one_final_chunk_and_an_empty_stream_fails() -> None:
    sealed = seal(b"")
    assert len(sealed) == HEADER_SIZE + TAG_SIZE
    assert open_(sealed) == b""
    with pytest.raises(DatasetIntegrityError, match="header"):
        open_(b"")
    with pytest.raises(DatasetIntegrityError, match="inside chunk 0"):
        open_(sealed[:HEADER_SIZE])


def test_a_header_claiming_another_chunk_size_fails() -> None:
    sealed = bytearray(seal(b"q" * 40, chunk_size=16))
    with pytest.raises(DatasetIntegrityError, match="chunk size 16"):
        reader = StreamDecryptor(key=KEY, room_id=ROOM, dataset_id=DATASET, expected_chunk_size=1024)
        reader.feed(bytes(sealed))
    sealed[8] = 32  # chunk size 16 -> 32: the header is in every chunk's AAD
    with pytest.raises(DatasetIntegrityError):
        open_(bytes(sealed))
    sealed[0:4] = b"NOPE"
    with pytest.raises(DatasetIntegrityError, match="QXRD"):
        open_(bytes(sealed))


@given(plaintext=st.binary(max_size=200), sizes=st.lists(st.integers(1, 50), min_size=1, max_size=20))
def test_pieces_of_any_size_decrypt(plaintext: bytes, sizes: list[int]) -> None:
    sealed = seal(plaintext)
    pieces, at, i = [], 0, 0
    while at < len(sealed):
        pieces.append(sealed[at : at + sizes[i % len(sizes)]])
        at += sizes[i % len(sizes)]
        i += 1

    assert b"".join(decrypt_pieces(pieces, key=KEY, room_id=ROOM, dataset_id=DATASET)) == plaintext


def test_a_large_file_streams_with_bounded_memory(tmp_path: object) -> None:
    import tracemalloc

    size = 24 * 1024 * 1024 + 123
    source = io.BytesIO(os.urandom(size))
    sealed = io.BytesIO()
    tracemalloc.start()
    encrypt_stream(source, sealed, key=KEY, room_id=ROOM, dataset_id=DATASET)
    _, encrypt_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sealed.seek(0)
    opened = io.BytesIO()
    tracemalloc.start()
    decrypt_stream(sealed, opened, key=KEY, room_id=ROOM, dataset_id=DATASET)
    _, decrypt_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert opened.getvalue() == source.getvalue()
    # The in-memory sink grows to the file size; what the cipher holds beyond it is a few chunks.
    assert encrypt_peak < size * 1.15 + 8 * 1024 * 1024
    assert decrypt_peak < size * 1.15 + 8 * 1024 * 1024


# -- key wrap ------------------------------------------------------------------------------------------------


def test_wrap_round_trip_and_a_fresh_ephemeral_key_each_time() -> None:
    member = generate_encryption_key()
    data_key = generate_data_key()
    first = wrap_data_key(
        data_key, recipient_public_key=member.public_key(), room_id=ROOM, dataset_id=DATASET
    )
    second = wrap_data_key(
        data_key, recipient_public_key=member.public_key(), room_id=ROOM, dataset_id=DATASET
    )

    assert first.ephemeral_public_key != second.ephemeral_public_key
    assert first.wrapped_key != second.wrapped_key
    for wrapped in (first, second):
        assert unwrap_data_key(wrapped, private_key=member, room_id=ROOM, dataset_id=DATASET) == data_key


def test_a_wrapped_key_is_bound_to_its_context() -> None:
    member, other = generate_encryption_key(), generate_encryption_key()
    wrapped = wrap_data_key(KEY, recipient_public_key=member.public_key(), room_id=ROOM, dataset_id=DATASET)
    moved = [
        dict(private_key=other, room_id=ROOM, dataset_id=DATASET),
        dict(private_key=member, room_id=uuid.uuid4(), dataset_id=DATASET),
        dict(private_key=member, room_id=ROOM, dataset_id=uuid.uuid4()),
    ]
    for context in moved:
        with pytest.raises(DatasetIntegrityError):
            unwrap_data_key(wrapped, **context)  # type: ignore[arg-type]
    relabelled = WrappedDataKey("another-key-id", wrapped.ephemeral_public_key, wrapped.wrapped_key)
    with pytest.raises(DatasetIntegrityError):
        unwrap_data_key(relabelled, private_key=member, room_id=ROOM, dataset_id=DATASET)
    other_algorithm = WrappedDataKey(
        wrapped.recipient_key_id,
        wrapped.ephemeral_public_key,
        wrapped.wrapped_key,
        "X25519-HKDF-SHA512-AES128GCM",
    )
    with pytest.raises(DatasetIntegrityError, match="algorithm"):
        unwrap_data_key(other_algorithm, private_key=member, room_id=ROOM, dataset_id=DATASET)


@settings(max_examples=40)
@given(position=st.integers(0, 79), bit=st.integers(0, 7))
def test_a_tampered_wrapped_key_fails(position: int, bit: int) -> None:
    member = load_encryption_key(bytes(range(1, 33)))
    wrapped = wrap_data_key(KEY, recipient_public_key=member.public_key(), room_id=ROOM, dataset_id=DATASET)
    blob = bytearray(wrapped.ephemeral_public_key + wrapped.wrapped_key)
    blob[position] ^= 1 << bit
    tampered = WrappedDataKey(wrapped.recipient_key_id, bytes(blob[:32]), bytes(blob[32:]))

    with pytest.raises(DatasetIntegrityError):
        unwrap_data_key(tampered, private_key=member, room_id=ROOM, dataset_id=DATASET)


def test_a_low_order_ephemeral_key_is_refused() -> None:
    member = generate_encryption_key()
    zero = WrappedDataKey(encryption_key_id(member), bytes(32), bytes(48))

    with pytest.raises(DatasetIntegrityError):
        unwrap_data_key(zero, private_key=member, room_id=ROOM, dataset_id=DATASET)


def test_wire_form_round_trips_and_key_ids_match_the_hubs() -> None:
    from protocol.signing import key_id_for

    member = generate_encryption_key()
    wrapped = wrap_data_key(
        KEY, recipient_public_key=member.public_key().public_bytes_raw(), room_id=ROOM, dataset_id=DATASET
    )
    back = WrappedDataKey.from_wire(
        recipient_key_id=wrapped.recipient_key_id,
        ephemeral_public_key=wrapped.ephemeral_public_key_b64,
        wrapped_key=wrapped.wrapped_key_b64,
        algorithm=wrapped.algorithm,
    )

    assert back == wrapped
    assert wrapped.recipient_key_id == key_id_for(member.public_key().public_bytes_raw(), crv="X25519")


def test_encryption_keys_load_from_raw_base64url_and_pem() -> None:
    from cryptography.hazmat.primitives import serialization

    key = generate_encryption_key()
    raw = key.private_bytes_raw()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for form in (raw, b64url_encode(raw), b64url_encode(raw) + "\n", pem, pem.decode()):
        assert encryption_key_id(load_encryption_key(form)) == encryption_key_id(key)
    with pytest.raises(ValueError):
        load_encryption_key(b"short")


def test_the_header_commits_to_the_key_before_any_chunk_is_opened() -> None:
    sealed = seal(b"p" * 100)
    reader = StreamDecryptor(key=bytes(32), room_id=ROOM, dataset_id=DATASET)
    with pytest.raises(DatasetIntegrityError, match="key commitment"):
        reader.feed(sealed[:HEADER_SIZE])  # the header alone is enough to refuse another key
    for position in range(16, HEADER_SIZE):  # any bit of the commitment itself
        tampered = bytearray(sealed)
        tampered[position] ^= 0x80
        with pytest.raises(DatasetIntegrityError, match="key commitment"):
            open_(bytes(tampered))
