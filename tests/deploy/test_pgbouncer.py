"""The hub through PgBouncer in transaction mode (Debian's package, 1.18; `.ci/run` installs it).

The test starts its own ``pgbouncer`` on a free loopback port with the configuration deploy/k8s/pgbouncer.yaml
ships (``pool_mode = transaction``), changed only to trust the local PostgreSQL and to a server pool of two (so
that every client connection's transactions land on changing server connections), migrates a new database through it with ``hub db upgrade``, and drives a real ``hub serve`` and
``hub worker`` whose ``HUB_DATABASE_URL`` names PgBouncer: tokens, an agreement, KPI reports one by one and in a
batch, a rule that acts on a bad one, the event stream read back. What transaction pooling breaks is shown
first on the driver, then shown routed around:

- psycopg's server-side prepared statements (after ``prepare_threshold`` runs of one statement on one client
  connection) are unknown to the next server connection: ``HUB_DATABASE_PREPARE_THRESHOLD=none``.
- ``LISTEN`` holds a session; behind transaction pooling the listener hears nothing, so the events wake-up
  listener connects to ``HUB_DATABASE_DIRECT_URL`` (PostgreSQL itself).
- The advisory locks the sequencer, the sealer and the sweeps take are transaction-scoped
  (``pg_advisory_xact_lock``) and hold through PgBouncer; the one ``SET`` is ``SET LOCAL``.

PostgreSQL only (``HUB_TEST_DATABASE_URL``): SQLite has no pooler."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import make_url, text
from sqlalchemy.exc import ProgrammingError

from hub import migrate
from hub.config import Settings
from hub.db import make_engine, make_session_factory, take_turn
from hub.events.wakeups import EVENTS_PUBLISHED, Listener, notify
from hub.local import free_port
from hub.orgs import service as orgs
from protocol.models.common import OrgKind, PeriodKind
from protocol.models.kpi import KpiClaim, KpiReportPayload
from protocol.models.orgs import OrganizationCreate
from protocol.models.rules import STANDARD_RULE_TEMPLATE
from protocol.periods import period_containing
from supplier_sdk import Client
from supplier_sdk.auth import public_jwk
from tests.conftest import _drop_database, create_postgres_database
from tests.replicas import ISSUER, HubProcess, pinned, start_all, wait_until

BASE = os.environ.get("HUB_TEST_DATABASE_URL") or "sqlite://"
SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "pgbouncer.yaml"
PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        make_url(BASE).get_backend_name() != "postgresql",
        reason="PgBouncer stands in front of PostgreSQL: set HUB_TEST_DATABASE_URL",
    ),
    pytest.mark.skipif(
        PGBOUNCER is None,
        reason="pgbouncer is not installed (apt-get install pgbouncer; .ci/run installs it)",
    ),
]

SERVER_POOL = 2  # server connections per database and user: far fewer than the hub's client connections


@dataclass(frozen=True)
class Bouncer:
    port: int

    def url(self, direct_url: str) -> str:
        """``direct_url`` (a database on the PostgreSQL behind this PgBouncer) reached through PgBouncer."""
        return (
            make_url(direct_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        )


def shipped_ini() -> str:
    """The pgbouncer.ini of deploy/k8s/pgbouncer.yaml's ConfigMap."""
    for document in yaml.safe_load_all(SHIPPED.read_text()):
        if document["kind"] == "ConfigMap":
            ini: str = document["data"]["pgbouncer.ini"]
            return ini
    raise AssertionError("deploy/k8s/pgbouncer.yaml has no ConfigMap")


def substitute(text: str, pattern: str, replacement: str) -> str:
    """``re.sub`` that fails the test when the shipped ini no longer has what it replaces."""
    changed, count = re.subn(pattern, replacement, text, flags=re.M)
    assert count, f"the shipped pgbouncer.ini no longer matches {pattern!r}: update this test with it"
    return changed


def pgbouncer_ini(folder: Path, *, port: int, server_host: str, server_port: int, user: str) -> Path:
    """The shipped configuration, changed only where a test must: loopback, a free port, any database on the
    test's PostgreSQL, trust (the local server trusts; TLS is off there) and a server pool of two."""
    # auth_type trust still wants the user listed (with any password): the one the tests connect as.
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    ini = shipped_ini()
    assert re.search(r"^pool_mode = transaction$", ini, re.M), "the shipped PgBouncer must pool transactions"
    ini = substitute(ini, r"^qualink = .*$", f"* = host={server_host} port={server_port}")
    ini = substitute(ini, r"^listen_addr = .*$", "listen_addr = 127.0.0.1")
    ini = substitute(ini, r"^listen_port = .*$", f"listen_port = {port}")
    ini = substitute(ini, r"^auth_type = .*$", "auth_type = trust")
    ini = substitute(ini, r"^auth_file = .*$", f"auth_file = {folder / 'userlist.txt'}")
    ini = substitute(ini, r"^default_pool_size = .*$", f"default_pool_size = {SERVER_POOL}")
    ini = substitute(ini, r"^min_pool_size = .*$", "min_pool_size = 0")
    ini = substitute(ini, r"^server_tls_sslmode = .*$", "server_tls_sslmode = disable")
    ini = substitute(ini, r"^server_tls_ca_file = .*$", "")
    path = folder / "pgbouncer.ini"
    path.write_text(ini)
    return path


@pytest.fixture(scope="module")
def bouncer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bouncer]:
    assert PGBOUNCER is not None
    folder = tmp_path_factory.mktemp("pgbouncer")
    server = make_url(BASE)
    port = free_port()
    ini = pgbouncer_ini(
        folder,
        port=port,
        server_host=server.host or "127.0.0.1",
        server_port=server.port or 5432,
        user=server.username or "postgres",
    )
    # PgBouncer refuses to run as root; it reads its files first, then switches to -u (logs go to stderr).
    user = ["-u", "postgres" if _user_exists("postgres") else "nobody"] if os.geteuid() == 0 else []
    log = folder / "pgbouncer.log"
    with log.open("wb") as output:
        process = subprocess.Popen([PGBOUNCER, *user, str(ini)], stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, f"pgbouncer exited:\n{log.read_text()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"pgbouncer did not listen:\n{log.read_text()}"
                time.sleep(0.1)
        yield Bouncer(port)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def direct_url() -> Iterator[str]:
    """A new database, empty: the migrations run through PgBouncer in the test that needs them."""
    url = create_postgres_database(BASE, "pgbouncer")
    yield url
    _drop_database(url)


@pytest.fixture(scope="module")
def migrated(bouncer: Bouncer, direct_url: str) -> str:
    """``direct_url``'s database migrated by ``hub db upgrade`` through PgBouncer; its PgBouncer URL."""
    pooled = bouncer.url(direct_url)
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "db", "upgrade"],
        env={**os.environ, "HUB_DATABASE_URL": pooled, "HUB_DATABASE_PREPARE_THRESHOLD": "none"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert migrate.head_revision() in done.stdout
    return pooled


def pooled_settings(url: str, **overrides: object) -> Settings:
    return Settings(database_url=url, database_prepare_threshold=None, **overrides)  # type: ignore[arg-type]


# -- what transaction pooling breaks, and the settings that route around it -------------------------------------


@pytest.mark.parametrize("threshold", [5, None], ids=["psycopg-default", "none"])
def test_prepared_statements_break_under_transaction_pooling_unless_the_threshold_is_none(
    bouncer: Bouncer, direct_url: str, threshold: int | None
) -> None:
    engine = make_engine(Settings(database_url=bouncer.url(direct_url), database_prepare_threshold=threshold))
    statement = text("SELECT CAST(:n AS integer)")
    try:
        with engine.connect() as mine, engine.connect() as other:

            def run_mine(times: int) -> None:
                for n in range(times):
                    assert mine.execute(statement, {"n": n}).scalar() == n
                    mine.commit()  # each transaction ends: PgBouncer takes the server connection back

            run_mine(8)  # past the threshold: psycopg has prepared the statement on the server it ran on
            other.execute(text("SELECT 1"))  # another client's open transaction now holds that server
            if threshold is None:
                run_mine(8)
            else:
                with pytest.raises(ProgrammingError, match=r"prepared statement .* does not exist"):
                    run_mine(8)
            other.rollback()
    finally:
        engine.dispose()


def test_listen_behind_transaction_pooling_hears_nothing_so_the_listener_connects_directly(
    bouncer: Bouncer, migrated: str, direct_url: str
) -> None:
    heard = {"pooled": threading.Event(), "direct": threading.Event()}
    pooled = Listener(migrated, {EVENTS_PUBLISHED: heard["pooled"].set})
    direct = Listener(
        pooled_settings(migrated, database_direct_url=direct_url).listener_database_url,
        {EVENTS_PUBLISHED: heard["direct"].set},
    )
    engine = make_engine(pooled_settings(migrated))
    try:
        for listener in (pooled, direct):
            listener.start()
            assert listener.listening.wait(10)
        with make_session_factory(engine).begin() as session:  # a hub transaction, through PgBouncer
            notify(session, EVENTS_PUBLISHED)
        assert heard["direct"].wait(10), "the direct listener heard no NOTIFY"
        assert not heard["pooled"].wait(1.5), "LISTEN through transaction pooling heard the NOTIFY after all"
    finally:
        pooled.stop()
        direct.stop()
        engine.dispose()


def test_the_jobs_advisory_locks_hold_across_pgbouncer_for_the_transaction(migrated: str) -> None:
    engine = make_engine(pooled_settings(migrated))
    factory = make_session_factory(engine)
    got_turn = threading.Event()
    lock_id = 0x51A1_D0_0D

    def second() -> None:
        with factory.begin() as session:
            take_turn(session, lock_id)
            got_turn.set()

    try:
        with factory.begin() as first:
            take_turn(first, lock_id)
            thread = threading.Thread(target=second)
            thread.start()
            assert not got_turn.wait(1.0), "a second transaction took the turn the first one holds"
        assert got_turn.wait(10), "the turn was not handed on when the first transaction ended"
        thread.join(timeout=10)
    finally:
        engine.dispose()


# -- a real hub through PgBouncer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    org_id: uuid.UUID
    client_id: str
    key: Ed25519PrivateKey


def register(pooled: str) -> tuple[Party, Party]:
    """An OEM and a supplier, each with a private_key_jwt client (the operator's CLI step), through PgBouncer."""
    engine = make_engine(pooled_settings(pooled))
    parties = []
    try:
        with make_session_factory(engine).begin() as session:
            for name, kind in (
                ("OEM via PgBouncer", OrgKind.OEM),
                ("Supplier via PgBouncer", OrgKind.SUPPLIER),
            ):
                key = Ed25519PrivateKey.generate()
                org = orgs.create_organization(
                    session, actor="test", data=OrganizationCreate(name=name, kind=kind)
                )
                client, _ = orgs.create_client(
                    session,
                    actor="test",
                    actor_org_id=None,
                    org_id=org.id,
                    name="api",
                    scopes=None,
                    public_jwk=public_jwk(key),
                )
                parties.append(Party(org.id, client.client_id, key))
    finally:
        engine.dispose()
    return parties[0], parties[1]


def payload(
    oem: Party, supplier: Party, agreement_id: str, characteristic: str, value: str
) -> KpiReportPayload:
    return KpiReportPayload(
        supplier_id=supplier.org_id,
        oem_id=oem.org_id,
        agreement_id=uuid.UUID(agreement_id),
        part_number="P",
        characteristic=characteristic,
        period=str(period_containing(datetime.now(UTC), PeriodKind.WEEK).previous()),
        kpi="cpk",
        claim=KpiClaim(meets=float(value) >= 1.33, value=value, threshold="1.33"),
        sdk_version="test",
    )


def test_a_hub_and_a_worker_serve_a_whole_flow_through_pgbouncer(
    migrated: str, direct_url: str, tmp_path: Path
) -> None:
    oem, supplier = register(migrated)
    through_pgbouncer = {"HUB_DATABASE_PREPARE_THRESHOLD": "none"}
    # The server numbers no events itself: the worker does, woken only by its listener (the poll is 60 s away),
    # which hears the events table's NOTIFY on the direct connection.
    server = HubProcess(
        migrated,
        "serve",
        tmp_path / "serve.log",
        **through_pgbouncer,
        HUB_EVENTS_SEQUENCE_INTERVAL_SECONDS="0",
        HUB_WEBHOOK_DISPATCH_INTERVAL_SECONDS="0",
    )
    worker = HubProcess(
        migrated,
        "worker",
        tmp_path / "worker.log",
        **through_pgbouncer,
        HUB_DATABASE_DIRECT_URL=direct_url,
        HUB_EVENTS_SEQUENCE_INTERVAL_SECONDS="60",
    )
    codes = [f"C{n:02d}" for n in range(24)]
    try:
        start_all([server, worker])
        with (
            Client(
                base_url=ISSUER, client_id=oem.client_id, private_key=oem.key, transport=pinned(server)
            ) as buyer,
            Client(
                base_url=ISSUER,
                client_id=supplier.client_id,
                private_key=supplier.key,
                transport=pinned(server),
            ) as seller,
        ):
            rule = {**STANDARD_RULE_TEMPLATE, "pattern": {"consecutive": 1}}  # one bad period lowers the tier
            rule_id = buyer.request("POST", "/v1/rules", json=rule)["id"]
            agreement = buyer.request(
                "POST",
                "/v1/agreements",
                json={
                    "supplier_id": str(supplier.org_id),
                    "title": "through PgBouncer",
                    "parts": [{"part_number": "P"}],
                    "characteristics": [
                        {"code": code, "part_number": "P", "unit": "mm", "lsl": "1", "usl": "2"}
                        for code in codes
                    ],
                    "kpis": [{"kpi": "cpk", "threshold": "1.33"}],
                    "valid_from": date(2020, 1, 1).isoformat(),
                },
            )
            seller.agreements.accept(agreement["id"])
            seller.keys.register_signing_key()

            # Single reports from four threads at once (every one a few transactions on changing server
            # connections), then one batch; the last characteristic's CPK is below the threshold.
            singles, batched = codes[:16], codes[16:]
            failures: list[BaseException] = []

            def submit(chunk: list[str]) -> None:
                try:
                    for code in chunk:
                        seller.kpi_reports.submit(payload(oem, supplier, agreement["id"], code, "1.5"))
                except BaseException as error:  # reported by the main thread
                    failures.append(error)

            threads = [threading.Thread(target=submit, args=(singles[n::4],)) for n in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert not failures, failures
            values = ["1.5"] * (len(batched) - 1) + ["1.0"]
            results = seller.kpi_reports.submit_batch(
                [
                    (payload(oem, supplier, agreement["id"], code, value), f"batch-{code}")
                    for code, value in zip(batched, values, strict=True)
                ]
            )
            assert [r.status for r in results] == [201] * len(batched), results

            # The event stream: every report accepted, and the standing the rule lowered, numbered by the worker.
            def seen() -> list[str]:
                return [event.type for event in buyer.events.follow(once=True)]

            wait_until(
                lambda: seen().count("kpi_report.accepted") == len(codes) and "standing.changed" in seen(),
                seconds=30,
                failure=lambda: f"the worker numbered only {sorted(set(seen()))} ({len(seen())} events)",
            )
            standing = buyer.request("GET", f"/v1/standings/{supplier.org_id}")
            assert standing["history"], standing
            dry_run = buyer.request("POST", f"/v1/rules/{rule_id}/dry-run", json={})
            assert dry_run is not None
    finally:
        server.stop()
        worker.stop()
    for process in (server, worker):
        said = process.log.read_text()
        assert "prepared statement" not in said, said
        assert "Traceback" not in said, said
