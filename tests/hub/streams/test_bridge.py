"""The NATS bridge against a real JetStream server: per-organization order and content, CloudEvents envelope,
Nats-Msg-Id de-duplication after a crash, resume from the stored cursor, isolation, and opt-out."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import nats
import pytest

from hub.events import service as events
from hub.models import NatsStream, Organization
from hub.streams import service as streams
from hub.streams.bridge import NatsBridge, Opted
from protocol.models.common import OrgKind
from tests.conftest import TEST_ISSUER
from tests.hub.streams.helpers import Factory, cursor, session_factory
from tests.hub.streams.helpers import committed_events as _events
from tests.hub.streams.helpers import detached_org as _org


@pytest.fixture
def factory(fresh_database: str) -> Iterator[Factory]:
    yield from session_factory(fresh_database)


def _opt_in(factory: Factory, org: Organization) -> str:
    prefix = f"qx{uuid.uuid4().hex[:10]}.{org.kind}"
    with factory.begin() as session:
        streams.put_stream(session, org_id=org.id, prefix=prefix, actor="test", actor_org_id=org.id)
    return prefix


def _cursor(factory: Factory, org: Organization) -> int:
    return cursor(factory, NatsStream, org)


def _bridge(factory: Factory, url: str) -> NatsBridge:
    return NatsBridge(factory, servers=url, issuer=TEST_ISSUER)


async def _stream_messages(url: str, org: Organization) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    """Every message in the organization's JetStream stream, in stream order: subject, headers, CloudEvent."""
    nc = await nats.connect(servers=[url])
    try:
        js = nc.jetstream()
        name = streams.stream_name(org.id)
        info = await js.stream_info(name)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(name, seq)
            found.append((msg.subject, dict(msg.headers or {}), json.loads(msg.data or b"{}")))
        return found
    finally:
        await nc.close()


def _publish_once(factory: Factory, url: str) -> int:
    async def once() -> int:
        async with _bridge(factory, url) as bridge:
            return await bridge.publish_once()

    return asyncio.run(once())


def test_each_organization_gets_its_own_view_in_position_order(factory: Factory, nats_url: str) -> None:
    oem, supplier = _org(factory), _org(factory, OrgKind.SUPPLIER)
    oem_prefix, supplier_prefix = _opt_in(factory, oem), _opt_in(factory, supplier)
    first = _events(factory, oem, "kpi_report.accepted", "standing.changed")
    with factory.begin() as session:  # one event, two recipients, two views
        events.publish(
            session,
            type="notification.sent",
            subject_id="qn-1",
            views={oem.id: {"side": "sender"}, supplier.id: {"side": "recipient"}},
        )
        session.flush()
        events.sequence(session)
    last = _events(factory, supplier, "agreement.accepted")

    assert _publish_once(factory, nats_url) == 5
    oem_got = asyncio.run(_stream_messages(nats_url, oem))
    supplier_got = asyncio.run(_stream_messages(nats_url, supplier))

    with factory() as session:
        oem_rows = events.positioned_after(session, org_id=oem.id, after=0)
        supplier_rows = events.positioned_after(session, org_id=supplier.id, after=0)
    assert [m[2]["id"] for m in oem_got] == [str(e.id) for e in oem_rows]
    assert [m[2]["id"] for m in supplier_got] == [str(e.id) for e in supplier_rows]
    assert [m[0] for m in oem_got] == [
        f"{oem_prefix}.kpi_report.accepted",
        f"{oem_prefix}.standing.changed",
        f"{oem_prefix}.notification.sent",
    ]
    assert [m[0] for m in supplier_got] == [
        f"{supplier_prefix}.notification.sent",
        f"{supplier_prefix}.agreement.accepted",
    ]
    assert oem_got[2][2]["data"]["payload"] == {"side": "sender"}
    assert supplier_got[0][2]["data"]["payload"] == {"side": "recipient"}

    _subject, headers, cloud = oem_got[0]
    assert headers["Nats-Msg-Id"] == cloud["id"] == str(first[0].id)
    assert cloud["specversion"] == "1.0"
    assert cloud["type"] == "io.qualink.kpi_report.accepted"
    assert cloud["source"] == f"{TEST_ISSUER}/v1/organizations/{oem.id}"
    assert cloud["datacontenttype"] == "application/json"
    assert cloud["position"] == first[0].position
    assert cloud["sequence"] == str(first[0].position).zfill(19)
    assert cloud["data"] == events.as_message(first[0])
    positions = [m[2]["position"] for m in oem_got]
    assert positions == sorted(positions)
    # Isolation: neither stream holds an event addressed to the other organization.
    assert not {m[2]["id"] for m in oem_got} & {m[2]["id"] for m in supplier_got}
    assert _cursor(factory, oem) == oem_rows[-1].position
    assert _cursor(factory, supplier) == last[0].position


def test_a_crash_between_puback_and_cursor_republishes_without_duplicates(
    factory: Factory, nats_url: str
) -> None:
    oem = _org(factory)
    prefix = _opt_in(factory, oem)
    made = _events(factory, oem, "a.one", "a.two", "a.three")

    async def publish_and_crash() -> None:
        async with _bridge(factory, nats_url) as bridge:
            # What publish_once does, up to the PubAcks: the process dies before the cursor is written.
            await bridge.publish_events(Opted(oem.id, prefix, 0), made)

    asyncio.run(publish_and_crash())
    assert _cursor(factory, oem) == 0
    assert len(asyncio.run(_stream_messages(nats_url, oem))) == 3

    assert _publish_once(factory, nats_url) == 3  # the restarted bridge publishes them again…
    got = asyncio.run(_stream_messages(nats_url, oem))
    assert [m[2]["id"] for m in got] == [str(e.id) for e in made]  # …and JetStream kept each once
    assert _cursor(factory, oem) == made[-1].position


def test_a_restarted_bridge_resumes_from_the_stored_cursor(factory: Factory, nats_url: str) -> None:
    oem = _org(factory)
    _opt_in(factory, oem)
    before = _events(factory, oem, "b.one", "b.two")
    assert _publish_once(factory, nats_url) == 2
    after = _events(factory, oem, "b.three", "b.four")

    assert _publish_once(factory, nats_url) == 2  # only what came after the cursor
    assert _publish_once(factory, nats_url) == 0
    got = asyncio.run(_stream_messages(nats_url, oem))
    assert [m[2]["id"] for m in got] == [str(e.id) for e in before + after]


def test_events_before_the_opt_in_are_not_published(factory: Factory, nats_url: str) -> None:
    oem = _org(factory)
    _events(factory, oem, "c.old")
    _opt_in(factory, oem)
    new = _events(factory, oem, "c.new")
    assert _publish_once(factory, nats_url) == 1
    assert [m[2]["id"] for m in asyncio.run(_stream_messages(nats_url, oem))] == [str(new[0].id)]


def test_opting_out_stops_publishing(factory: Factory, nats_url: str) -> None:
    oem = _org(factory)
    _opt_in(factory, oem)
    _events(factory, oem, "d.one")
    assert _publish_once(factory, nats_url) == 1
    with factory.begin() as session:
        streams.remove_stream(session, org_id=oem.id, actor="test", actor_org_id=oem.id)
    _events(factory, oem, "d.two")

    assert _publish_once(factory, nats_url) == 0
    assert len(asyncio.run(_stream_messages(nats_url, oem))) == 1


def test_a_renamed_prefix_moves_the_stream_to_the_new_subjects(factory: Factory, nats_url: str) -> None:
    oem = _org(factory)
    _opt_in(factory, oem)
    _events(factory, oem, "e.one")
    assert _publish_once(factory, nats_url) == 1
    renamed = f"qx{uuid.uuid4().hex[:10]}.renamed"
    with factory.begin() as session:
        streams.put_stream(session, org_id=oem.id, prefix=renamed, actor="test", actor_org_id=oem.id)
    _events(factory, oem, "e.two")
    assert _publish_once(factory, nats_url) == 1
    assert asyncio.run(_stream_messages(nats_url, oem))[-1][0] == f"{renamed}.e.two"
