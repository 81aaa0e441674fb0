"""The shipped ``deploy/proxy/nginx.conf`` in front of a real ``hub serve``: what goes through and what does not.

nginx (Debian's package, ``/usr/sbin/nginx``; `.ci/run` installs it) runs as a foreground process with its own
prefix, pid, logs and temporary paths in the test's directory, on the shipped server blocks, changed only where
a test must: loopback ports instead of 80/443, the upstream's port, a self-signed certificate. Every body is
generated as it is sent, never held whole in memory."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.x509.oid import NameOID

from hub.auth.tokens import Caller
from hub.db import make_engine, make_session_factory
from hub.local import free_port
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.models.common import KeyUse, OrgKind
from protocol.models.orgs import OrganizationCreate, OrgKeyRegister
from protocol.models.rooms import DATASET_MANIFEST_TYPE, DatasetManifest
from protocol.signing import public_key_raw, sign_envelope
from tests.hub_server import hub_process, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "proxy" / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        NGINX is None, reason="nginx is not installed (apt-get install nginx; .ci/run installs it)"
    ),
]

MiB = 1024 * 1024
IMPORT_BYTES = 50 * 1000 * 1000
UPLOAD_BYTES = 200 * 1000 * 1000
SMALL_ROUTE_LIMIT = MiB  # the shipped client_max_body_size outside the streaming routes
SLOW_CLIENT_TIMEOUT = (
    10  # the shipped client_header_timeout / client_body_timeout outside the streaming routes
)


# -- nginx on the shipped configuration ------------------------------------------------------------------------


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub.example.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("hub.example.com"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def substitute(text: str, pattern: str, replacement: str) -> str:
    """``re.sub`` that fails the test when the shipped file no longer has what it replaces."""
    changed, count = re.subn(pattern, replacement, text, flags=re.M)
    assert count, f"the shipped nginx.conf no longer matches {pattern!r}: update this test with it"
    return changed


def render(folder: Path, *, hub_port: int, http_port: int, https_port: int) -> Path:
    cert, key = self_signed_certificate(folder)
    servers = SHIPPED.read_text()
    servers = substitute(servers, r"server 127\.0\.0\.1:8000 ", f"server 127.0.0.1:{hub_port} ")
    servers = substitute(servers, r"^\s*listen \[::\]:.*$", "")
    servers = substitute(servers, r"listen 80;", f"listen 127.0.0.1:{http_port};")
    servers = substitute(servers, r"listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    servers = substitute(servers, r"/etc/ssl/qualink/fullchain\.pem", str(cert))
    servers = substitute(servers, r"/etc/ssl/qualink/privkey\.pem", str(key))
    temp = {name: folder / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    # As root, nginx's workers would switch to "nobody", who may not enter the test's directory.
    user = "user root;" if os.geteuid() == 0 else ""
    config = f"""
{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
{servers}
}}
"""
    path = folder / "nginx.conf"
    path.write_text(config)
    return path


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "nginx exited at start-up (see its error.log)"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nginx did not listen on {port}")


@dataclass(frozen=True)
class Proxy:
    base_url: str
    port: int
    tls: ssl.SSLContext
    folder: Path

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, verify=self.tls, **kw)


@pytest.fixture(scope="module")
def hub_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from hub import migrate
    from tests.conftest import _drop_database, _fresh_database_url, make_settings

    url = _fresh_database_url(tmp_path_factory.mktemp("nginx-db"), "nginx")
    engine = make_engine(make_settings(url))
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    _drop_database(url)


@pytest.fixture(scope="module")
def proxy(hub_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    folder = tmp_path_factory.mktemp("nginx")
    hub_port, http_port, https_port = free_port(), free_port(), free_port()
    hub = hub_process(hub_database, hub_port, "serve", "--port", str(hub_port), "--no-migrate")
    nginx: subprocess.Popen[bytes] | None = None
    try:
        wait_until_ready(f"http://127.0.0.1:{hub_port}")
        config = render(folder, hub_port=hub_port, http_port=http_port, https_port=https_port)
        assert NGINX is not None
        nginx = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(config), "-g", "daemon off;"], stderr=subprocess.PIPE
        )
        wait_for_port(https_port, nginx)
        tls = ssl.create_default_context(cafile=str(folder / "fullchain.pem"))
        yield Proxy(f"https://127.0.0.1:{https_port}", https_port, tls, folder)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=30)
        hub.terminate()
        hub.wait(timeout=30)


# -- an organization that imports genealogy and uploads room datasets -------------------------------------------


@dataclass(frozen=True)
class Oem:
    org_id: uuid.UUID
    client_id: str
    secret: str
    signing_key: Ed25519PrivateKey
    signing_key_id: str
    encryption_key_id: str


@pytest.fixture(scope="module")
def oem(hub_database: str, proxy: Proxy) -> Oem:
    """Registered as the operator's CLI does (straight through the services), keys included."""
    from tests.conftest import make_settings

    engine = make_engine(make_settings(hub_database))
    signing = Ed25519PrivateKey.generate()
    encryption = X25519PrivateKey.generate().public_key().public_bytes_raw()
    try:
        with make_session_factory(engine).begin() as session:
            org = orgs.create_organization(
                session, actor="cli:operator", data=OrganizationCreate(name="Nginx Motors", kind=OrgKind.OEM)
            )
            client, secret = orgs.create_client(
                session,
                actor="cli:operator",
                actor_org_id=None,
                org_id=org.id,
                name="proxy test",
                scopes=None,
                public_jwk=None,
            )
            caller = Caller(
                org_id=org.id, org_kind=OrgKind.OEM, client_id=client.client_id, scopes=frozenset()
            )
            sig = orgs.register_key(
                session,
                caller=caller,
                data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(signing))),
            )
            enc = orgs.register_key(
                session,
                caller=caller,
                data=OrgKeyRegister(use=KeyUse.ENCRYPTION, public_key=b64url_encode(encryption)),
            )
            assert secret is not None
            return Oem(org.id, client.client_id, secret, signing, sig.key_id, enc.key_id)
    finally:
        engine.dispose()


def token(proxy: Proxy, oem: Oem) -> dict[str, str]:
    with proxy.client() as http:
        response = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(oem.client_id, oem.secret)
        )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# -- bodies, generated as they are sent ---------------------------------------------------------------------------


def import_lines(total: int, line_bytes: int = 16 * 1024) -> tuple[int, Iterator[bytes]]:
    """NDJSON batches, each line padded with JSON white space to ``line_bytes``: ``total`` bytes, few rows."""
    count = total // line_bytes

    def lines() -> Iterator[bytes]:
        for n in range(count):
            head = f'{{"type":"batch","batch_id":"NGX-{n:07d}","manufacturer_part_id":"NGX-PART"'.encode()
            yield head + b" " * (line_bytes - len(head) - 2) + b"}\n"

    return count, lines()


def ciphertext(total: int) -> tuple[str, Iterator[bytes]]:
    """``total`` opaque bytes (the hub never sees plaintext), their SHA-256, and a generator of 1 MiB pieces."""
    block = os.urandom(MiB)
    sizes = [MiB] * (total // MiB) + ([total % MiB] if total % MiB else [])
    digest = hashlib.sha256()
    for size in sizes:
        digest.update(block[:size])
    return digest.hexdigest(), (block[:size] for size in sizes)


def announce(proxy: Proxy, oem: Oem, headers: dict[str, str], *, size: int, sha256: str) -> str:
    room = {
        "title": "Bearing noise (proxy test)",
        "expires_at": (datetime.now(UTC) + timedelta(days=7)).isoformat(),
        "members": [],
    }
    with proxy.client() as http:
        opened = http.post("/v1/rooms", json=room, headers=headers)
        assert opened.status_code == 201, opened.text
        room_id, dataset_id = opened.json()["id"], uuid.uuid4()
        fields = {
            "name": "vibration.parquet",
            "media_type": "application/octet-stream",
            "plaintext_size": size - 32,
            "chunk_size": MiB,
            "ciphertext_size": size,
            "ciphertext_sha256": sha256,
        }
        manifest = DatasetManifest(
            room_id=uuid.UUID(room_id),
            dataset_id=dataset_id,
            recipient_key_ids=[oem.encryption_key_id],
            **fields,  # type: ignore[arg-type]
        )
        envelope = sign_envelope(
            manifest, type=DATASET_MANIFEST_TYPE, private_key=oem.signing_key, key_id=oem.signing_key_id
        )
        wrapped = {
            "organization_id": str(oem.org_id),
            "recipient_key_id": oem.encryption_key_id,
            "ephemeral_public_key": b64url_encode(
                X25519PrivateKey.generate().public_key().public_bytes_raw()
            ),
            "wrapped_key": b64url_encode(os.urandom(48)),
            "algorithm": "X25519-HKDF-SHA256-AES256GCM",
        }
        body = {
            "id": str(dataset_id),
            **fields,
            "manifest_signature": envelope.model_dump(mode="json"),
            "wrapped_keys": [wrapped],
        }
        created = http.post(f"/v1/rooms/{room_id}/datasets", json=body, headers=headers)
        assert created.status_code == 201, created.text
    return f"/v1/rooms/{room_id}/datasets/{dataset_id}/content"


# -- slow clients, on raw TLS sockets -----------------------------------------------------------------------------


def read_until_closed(proxy: Proxy, first: bytes, then: bytes = b"") -> bytes:
    """Send ``first`` (and ``then``), stop sending, and read until nginx closes the connection.

    Our own read timeout is three times nginx's: a proxy that never cuts the client off fails here."""
    raw = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    with proxy.tls.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        conn.settimeout(3 * SLOW_CLIENT_TIMEOUT)
        conn.sendall(first + then)
        received = b""
        while True:
            try:
                piece = conn.recv(65536)
            except TimeoutError as exc:
                raise AssertionError(f"nginx kept a stalled client for {3 * SLOW_CLIENT_TIMEOUT} s") from exc
            except (ConnectionResetError, ssl.SSLError):
                return received
            if not piece:
                return received
            received += piece


def stalled_headers(proxy: Proxy) -> bytes:
    return read_until_closed(proxy, b"GET /healthz HTTP/1.1\r\nHost: hub.example.com\r\nX-Slow: 1")


def stalled_body(proxy: Proxy) -> bytes:
    head = b"POST /v1/rooms HTTP/1.1\r\nHost: hub.example.com\r\nContent-Type: application/json\r\n"
    return read_until_closed(proxy, head + b"Content-Length: 1000\r\n\r\n", b'{"title": "sl')


# -- the tests --------------------------------------------------------------------------------------------------


def test_the_proxy_passes_streaming_uploads_refuses_big_small_bodies_and_cuts_off_slow_clients(
    proxy: Proxy, oem: Oem
) -> None:
    headers = token(proxy, oem)
    sha256, pieces = ciphertext(UPLOAD_BYTES)
    content_path = announce(proxy, oem, headers, size=UPLOAD_BYTES, sha256=sha256)
    with ThreadPoolExecutor(max_workers=2) as pool:
        # The slow clients wait out nginx's timeouts while the uploads run.
        slow_headers, slow_body = pool.submit(stalled_headers, proxy), pool.submit(stalled_body, proxy)
        with proxy.client(timeout=httpx.Timeout(120)) as http:
            rows, lines = import_lines(IMPORT_BYTES)
            imported = http.post(
                "/v1/genealogy:import",
                content=lines,
                headers={
                    **headers,
                    "Content-Type": "application/x-ndjson",
                    "Content-Length": str(rows * 16 * 1024),
                },
            )
            assert imported.status_code == 200, imported.text[:500]
            report = imported.json()
            assert (report["rows"], report["accepted"], report["rejected"]) == (rows, rows, 0)

            stored = http.put(
                content_path,
                content=pieces,
                headers={
                    **headers,
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(UPLOAD_BYTES),
                },
            )
            assert stored.status_code == 200, stored.text[:500]
            assert stored.json()["ciphertext_sha256"] == sha256

            too_big = http.post(
                "/v1/rooms",
                content=b'{"title": "' + b"x" * (2 * 1000 * 1000) + b'"}',
                headers={**headers, "Content-Type": "application/json"},
            )
            # nginx's own page, not the hub's JSON error: the body never reached the hub.
            assert too_big.status_code == 413
            assert "nginx" in too_big.text and "request_id" not in too_big.text

        header_answer, body_answer = slow_headers.result(), slow_body.result()
    # nginx closes a stalled connection without a word (the client is not listening anyway) and logs a 408.
    assert (header_answer, body_answer) == (b"", b"")
    log = (proxy.folder / "access.log").read_text()
    assert re.search(r'"GET /healthz HTTP/1\.1" 408 ', log), log
    assert re.search(r'"POST /v1/rooms HTTP/1\.1" 408 ', log), log


def test_small_routes_and_forwarded_headers_reach_the_hub(proxy: Proxy, oem: Oem) -> None:
    headers = token(proxy, oem)
    with proxy.client() as http:
        ready = http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.headers["strict-transport-security"].startswith("max-age=")
        me = http.get("/v1/organizations/me", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["name"] == "Nginx Motors"
