"""What every request gets from the app as a whole: health, readiness, metrics, request ids, uniform errors,
the body-size guard, and the settings that refuse to run production on development secrets."""

from __future__ import annotations

import gc
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import (
    SECP256R1,
    EllipticCurvePrivateKey,
    generate_private_key,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import migrate
from hub.app import create_app, serve_app
from hub.config import Settings, development_signing_key
from hub.db import get_session
from hub.models import Organization
from hub.observability import current_request_id
from protocol.models.common import OrgKind
from tests.conftest import make_settings
from tests.hub.asserts import assert_error, field_locs
from tests.hub.conftest import Actor, make_actor

# --- health and readiness -------------------------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_on_a_migrated_database(fresh_database: str) -> None:
    with TestClient(create_app(make_settings(fresh_database))) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "schema": migrate.head_revision()}


def test_readyz_on_an_empty_database(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(f"sqlite:///{tmp_path / 'empty.db'}"))) as client:
        response = client.get("/readyz")
    assert_error(response, 503, "NotReady", detail="hub db upgrade")
    assert str(migrate.head_revision()) in response.json()["detail"]


def test_readyz_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'hub.db'}"
    with TestClient(create_app(make_settings(url))) as client:
        response = client.get("/readyz")
    assert_error(response, 503, "NotReady", detail="unreachable")


# --- metrics and request ids ----------------------------------------------------------------------------------


def test_metrics_count_requests_by_route_and_status(client: TestClient) -> None:
    client.get("/healthz")
    client.get("/healthz")
    client.get("/v1/nowhere")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE hub_http_requests_total counter" in text
    assert 'hub_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in text
    assert 'hub_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'hub_http_request_duration_seconds_count{method="GET",route="/healthz"} 2.0' in text


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    ids = {client.get(path).headers["x-request-id"] for path in ("/healthz", "/v1/nowhere", "/metrics")}
    assert len(ids) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids)


def test_a_sane_incoming_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/v1/nowhere", headers={"X-Request-ID": "lb-7f3a.2026_11-25"})
    assert response.headers["x-request-id"] == "lb-7f3a.2026_11-25"
    assert_error(response, 404, "NotFound")  # and the error body carries the same id


@pytest.mark.parametrize("incoming", ["short", "has spaces in it", "x" * 65, "quote\"'<script>"])
def test_an_insane_incoming_request_id_is_replaced(client: TestClient, incoming: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


# --- uniform errors -------------------------------------------------------------------------------------------


def test_unknown_path_is_a_uniform_404(client: TestClient) -> None:
    response = client.get("/v1/no-such-thing")
    body = assert_error(response, 404, "NotFound", detail="no such endpoint: GET /v1/no-such-thing")
    assert set(body) == {"error", "detail", "request_id"}


def test_wrong_method_is_a_uniform_405(client: TestClient) -> None:
    assert_error(client.delete("/healthz"), 405, "MethodNotAllowed")


# --- the body-size guard --------------------------------------------------------------------------------------


@pytest.fixture
def small_body_client(migrated_database: str, db: Session) -> Iterator[TestClient]:
    """A hub that accepts bodies of at most 2 KiB, bound to the test's transaction."""
    app = create_app(make_settings(migrated_database, max_body_bytes=2048))

    def _test_session() -> Iterator[Session]:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise

    app.dependency_overrides[get_session] = _test_session
    with TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False) as client:
        yield client


def padded_organization(name: str, size: int) -> bytes:
    """A valid organization body, padded with JSON whitespace to ``size`` bytes: only its size is wrong."""
    body = json.dumps({"name": name, "kind": "oem"}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


def org_named(db: Session, name: str) -> int:
    return int(db.scalar(select(func.count()).where(Organization.name == name)) or 0)


def test_oversized_body_is_413_and_nothing_is_written(db: Session, small_body_client: TestClient) -> None:
    operator = make_actor(db, small_body_client, OrgKind.OPERATOR)
    headers = {**operator.headers(), "Content-Type": "application/json"}
    big = padded_organization("Too Big GmbH", 4096)
    assert len(big) == 4096 and json.loads(big) == {"name": "Too Big GmbH", "kind": "oem"}

    response = small_body_client.post("/v1/organizations", content=big, headers=headers)

    assert_error(response, 413, "PayloadTooLarge", detail="2048")
    assert org_named(db, "Too Big GmbH") == 0
    # The same request within the limit goes through, so the size alone was refused.
    small = padded_organization("Too Big GmbH", 1024)
    assert small_body_client.post("/v1/organizations", content=small, headers=headers).status_code == 201


def test_oversized_chunked_body_is_413_and_nothing_is_written(
    db: Session, small_body_client: TestClient
) -> None:
    operator = make_actor(db, small_body_client, OrgKind.OPERATOR)
    headers = {**operator.headers(), "Content-Type": "application/json"}
    big = padded_organization("Chunked GmbH", 4096)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 1024):
            yield big[start : start + 1024]

    response = small_body_client.post("/v1/organizations", content=chunks(), headers=headers)

    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "PayloadTooLarge", detail="2048")
    assert org_named(db, "Chunked GmbH") == 0


def test_oversized_token_request_is_413(small_body_client: TestClient) -> None:
    form = b"grant_type=client_credentials&scope=" + b"x" * 4096
    response = small_body_client.post(
        "/oauth/token", content=iter([form]), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_error(response, 413, "PayloadTooLarge")


def test_non_numeric_content_length_is_refused(small_body_client: TestClient) -> None:
    # An unparseable length cannot be checked against the limit, so it is refused rather than trusted.
    response = small_body_client.post("/v1/organizations", content=b"{}", headers={"Content-Length": "2e3"})
    assert_error(response, 413, "PayloadTooLarge")


# --- settings -------------------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read HUB_* variables; none may leak in from the environment running the tests."""
    for name in ("HUB_ENVIRONMENT", "HUB_TOKEN_SIGNING_KEY", "HUB_ISSUER", "HUB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def pem(key: Ed25519PrivateKey | EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.usefixtures("clean_env")
def test_development_runs_on_the_development_key() -> None:
    settings = Settings()
    assert settings.environment == "development"
    assert settings.signing_key().private_bytes_raw() == development_signing_key().private_bytes_raw()


@pytest.mark.usefixtures("clean_env")
def test_production_needs_a_signing_key() -> None:
    with pytest.raises(ValidationError, match="HUB_TOKEN_SIGNING_KEY is required"):
        Settings(environment="production", issuer="https://hub.example.com")


@pytest.mark.usefixtures("clean_env")
def test_production_refuses_the_development_key() -> None:
    with pytest.raises(ValidationError, match="public development key"):
        Settings(
            environment="production",
            issuer="https://hub.example.com",
            token_signing_key=pem(development_signing_key()),
        )


@pytest.mark.usefixtures("clean_env")
def test_production_refuses_an_http_issuer() -> None:
    with pytest.raises(ValidationError, match="https"):
        Settings(
            environment="production",
            issuer="http://hub.example.com",
            token_signing_key=pem(Ed25519PrivateKey.generate()),
        )


@pytest.mark.usefixtures("clean_env")
def test_a_non_ed25519_signing_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="Ed25519"):
        Settings(
            environment="production",
            issuer="https://hub.example.com",
            token_signing_key=pem(generate_private_key(SECP256R1())),
        )


@pytest.mark.usefixtures("clean_env")
def test_production_with_its_own_key_and_https_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    key = Ed25519PrivateKey.generate()
    monkeypatch.setenv("HUB_ENVIRONMENT", "production")
    monkeypatch.setenv("HUB_TOKEN_SIGNING_KEY", pem(key))
    monkeypatch.setenv("HUB_ISSUER", "https://hub.example.com/")

    settings = Settings()

    assert settings.environment == "production"
    assert settings.issuer == "https://hub.example.com"  # trailing slash dropped
    assert settings.token_endpoint == "https://hub.example.com/oauth/token"
    assert settings.signing_key().private_bytes_raw() == key.private_bytes_raw()
    assert "BEGIN PRIVATE KEY" not in repr(settings)  # the key never reaches a log line


def test_previous_token_keys_are_read_from_pem_and_refused_when_not_ed25519() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pems = "".join(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
        for _ in range(2)
    )
    assert len(Settings(previous_token_public_keys=pems).previous_public_keys()) == 2
    with pytest.raises(ValueError, match="Ed25519 public keys"):
        Settings(previous_token_public_keys="not a key").previous_public_keys()


# --- a busy database --------------------------------------------------------------------------------------------


def test_a_write_lock_that_never_frees_is_a_503_that_invites_a_retry(fresh_database: str) -> None:
    if not fresh_database.startswith("sqlite"):
        pytest.skip("SQLite's single writer lock is what this provokes")
    import sqlite3

    holder = sqlite3.connect(fresh_database.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        settings = make_settings(fresh_database, database_busy_timeout_seconds=0.2)
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            response = client.post(
                "/oauth/token", data={"grant_type": "client_credentials"}, auth=("nobody", "secret")
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert_error(response, 503, "ServiceUnavailable")


@pytest.mark.parametrize(
    ("url", "params", "loc"),
    [
        ("/v1/kpi-reports", {"part_number": "SH\x00"}, "query.part_number"),
        ("/v1/keys/%00/revoke", {}, "path.key_id"),
    ],
)
def test_a_nul_character_in_a_parameter_is_422_naming_it(
    oem: Actor, url: str, params: dict[str, str], loc: str
) -> None:
    method = "POST" if url.endswith("revoke") else "GET"
    response = oem.http.request(method, url, params=params, headers=oem.headers())
    body = assert_error(response, 422, "InvalidInput")
    assert field_locs(body) == [loc]


def test_an_unexpected_error_is_a_uniform_500_whose_log_line_carries_the_request_id(
    fresh_database: str,
) -> None:
    app = create_app(make_settings(fresh_database))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    seen: list[tuple[str, str]] = []

    class _Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            # The hub's formatter reads the request id at this moment, from the request's context.
            seen.append((record.name, current_request_id()))

    handler = _Seen(level=logging.ERROR)
    logging.getLogger("hub").addHandler(handler)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get("/boom", headers={"X-Request-ID": "req-boom-1"})
    finally:
        logging.getLogger("hub").removeHandler(handler)
    body = assert_error(response, 500, "InternalError")
    assert body["request_id"] == "req-boom-1"
    assert "a bug" not in response.text
    assert ("hub.errors", "req-boom-1") in seen


def test_hub_serve_freezes_what_start_up_made_so_full_collections_skip_it(settings: Settings) -> None:
    # A full collection of a started hub walks ~200,000 objects (hundreds of ms on a busy machine, the whole
    # process paused); frozen, they are skipped. Apps made for tests are not frozen: they come and go.
    with TestClient(create_app(settings)):
        assert gc.get_freeze_count() == 0
    try:
        with TestClient(serve_app(settings)):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
