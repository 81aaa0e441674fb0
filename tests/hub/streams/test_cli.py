"""`hub bridge nats add|list|remove`: the operator's opt-ins, one transaction each, with one-line errors."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import NatsStream
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
