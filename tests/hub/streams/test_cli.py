"""`hub bridge nats add|list|remove`: the operator's opt-ins, one transaction each, with one-line errors."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import KafkaStream, NatsStream
from tests.hub.conftest import hub, one_line


def test_add_list_and_remove(cli_read: Session) -> None:
    created = hub(*["org", "create", "--name", "Aurora", "--kind", "oem"])
    assert created.exit_code == 0, created.output
    hub(*["org", "create", "--name", "Borealis", "--kind", "oem"])

    added = hub("bridge", "nats", "add", "--org", "Aurora", "--prefix", "qualink.aurora")
    assert added.exit_code == 0, added.output
    assert "opted in: qualink.aurora.>" in added.output
    overlapping = hub("bridge", "nats", "add", "--org", "Borealis", "--prefix", "qualink.aurora.x")
    assert overlapping.exit_code == 2 and "overlaps another organization" in one_line(overlapping.output)
    wildcard = hub("bridge", "nats", "add", "--org", "Borealis", "--prefix", "qualink.*")
    assert wildcard.exit_code == 2 and "no wildcards" in one_line(wildcard.output)

    listed = hub("bridge", "nats", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["organization"], r["subject_prefix"], r["position"]) for r in rows] == [
        ("Aurora", "qualink.aurora", 0)
    ]
    assert rows[0]["stream"] == f"QUALINK_{rows[0]['organization_id'].replace('-', '').upper()}"

    removed = hub("bridge", "nats", "remove", "--org", "Aurora")
    assert removed.exit_code == 0, removed.output
    assert list(cli_read.scalars(select(NatsStream))) == []
    again = hub("bridge", "nats", "remove", "--org", "Aurora")
    assert again.exit_code == 2 and "does not publish to NATS" in one_line(again.output)
    assert hub("bridge", "nats", "remove", "--org", "Nobody").exit_code == 2


def test_kafka_add_list_and_remove(cli_read: Session) -> None:
    hub(*["org", "create", "--name", "Aurora", "--kind", "oem"])
    hub(*["org", "create", "--name", "Borealis", "--kind", "oem"])
    added = hub("bridge", "kafka", "add", "--org", "Aurora", "--topic", "qualink.aurora")
    assert added.exit_code == 0, added.output
    assert "opted in: topic qualink.aurora" in added.output
    colliding = hub("bridge", "kafka", "add", "--org", "Borealis", "--topic", "qualink_aurora")
    assert colliding.exit_code == 2 and "another organization" in one_line(colliding.output)
    bad = hub("bridge", "kafka", "add", "--org", "Borealis", "--topic", "a b")
    assert bad.exit_code == 2 and "topic must be" in one_line(bad.output)

    listed = hub("bridge", "kafka", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [(r["organization"], r["topic"], r["position"]) for r in json.loads(listed.output)] == [
        ("Aurora", "qualink.aurora", 0)
    ]
    weakened = hub("bridge", "kafka", "run", "--once", "--config", "acks=1")
    assert weakened.exit_code == 2 and "delivery contract" in one_line(weakened.output)
    assert hub("bridge", "kafka", "run", "--config", "nonsense").exit_code == 2

    assert hub("bridge", "kafka", "remove", "--org", "Aurora").exit_code == 0
    assert list(cli_read.scalars(select(KafkaStream))) == []
    again = hub("bridge", "kafka", "remove", "--org", "Aurora")
    assert again.exit_code == 2 and "does not publish to Kafka" in one_line(again.output)
