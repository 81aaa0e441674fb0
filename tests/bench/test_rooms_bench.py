"""A 200 MB room dataset encrypted, uploaded, downloaded and decrypted through the SDK against a real hub.

Run on demand (not part of the suite):

    pytest tests/bench/test_rooms_bench.py -s -p no:cacheprovider --override-ini addopts=

The hub runs as `hub serve` in a process of its own (one worker), on a fresh SQLite file and on a fresh
PostgreSQL database (HUB_BENCH_DATABASE_URL, default ``postgresql+psycopg://postgres@127.0.0.1:5432/qualink``;
the PostgreSQL case is skipped when none answers). ROOMS_BENCH_MB sets the size (default 200). Figures printed
per backend: upload (encrypt to a temporary file, announce, stream) and download (stream, decrypt, check
signature and SHA-256, move into place) in MB/s of plaintext; the SDK's peak Python allocation during the
transfers (tracemalloc) and its peak resident set (ru_maxrss) before and after them; the hub process's peak
resident set (VmHWM). The memory bound is asserted (it is what streaming is for); speed is only printed.
"""

from __future__ import annotations

import hashlib
import os
import resource
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hub import migrate
from hub.config import Settings
from hub.db import make_engine, make_session_factory
from hub.local import free_port
from hub.orgs import service as orgs
from protocol.jwk import public_jwk
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from protocol.models.rooms import MemberInvite
from protocol.signing import generate_signing_key
from supplier_sdk.client import Client
from supplier_sdk.rooms.keywrap import generate_encryption_key
from tests.conftest import _drop_database, create_postgres_database
from tests.hub_server import served_hub

SIZE_MB = int(os.environ.get("ROOMS_BENCH_MB", "200"))
MB = 1024 * 1024


def _postgres() -> str | None:
    base = os.environ.get("HUB_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/qualink")
    try:
        return create_postgres_database(base, "roomsbench")
    except Exception:  # no server: the PostgreSQL case is skipped
        return None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rooms-bench.db'}"
        return
    url = _postgres()
    if url is None:
        pytest.skip("no PostgreSQL at HUB_BENCH_DATABASE_URL")
    yield url
    _drop_database(url)


def _register(settings: Settings, kind: OrgKind, name: str) -> tuple[str, object]:
    key = generate_signing_key()
    engine = make_engine(settings)
    with make_session_factory(engine)() as session, session.begin():
        org = orgs.create_organization(session, actor="bench", data=OrganizationCreate(name=name, kind=kind))
        client, _ = orgs.create_client(
            session,
            actor="bench",
            actor_org_id=None,
            org_id=org.id,
            name=name,
            scopes=None,
            public_jwk=public_jwk(key),
        )
    engine.dispose()
    return client.client_id, key


def _plaintext(path: Path) -> str:
    digest = hashlib.sha256()
    block = os.urandom(MB)
    with path.open("wb") as handle:
        for index in range(SIZE_MB):
            piece = index.to_bytes(8, "big") + block[8:]  # every MiB differs, cheaply
            digest.update(piece)
            handle.write(piece)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(MB):
            digest.update(piece)
    return digest.hexdigest()


def _peak_rss_kib(pid: int) -> int:
    """VmHWM of a process and its children (uvicorn may fork), the largest."""
    pids, peak = [pid], 0
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            peak = max(
                peak, int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                pids.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration):
            continue
    return peak


def _rows(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = int(connection.execute(text("SELECT count(*) FROM room_dataset_chunks")).scalar_one())
    engine.dispose()
    return count


@pytest.mark.bench
def test_a_200_mb_dataset_streams_through_the_sdk_in_bounded_memory(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=database_url, issuer=base_url, environment="development")
    engine = make_engine(settings)
    migrate.upgrade(engine)
    engine.dispose()
    owner_id, owner_key = _register(settings, OrgKind.OEM, f"OEM {uuid.uuid4().hex[:6]}")
    supplier_id, supplier_key = _register(settings, OrgKind.SUPPLIER, f"Compressor {uuid.uuid4().hex[:6]}")
    source, copy = tmp_path / "plain.bin", tmp_path / "copy.bin"
    expected = _plaintext(source)
    with served_hub(database_url, port) as server:
        owner = Client(
            base_url=base_url,
            client_id=owner_id,
            private_key=owner_key,
            encryption_key=generate_encryption_key(),
        )  # type: ignore[arg-type]
        supplier = Client(
            base_url=base_url,
            client_id=supplier_id,
            private_key=supplier_key,
            encryption_key=generate_encryption_key(),
        )  # type: ignore[arg-type]
        for client in (owner, supplier):
            client.keys.register_signing_key()
            client.rooms.register_encryption_key()
        supplier_org = supplier.organizations.me().id
        room = owner.rooms.open(
            title="Compressor endurance run",
            expires_at=datetime.now(UTC) + timedelta(days=1),
            members=[MemberInvite(organization_id=supplier_org)],
        )
        supplier.rooms.accept(room.id)

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        started = time.perf_counter()
        dataset = supplier.rooms.upload(room.id, source, name="endurance-run.bin")
        uploaded = time.perf_counter() - started
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        started = time.perf_counter()
        owner.rooms.download(room.id, dataset.id, copy)
        downloaded = time.perf_counter() - started
        _, download_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        hub_peak = _peak_rss_kib(server.process.pid)
        owner.close()
        supplier.close()

    assert _sha256(copy) == expected
    backend = database_url.split(":", 1)[0].split("+")[0]
    print(
        f"\nrooms {backend}: {SIZE_MB} MB plaintext, {dataset.ciphertext_size / MB:.1f} MiB ciphertext in "
        f"{_rows(database_url)} rows\n"
        f"  upload   (encrypt + announce + stream): {uploaded:6.1f} s  {SIZE_MB / uploaded:6.1f} MB/s,"
        f" SDK tracemalloc peak {upload_peak / MB:.1f} MiB\n"
        f"  download (stream + decrypt + verify):   {downloaded:6.1f} s  {SIZE_MB / downloaded:6.1f} MB/s,"
        f" SDK tracemalloc peak {download_peak / MB:.1f} MiB\n"
        f"  SDK ru_maxrss {rss_before / 1024:.0f} MiB before the transfers, {rss_after / 1024:.0f} MiB after;"
        f" hub process VmHWM {hub_peak / 1024:.0f} MiB"
    )
    assert max(upload_peak, download_peak) < 32 * MB
    assert rss_after - rss_before < 64 * 1024  # KiB: the transfers add a few chunks, not the file
