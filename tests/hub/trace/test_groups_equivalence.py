"""The restructured groups statement (the affected set joined to ``assets`` once, positions carrying owner and
visibility) answers exactly what the statement before it answered, row for row, on a generated network: every
organization as the caller, forward and backward, from lots and vehicles, with a depth limit, an ``as_of`` and a
short listing."""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.genealogy import synth
from hub.models import Asset, AssetLink
from hub.trace import queries
from tests.hub.trace import groups_before


def _rows(session: Session, statement: Any) -> list[tuple[Any, ...]]:
    return sorted((tuple(row) for row in session.execute(statement)), key=repr)


def test_the_groups_statement_answers_as_before_on_a_generated_network(db: Session) -> None:
    network = synth.build_synthetic_network(db, lots=3000, tiers=4, seed=11)
    picker = random.Random(11)
    some = list(db.scalars(select(Asset.id).order_by(Asset.id)))
    roots: list[tuple[list[uuid.UUID], queries.Direction]] = [
        ([network.hot_lot_id], "forward"),
        ([network.vehicle_id], "backward"),
        (picker.sample(some, 3), "forward"),
        (picker.sample(some, 2), "backward"),
    ]
    # A cut-off taken from the data (the newest link), never from today's date.
    newest = db.scalar(select(func.max(AssetLink.created_on)))
    callers = sorted(network.organizations.values())
    compared = 0
    for chosen, direction in roots:
        for depth, as_of, listed in ((100, None, 1001), (2, None, 7), (100, newest, 3)):
            scope = queries.Scope(roots=chosen, direction=direction, depth=depth, as_of=as_of)
            old_scope = groups_before.Scope(roots=chosen, direction=direction, depth=depth, as_of=as_of)
            for caller in callers:
                new = _rows(db, queries.groups(scope, caller=caller, listed=listed))
                old = _rows(db, groups_before.groups(old_scope, caller=caller, listed=listed))
                assert new == old, (chosen, direction, depth, caller)
                compared += len(new)
    assert compared > 1000  # the network is big enough that the groups say something
