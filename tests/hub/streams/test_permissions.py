"""deploy/nats/qualink.conf, started for real: an organization's NATS user reads its own subjects and is refused
another organization's (a permissions violation), while the bridge publishes both through JetStream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, make_session_factory
from hub.streams import service as streams
from hub.streams.bridge import NatsBridge
from protocol.models.common import OrgKind
from tests.conftest import TEST_ISSUER, make_settings
from tests.hub.conftest import make_org
from tests.hub.streams.conftest import start_nats_server, stop_nats_server
from tests.hub.webhooks.helpers import make_events

CONFIG = Path(__file__).parents[3] / "deploy" / "nats" / "qualink.conf"
PASSWORDS = {
    "BRIDGE_PASSWORD": "bridge-pw",
    "AURORA_PASSWORD": "aurora-pw",
    "BOREALIS_PASSWORD": "borealis-pw",
}


@pytest.fixture
def secured_nats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in PASSWORDS.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "qualink.conf"  # the deploy file as it is, its JetStream store moved into tmp_path
    config.write_text(CONFIG.read_text().replace("/var/lib/nats-server", str(tmp_path / "js")))
    process, url = start_nats_server(tmp_path, config=config)
    try:
        yield url
    finally:
        stop_nats_server(process)


def test_an_organization_reads_only_its_own_subjects(fresh_database: str, secured_nats: str) -> None:
    engine = make_engine(make_settings(fresh_database))
    factory: sessionmaker[Session] = make_session_factory(engine)
    with factory() as session:
        aurora, borealis = make_org(session, OrgKind.OEM), make_org(session, OrgKind.OEM)
        streams.put_stream(
            session, org_id=aurora.id, prefix="qualink.aurora", actor="test", actor_org_id=None
        )
        streams.put_stream(
            session, org_id=borealis.id, prefix="qualink.borealis", actor="test", actor_org_id=None
        )
        session.commit()
        session.expunge_all()
    refused: list[str] = []

    async def scenario() -> tuple[list[dict[str, object]], int]:
        async def on_error(exc: Exception) -> None:
            refused.append(str(exc))

        reader = await nats.connect(
            servers=[secured_nats], user="aurora", password=PASSWORDS["AURORA_PASSWORD"], error_cb=on_error
        )
        try:
            own = await reader.subscribe("qualink.aurora.>")
            other = await reader.subscribe("qualink.borealis.>")
            wildcard = await reader.subscribe("qualink.>")
            await reader.flush()
            with factory.begin() as session:
                make_events(session, aurora, "kpi_report.accepted")
                make_events(session, borealis, "kpi_report.accepted")
            bridge = NatsBridge(
                factory,
                servers=secured_nats,
                issuer=TEST_ISSUER,
                user="bridge",
                password=PASSWORDS["BRIDGE_PASSWORD"],
            )
            async with bridge:
                assert await bridge.publish_once() == 2
            got = [json.loads((await own.next_msg(timeout=5)).data)]
            leaked = 0
            for sub in (other, wildcard):
                try:
                    await sub.next_msg(timeout=0.3)
                    leaked += 1
                except (nats.errors.TimeoutError, nats.errors.BadSubscriptionError):
                    pass
            return got, leaked
        finally:
            await reader.close()

    try:
        got, leaked = asyncio.run(scenario())
    finally:
        engine.dispose()
    assert [cloud["type"] for cloud in got] == ["io.qualink.kpi_report.accepted"]
    assert got[0]["source"] == f"{TEST_ISSUER}/v1/organizations/{aurora.id}"
    assert leaked == 0
    assert any(
        "permissions violation" in text.lower() and "qualink.borealis.>" in text for text in refused
    ), refused
