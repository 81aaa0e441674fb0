"""The hub's database and logs never hold a plaintext byte of a room dataset.

A dataset carrying a distinctive marker goes through a real hub (SQLite, or PostgreSQL with
``HUB_TEST_DATABASE_URL``) with every hub, uvicorn and SQLAlchemy logger at DEBUG; then every row of every table
is dumped (and, on SQLite, the database files themselves are read) and searched, with the captured log records
and the process's stderr, for the marker and other plaintext fragments. Positive controls show the search
would have found them: the dataset's name and an annotation (stored in clear by design) are found, the ciphertext
rows add up to the announced size, and the upload's request is in the logs."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from hub.models import Base
from protocol.models.common import OrgKind
from protocol.models.rooms import Anchor, MemberInvite
from tests.supplier_sdk.rooms.rooms_support import hub_engine, join_network, write_file
from tests.supplier_sdk.test_client_support import Network, running_network

pytestmark = pytest.mark.e2e

MARKER = b"QLX-PLAINTEXT-MARKER-7f3a9c51"
FRAGMENTS = [MARKER, b"winding_temp_c,bearing_preload_n", b"M-2291-LOT-SECRET", b"rpm=2957;noise_db=73.4"]
LOGGERS = ["hub", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy.engine", "sqlalchemy.pool"]


class Records(logging.Handler):
    """Keeps every record's message, arguments and extra fields as text."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(f"{record.getMessage()} {record.__dict__!r}")


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for logger, level in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    (tmp_path / "hub").mkdir()
    with running_network(tmp_path / "hub", "rooms_plaintext") as network:
        yield network


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=str).encode()
    return str(value).encode()


def dump_every_table(network: Network) -> tuple[bytes, dict[str, int]]:
    """Every value of every row of every table, concatenated; and the row count per table."""
    parts: list[bytes] = []
    counts = {}
    with hub_engine(network) as engine, engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            counts[table.name] = len(rows)
            for row in rows:
                parts.extend(_as_bytes(value) for value in row)
    return b"\x00".join(parts), counts


def database_files(network: Network) -> bytes:
    """On SQLite, the raw bytes of the database file and its WAL: free pages and journal included."""
    url = make_url(network.hub.settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return b""
    base = Path(url.database)
    return b"".join(path.read_bytes() for path in (base, Path(f"{base}-wal")) if path.exists())


def test_neither_the_database_nor_the_logs_hold_a_plaintext_byte(
    network: Network, records: Records, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    oem = join_network(network, OrgKind.OEM, "OEM", party=network.oem)
    compressor = join_network(network, OrgKind.SUPPLIER, "Compressor supplier")
    room = oem.rooms.open(
        title="Compressor noise",
        expires_at=datetime.now(UTC) + timedelta(days=7),
        deletion_policy="keep",
        members=[MemberInvite(organization_id=compressor.org_id)],
    )
    compressor.rooms.accept(room.id)
    lines = [b"t_s,rpm,noise_db,winding_temp_c,bearing_preload_n,lot,note\n"]
    for t in range(60_000):
        lines.append(
            b"%d,2957,73.4,%d,410,M-2291-LOT-SECRET,rpm=2957;noise_db=73.4 %s\n" % (t, 40 + t % 9, MARKER)
        )
    plaintext = b"".join(lines)
    assert len(plaintext) > 2 * 1024 * 1024 and all(fragment in plaintext for fragment in FRAGMENTS)
    source = write_file(tmp_path, "plain.csv", plaintext)

    dataset = compressor.rooms.upload(room.id, source, name="bench-run-17.csv", media_type="text/csv")
    oem.rooms.annotate(room.id, "control: QLX-ANNOTATION-IN-CLEAR-41c2", anchor=Anchor(dataset_id=dataset.id))
    oem.rooms.download(room.id, dataset.id, tmp_path / "copy.csv")
    assert (tmp_path / "copy.csv").read_bytes() == plaintext
    dump, counts = dump_every_table(network)
    raw_files = database_files(network)
    logs = "\n".join(records.texts).encode() + capfd.readouterr().err.encode()

    for fragment in FRAGMENTS:
        assert fragment not in dump, fragment
        assert fragment not in raw_files, fragment
        assert fragment not in logs, fragment
    # Positive controls: the search covers the stored rows, the files and the logs.
    assert b"bench-run-17.csv" in dump and b"QLX-ANNOTATION-IN-CLEAR-41c2" in dump
    assert counts["room_dataset_chunks"] >= 2 and counts["room_wrapped_keys"] == 2
    if raw_files:
        assert b"bench-run-17.csv" in raw_files and b"QLX-ANNOTATION-IN-CLEAR-41c2" in raw_files
    assert f"/v1/rooms/{room.id}/datasets/{dataset.id}/content".encode() in logs
    assert any("INSERT INTO room_dataset_chunks" in text for text in records.texts)
    assert os.path.getsize(source) == dataset.plaintext_size
