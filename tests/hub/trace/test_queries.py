"""The affected set itself (unfiltered): directions, depth, as-of, several roots, cycles, unresolved links."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from hub.errors import InvalidInput, NotFound
from hub.models import AssetLink
from hub.trace import service
from tests.hub.trace.conftest import BETWEEN, Network


def affected(db: Session, net: Network, *roots: str, **kw: object) -> set[str]:
    found = service.affected_assets(db, roots=[net.id(r) for r in roots], **kw)  # type: ignore[arg-type]
    return net.names(found.asset_ids)


def test_forward_reaches_assemblies_serials_of_a_traced_lot_and_vehicles(
    db: Session, network: Network
) -> None:
    found = service.affected_assets(db, roots=[network.id("C1")])
    assert network.names(found.asset_ids) == {"C1", "M1", "I1", "I2", "S1", "V1", "V2", "V3"}
    by_name = {name: found.depth[network.id(name)] for name in network.names(found.asset_ids)}
    # S1 is made of lot I1: it sits at I1's level, and V1 (which consumed S1) one level further.
    assert by_name == {"C1": 0, "M1": 1, "I1": 2, "I2": 2, "S1": 2, "V1": 3, "V2": 3, "V3": 3}
    assert found.complete and found.incomplete_reasons == ()


def test_backward_goes_up_to_every_lot_that_went_into_a_vehicle(db: Session, network: Network) -> None:
    assert affected(db, network, "V2", direction="backward") == {"V2", "I2", "M1", "M2", "C1", "R1", "C2"}
    # A serial part leads back to its lot and what went into that lot.
    assert affected(db, network, "V1", direction="backward") == {"V1", "S1", "I1", "M1", "C1", "R1"}


def test_backward_meets_a_link_whose_child_is_unknown_and_says_so(db: Session, network: Network) -> None:
    found = service.affected_assets(db, roots=[network.id("V2")], direction="backward")
    assert found.incomplete_reasons == ("unresolved_links",)
    assert not found.complete


def test_depth_limit_stops_and_reports_the_cut(db: Session, network: Network) -> None:
    one = service.affected_assets(db, roots=[network.id("C1")], depth=1)
    assert network.names(one.asset_ids) == {"C1", "M1"}
    assert one.incomplete_reasons == ("depth_limit",)
    two = service.affected_assets(db, roots=[network.id("C1")], depth=2)
    assert network.names(two.asset_ids) == {"C1", "M1", "I1", "I2", "S1"}
    assert two.incomplete_reasons == ("depth_limit",)
    three = service.affected_assets(db, roots=[network.id("C1")], depth=3)
    assert len(three.asset_ids) == 8
    assert three.complete  # nothing lies beyond the vehicles: the limit cut nothing


def test_as_of_leaves_out_links_created_later(db: Session, network: Network) -> None:
    assert "V3" in affected(db, network, "C1")
    assert affected(db, network, "C1", as_of=BETWEEN) == {"C1", "M1", "I1", "I2", "S1", "V1", "V2"}


def test_several_roots_give_one_union_without_duplicates(db: Session, network: Network) -> None:
    found = service.affected_assets(db, roots=[network.id("C2"), network.id("R1"), network.id("C2")])
    assert network.names(found.asset_ids) == {"C2", "R1", "M1", "M2", "I1", "I2", "S1", "V1", "V2", "V3"}
    assert len(found.asset_ids) == len(set(found.asset_ids))


def test_a_cycle_ends(db: Session, network: Network) -> None:
    found = service.affected_assets(db, roots=[network.id("X1")])
    assert network.names(found.asset_ids) == {"X1", "X2"}
    assert found.depth[network.id("X1")] == 0 and found.depth[network.id("X2")] == 1
    assert found.complete
    backward = service.affected_assets(db, roots=[network.id("X2")], direction="backward", depth=7)
    assert network.names(backward.asset_ids) == {"X1", "X2"}


def test_a_lot_whose_only_link_is_unresolved_is_incomplete_and_one_without_links_complete(
    db: Session, network: Network
) -> None:
    c3 = service.affected_assets(db, roots=[network.id("C3")])
    assert network.names(c3.asset_ids) == {"C3"} and c3.incomplete_reasons == ("unresolved_links",)
    c4 = service.affected_assets(db, roots=[network.id("C4")])
    assert network.names(c4.asset_ids) == {"C4"} and c4.complete


def test_inventory_positions_come_with_their_plants(db: Session, network: Network) -> None:
    found = service.affected_assets(db, roots=[network.id("C1")])
    where = {(network.names([p.asset_id]).pop(), p.location, int(p.quantity)) for p in found.positions}
    assert where == {("C1", "B-07", 300), ("M1", "X-01", 40), ("I1", "A-01", 50), ("I2", "A-02", 30)}
    plants = {code: plant.id for code, plant in network.plants.items()}
    assert found.plant_ids == {plants["P-T2"], plants["P-T1"], plants["P-OEM"]}
    owners = {p.plant_id: p.plant_organization_id for p in found.positions}
    assert owners[plants["P-OEM"]] == network.orgs["OEM"].id
    assert {len(v) for v in found.positions_by_plant().values()} == {1, 2}


def test_unknown_root_and_bad_depth_are_refused_naming_them(db: Session, network: Network) -> None:
    missing = uuid.uuid4()
    with pytest.raises(NotFound, match=rf"roots\[1\].*{missing}"):
        service.affected_assets(db, roots=[network.id("C1"), missing])
    with pytest.raises(InvalidInput) as info:
        service.affected_assets(db, roots=[network.id("C1")], depth=0)
    assert info.value.loc == "depth"
    with pytest.raises(InvalidInput):
        service.affected_assets(db, roots=[])
    with pytest.raises(InvalidInput) as naive:
        service.affected_assets(db, roots=[network.id("C1")], as_of=datetime(2026, 3, 1))
    assert naive.value.loc == "as_of"


def test_a_node_met_along_paths_of_different_lengths_keeps_its_shortest_depth(
    db: Session, network: Network
) -> None:
    c4, m1, i1 = (network.assets[n] for n in ("C4", "M1", "I1"))
    for parent in (m1, i1):  # C4 goes into M1 and, skipping a tier, straight into I1
        db.add(
            AssetLink(
                parent_key=str(parent.catenax_id),
                child_key=str(c4.catenax_id),
                parent_id=parent.id,
                child_id=c4.id,
                quantity=Decimal(1),
                unit="unit:piece",
                organization_id=parent.organization_id,
            )
        )
    db.flush()
    found = service.affected_assets(db, roots=[c4.id])
    depth = {name: found.depth[network.id(name)] for name in network.names(found.asset_ids)}
    assert depth == {"C4": 0, "M1": 1, "I1": 1, "S1": 1, "I2": 2, "V1": 2, "V2": 3, "V3": 3}
    assert service.affected_assets(db, roots=[c4.id], depth=1).incomplete_reasons == ("depth_limit",)
