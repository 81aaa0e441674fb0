"""Rooms end to end over a real socket: an OEM, its compressor supplier and the motor sub-supplier share an
encrypted test log, a late joiner gets the key re-wrapped, a removed member gets no key to later datasets, a
dataset changed on the hub is refused before any plaintext is released, and closing with deletion shreds it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from hub.models import RoomDatasetChunk, RoomWrappedKey
from protocol.models.common import OrgKind
from protocol.models.rooms import Anchor, DatasetStatus, Evidence, MemberInvite, RoomStatus
from supplier_sdk.client import Client
from supplier_sdk.errors import Gone, NotFound
from supplier_sdk.rooms.client import DatasetUnavailable, Rooms
from supplier_sdk.rooms.crypto import DatasetIntegrityError, ciphertext_size
from supplier_sdk.rooms.keywrap import generate_encryption_key, wrap_data_key
from tests.supplier_sdk.rooms.rooms_support import Member, hub_engine, join_network, table_rows, write_file
from tests.supplier_sdk.test_client_support import Network, running_network

pytestmark = pytest.mark.e2e

LOG = b"t_s,rpm,noise_db,temp_c\n" + b"".join(
    f"{t},{2950 + t % 7},{68 + (t > 400) * 4}.{t % 10},{25 + t // 20}\n".encode() for t in range(900)
)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "rooms_e2e") as network:
        yield network


@pytest.fixture(scope="module")
def oem(network: Network) -> Member:
    return join_network(network, OrgKind.OEM, "OEM", party=network.oem)


@pytest.fixture
def compressor(network: Network) -> Member:
    return join_network(network, OrgKind.SUPPLIER, "Compressor supplier")


@pytest.fixture
def motor(network: Network) -> Member:
    return join_network(network, OrgKind.SUPPLIER, "Motor sub-supplier")


def open_room(oem: Member, *invited: Member, policy: str = "delete_after_closing") -> uuid.UUID:
    room = oem.rooms.open(
        title="Compressor noise above 40 °C",
        expires_at=datetime.now(UTC) + timedelta(days=30),
        deletion_policy=policy,
        members=[MemberInvite(organization_id=member.org_id) for member in invited],
    )
    for member in invited:
        member.rooms.accept(room.id)
    return room.id


def test_three_organizations_share_annotate_sign_off_and_shred(
    network: Network, oem: Member, compressor: Member, motor: Member, tmp_path: Path
) -> None:
    room = open_room(oem, compressor)
    log = write_file(tmp_path, "bench-run-17.csv", LOG)

    dataset = compressor.rooms.upload(room, log, media_type="text/csv", chunk_size=4096)
    assert dataset.status is DatasetStatus.AVAILABLE and dataset.plaintext_size == len(LOG)
    assert dataset.chunk_size == 4096 and dataset.ciphertext_size == ciphertext_size(len(LOG), 4096)

    oem.rooms.download(room, dataset.id, tmp_path / "oem.csv")
    assert (tmp_path / "oem.csv").read_bytes() == LOG

    # The motor sub-supplier joins later: no key until a member re-wraps it (the hub cannot).
    oem.rooms.invite(room, motor.org_id)
    motor.rooms.accept(room)
    assert oem.rooms.dataset(room, dataset.id).missing_keys == [motor.org_id]
    with pytest.raises(DatasetIntegrityError, match="rewrap"):
        motor.rooms.download(room, dataset.id, tmp_path / "motor.csv")
    assert not (tmp_path / "motor.csv").exists()
    rewrapped = oem.rooms.rewrap(room)
    assert [d.id for d in rewrapped] == [dataset.id] and rewrapped[0].missing_keys == []
    motor.rooms.download(room, dataset.id, tmp_path / "motor.csv")
    assert (tmp_path / "motor.csv").read_bytes() == LOG
    assert oem.rooms.rewrap(room) == []  # nothing left to do

    hypothesis = motor.rooms.annotate(
        room,
        "Noise rises with winding temperature",
        tag="hypothesis",
        anchor=Anchor(dataset_id=dataset.id, row_start=400, row_end=900),
    )
    root_cause = compressor.rooms.annotate(
        room, "Bearing preload too low on motor lot M-2291", tag="root_cause", parent_id=hypothesis.id
    )
    edited = motor.rooms.edit_annotation(room, hypothesis.id, tag="verified")
    assert edited.tag.value == "verified" and [r.tag.value for r in edited.revisions][:1] == ["hypothesis"]
    assert {a.id for a in oem.rooms.annotations(room)} == {hypothesis.id, root_cause.id}

    step = oem.rooms.update_step(
        room,
        "D4",
        owner_id=oem.org_id,
        content="Root cause: bearing preload on motor lot M-2291",
        evidence=[Evidence(kind="annotation", id=root_cause.id), Evidence(kind="dataset", id=dataset.id)],
    )
    assert step.revision >= 1
    signed = oem.rooms.sign_off(room, "D4")
    assert signed.signed_off_at is not None and signed.signed_off_by == oem.org_id
    actions = [entry.action for entry in oem.rooms.timeline(room)]
    assert {"dataset_announced", "dataset_uploaded", "dataset_keys_added"} <= set(actions)

    closed = oem.rooms.close(room, note="fixed at the motor sub-supplier")
    assert closed.status is RoomStatus.CLOSED and closed.shredded_at is not None
    with pytest.raises(DatasetUnavailable, match="shredded"):
        oem.rooms.download(room, dataset.id, tmp_path / "after.csv")
    with pytest.raises(Gone):  # and the hub has nothing to serve: gone for good (it was a 409)
        oem.client.request("GET", f"/v1/rooms/{room}/datasets/{dataset.id}/content")
    assert not (tmp_path / "after.csv").exists()
    assert oem.rooms.dataset(room, dataset.id).status is DatasetStatus.SHREDDED
    assert table_rows(network, "room_dataset_chunks", dataset_id=dataset.id) == []
    assert table_rows(network, "room_wrapped_keys", dataset_id=dataset.id) == []
    summary = oem.rooms.export(room)
    assert summary["type"] == "room-8d-summary"
    assert "bearing preload" in oem.rooms.export(room, format="markdown").lower()


def test_a_removed_member_gets_no_key_to_later_datasets(
    network: Network, oem: Member, compressor: Member, motor: Member, tmp_path: Path
) -> None:
    room = open_room(oem, compressor, motor, policy="keep")
    before = compressor.rooms.upload(room, write_file(tmp_path, "before.csv", LOG))
    motor.rooms.download(room, before.id, tmp_path / "shared.csv")  # while a member, it reads
    assert (tmp_path / "shared.csv").read_bytes() == LOG
    oem.rooms.remove(room, motor.org_id)

    after = compressor.rooms.upload(room, write_file(tmp_path, "after.csv", LOG[::-1]))

    holders = {
        row["organization_id"] for row in table_rows(network, "room_wrapped_keys", dataset_id=after.id)
    }
    assert holders == {oem.org_id, compressor.org_id}
    earlier = {
        row["organization_id"] for row in table_rows(network, "room_wrapped_keys", dataset_id=before.id)
    }
    assert earlier == {oem.org_id, compressor.org_id}  # the hub dropped its keys to earlier datasets too
    with pytest.raises(NotFound):  # and serves it nothing of the room
        motor.rooms.download(room, after.id, tmp_path / "stolen.csv")
    with pytest.raises(NotFound):
        motor.rooms.dataset(room, before.id)
    assert not (tmp_path / "stolen.csv").exists()


def test_a_dataset_changed_on_the_hub_is_refused_and_nothing_is_written(
    network: Network, oem: Member, compressor: Member, tmp_path: Path
) -> None:
    room = open_room(oem, compressor, policy="keep")
    data = os.urandom(3 * 1024 * 1024 + 17)
    dataset = compressor.rooms.upload(room, write_file(tmp_path, "big.bin", data))
    oem.rooms.download(room, dataset.id, tmp_path / "good.bin")
    assert (tmp_path / "good.bin").read_bytes() == data

    chunk = table_rows(network, "room_dataset_chunks", dataset_id=dataset.id, seq=1)[0]["data"]
    tampered = bytes(chunk[:100]) + bytes([chunk[100] ^ 1]) + bytes(chunk[101:])
    with hub_engine(network) as engine, engine.begin() as connection:
        connection.execute(
            update(RoomDatasetChunk)
            .where(RoomDatasetChunk.dataset_id == dataset.id, RoomDatasetChunk.seq == 1)
            .values(data=tampered)
        )

    with pytest.raises(DatasetIntegrityError):
        oem.rooms.download(room, dataset.id, tmp_path / "bad.bin")
    assert not (tmp_path / "bad.bin").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_another_encryption_key_cannot_open_the_data_key(
    oem: Member, compressor: Member, tmp_path: Path
) -> None:
    room = open_room(oem, compressor, policy="keep")
    dataset = compressor.rooms.upload(room, write_file(tmp_path, "log.csv", LOG))
    stranger = Rooms(oem.client.requester, signer=oem.client.signer, encryption_key=generate_encryption_key())

    with pytest.raises(DatasetIntegrityError, match="wrapped to key"):
        stranger.download(room, dataset.id, tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
    oem.rooms.download(room, dataset.id, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == LOG


class AnswerLostOnce(httpx.HTTPTransport):
    """The real transport, except that the first content upload reaches the hub and its answer is lost."""

    def __init__(self) -> None:
        super().__init__()
        self.puts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "PUT":
            self.puts += 1
            if self.puts == 1:
                response.read()
                raise httpx.ReadTimeout("answer lost", request=request)
        return response


def test_an_upload_whose_answer_was_lost_is_not_reported_as_a_failure(
    network: Network, oem: Member, compressor: Member, tmp_path: Path
) -> None:
    room = open_room(oem, compressor, policy="keep")
    transport = AnswerLostOnce()
    flaky = Client(
        base_url=network.base_url,
        client_id=compressor.party.client_id,
        private_key=compressor.party.key,
        encryption_key=compressor.encryption_key,
        transport=transport,
        backoff_base=0.01,
    )
    with flaky:
        dataset = flaky.rooms.upload(room, write_file(tmp_path, "log.csv", LOG))

    assert transport.puts == 2  # the retry met "uploaded already" and found the very same content stored
    assert dataset.status is DatasetStatus.AVAILABLE
    oem.rooms.download(room, dataset.id, tmp_path / "copy.csv")
    assert (tmp_path / "copy.csv").read_bytes() == LOG


def test_a_signed_off_step_can_be_reopened(oem: Member, compressor: Member) -> None:
    room = open_room(oem, compressor, policy="keep")
    oem.rooms.update_step(
        room, "D3", owner_id=oem.org_id, content="Sorting at the plant: end-of-line noise test"
    )
    assert oem.rooms.sign_off(room, "D3").signed_off_at is not None

    reopened = oem.rooms.reopen_step(room, "D3")

    assert reopened.signed_off_at is None
    assert [s.step.value for s in oem.rooms.steps(room)] == [f"D{i}" for i in range(1, 9)]


def test_a_wrong_data_key_is_caught_by_the_key_commitment_and_never_passed_on(
    network: Network, oem: Member, compressor: Member, motor: Member, tmp_path: Path
) -> None:
    room = open_room(oem, compressor, policy="keep")
    dataset = compressor.rooms.upload(room, write_file(tmp_path, "log.csv", LOG))
    oem.rooms.invite(room, motor.org_id)
    motor.rooms.accept(room)
    # The OEM's copy of the key is replaced by a valid wrap of another key (what a dishonest uploader could do).
    forged = wrap_data_key(
        os.urandom(32),
        recipient_public_key=oem.encryption_key.public_key(),
        room_id=room,
        dataset_id=dataset.id,
    )
    with hub_engine(network) as engine, engine.begin() as connection:
        connection.execute(
            update(RoomWrappedKey)
            .where(RoomWrappedKey.dataset_id == dataset.id, RoomWrappedKey.organization_id == oem.org_id)
            .values(ephemeral_public_key=forged.ephemeral_public_key_b64, wrapped_key=forged.wrapped_key_b64)
        )

    with pytest.raises(DatasetIntegrityError, match="key commitment"):
        oem.rooms.rewrap(room)
    assert oem.rooms.dataset(room, dataset.id).missing_keys == [motor.org_id]  # nothing was passed on
    with pytest.raises(DatasetIntegrityError, match="key commitment"):
        oem.rooms.download(room, dataset.id, tmp_path / "copy.csv")
    assert not (tmp_path / "copy.csv").exists()
