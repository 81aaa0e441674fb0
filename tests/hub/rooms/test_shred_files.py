"""Shredding means gone from the files too: after a room closes with deletion on SQLite, neither the database
file nor its write-ahead log holds a byte run of the deleted ciphertext or of a deleted wrapped key.

This needs real commits (the usual test transaction never commits, so it never checkpoints), hence a fresh
database and a hub whose requests commit as in production. PostgreSQL keeps dead tuples until VACUUM; what an
operator does about that is in the README's rooms section, and no test can read its files from here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.app import create_app
from hub.db import make_engine
from protocol.models.common import OrgKind
from tests.conftest import make_settings
from tests.hub.rooms.conftest import Member, dataset_body, make_member, open_room

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("HUB_TEST_DATABASE_URL")),
    reason="SQLite's -wal file; PostgreSQL is documented instead",
)


@pytest.fixture
def committing(fresh_database: str) -> Iterator[tuple[TestClient, Session, Path]]:
    settings = make_settings(fresh_database)
    engine = make_engine(settings)
    with (
        TestClient(create_app(settings), base_url="http://localhost:8000") as client,
        Session(engine, expire_on_commit=False) as session,
    ):
        yield client, session, Path(str(make_url(fresh_database).database))
    engine.dispose()


def _files(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _probes(blob: bytes) -> list[bytes]:
    """Byte runs from the start, middle and end: any one surviving means the content survived."""
    return [blob[:48], blob[len(blob) // 2 : len(blob) // 2 + 48], blob[-48:]]


def test_closing_with_deletion_leaves_no_ciphertext_or_wrapped_key_in_the_database_or_its_wal(
    committing: tuple[TestClient, Session, Path],
) -> None:
    client, session, path = committing
    owner: Member = make_member(session, client, OrgKind.OEM)
    compressor: Member = make_member(session, client, OrgKind.SUPPLIER)
    session.close()
    room = open_room(owner, {compressor: "contributor"})
    rid = room["id"]
    ciphertext = os.urandom(300_000)
    body = dataset_body(compressor, rid, [owner, compressor], ciphertext)
    assert compressor.post(f"/v1/rooms/{rid}/datasets", json=body).status_code == 201
    stored = compressor.put(f"/v1/rooms/{rid}/datasets/{body['id']}/content", content=ciphertext)
    assert stored.status_code == 200, stored.text
    wrapped = [key["wrapped_key"].encode() for key in body["wrapped_keys"]]  # stored as their base64url text
    before = _files(path)
    assert all(probe in before for probe in _probes(ciphertext)), "the probes find the stored ciphertext"
    assert all(key in before for key in wrapped), "the probes find the stored wrapped keys"

    closed = owner.post(f"/v1/rooms/{rid}/close", json={"note": "done"})
    assert closed.status_code == 200, closed.text

    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the -wal file was checkpointed and truncated"
    after = _files(path)
    assert [probe for probe in _probes(ciphertext) if probe in after] == []
    assert [key for key in wrapped if key in after] == []
    gone = compressor.get(f"/v1/rooms/{rid}/datasets/{body['id']}/content")
    assert gone.status_code == 410 and gone.json()["error"] == "DatasetShredded"
