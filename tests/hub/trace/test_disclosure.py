"""Minimal disclosure: each party sees its own assets, its direct partners' on links with its own, counts for the rest."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from hub.errors import NotFound
from hub.trace import service
from hub.trace.disclosure import GroupRow, PlantInfo, fold
from protocol.models.trace import TraceResult
from tests.hub.trace.conftest import BETWEEN, Network


def run(db: Session, net: Network, who: str, *roots: str, **kw: object) -> TraceResult:
    return service.trace(db, caller=net.caller(who), roots=[net.id(r) for r in roots], **kw)  # type: ignore[arg-type]


def nodes(net: Network, result: TraceResult) -> set[str]:
    return net.names(n.asset_id for n in result.nodes)


def secrets(net: Network, *names: str, orgs: tuple[str, ...] = (), plants: tuple[str, ...] = ()) -> list[str]:
    """Strings that must not appear in a caller's answer."""
    found = []
    for name in names:
        asset = net.assets[name]
        found += [str(asset.id), asset.local_id, str(asset.catenax_id)]
    for org in orgs:
        found += [
            str(net.orgs[org].id),
            net.orgs[org].name,
            str(net.parts[org].id),
            net.parts[org].manufacturer_part_id,
        ]
    for code in plants:
        found += [str(net.plants[code].id), net.plants[code].code]
    return found


def test_tier3_asking_is_my_lot_in_your_vehicles_gets_yes_and_counts_only(
    db: Session, network: Network
) -> None:
    result = run(db, network, "T3", "C1")
    assert result.answer == "yes" and result.complete
    assert (result.affected_batches, result.affected_serials) == (3, 4)
    # Its own lot and the direct customer's module it went into, with that link; nothing further.
    assert nodes(network, result) == {"C1", "M1"}
    assert [(network.names([x.child_id]), network.names([x.parent_id])) for x in result.links] == [
        ({"C1"}, {"M1"})
    ]
    assert {g.organization_id for g in result.by_organization} == {
        network.orgs["T3"].id,
        network.orgs["T2"].id,
    }
    assert result.by_model == []
    undisclosed = result.undisclosed
    assert (undisclosed.batches, undisclosed.serials, undisclosed.organizations) == (2, 4, 2)
    assert (undisclosed.models, undisclosed.part_types) == (2, 2)
    # Its lot lies at the customer's plant (a disclosed partner); the tier-1 and OEM plants are only counted.
    assert [p.code for p in result.by_plant] == [network.plants["P-T2"].code]
    quantity = result.by_plant[0].quantities[0]
    assert (int(quantity.quantity), int(quantity.held), int(quantity.shipped)) == (300, 100, 500)
    assert (undisclosed.plants, undisclosed.positions) == (2, 3)
    body = result.model_dump_json()
    leaks = [
        s
        for s in secrets(
            network, "I1", "I2", "S1", "V1", "V2", "V3", orgs=("T1", "OEM"), plants=("P-T1", "P-OEM")
        )
        if s in body
    ]
    assert leaks == []
    assert "Aurora" not in body and "Brisa" not in body


def test_tier1_sees_the_vehicles_its_lot_went_into_and_their_models(db: Session, network: Network) -> None:
    result = run(db, network, "T1", "I2")
    assert nodes(network, result) == {"I2", "V2", "V3"}
    assert {m.model: m.serials for m in result.by_model} == {"Aurora 2026": 1, "Brisa 2027": 1}
    assert result.undisclosed.batches == 0 and result.undisclosed.serials == 0
    # The OEM's plant holds the tier-1 lot: the OEM is a disclosed partner, so the plant is named.
    assert {loc.location for loc in result.by_location} == {"A-02"}


def test_tier1_backward_sees_its_supplier_lots_but_not_theirs(db: Session, network: Network) -> None:
    result = run(db, network, "T1", "I2", direction="backward")
    assert nodes(network, result) == {"I2", "M1", "M2"}
    assert result.undisclosed.batches == 3  # C1, R1, C2
    assert result.undisclosed.organizations == 2  # the two tier-3 makers, only counted
    assert (
        result.answer == "yes" and not result.complete and result.incomplete_reasons == ["unresolved_links"]
    )
    body = result.model_dump_json()
    assert [s for s in secrets(network, "C1", "C2", "R1", orgs=("T3", "T3B")) if s in body] == []


def test_oem_backward_from_a_vehicle_sees_the_tier1_lot_and_counts_deeper_tiers(
    db: Session, network: Network
) -> None:
    result = run(db, network, "OEM", "V2", direction="backward")
    assert nodes(network, result) == {"V2", "I2"}
    assert {g.organization_id: (g.batches, g.serials) for g in result.by_organization} == {
        network.orgs["OEM"].id: (0, 1),
        network.orgs["T1"].id: (1, 0),
    }
    assert (result.undisclosed.batches, result.undisclosed.organizations) == (5, 3)
    # The OEM's own plant is named whatever lies in it.
    assert {loc.location for loc in result.by_location} == {"A-02"}
    body = result.model_dump_json()
    leaks = secrets(network, "M1", "M2", "C1", "C2", "R1", orgs=("T2", "T3", "T3B"), plants=("P-T2", "P-T1"))
    assert [s for s in leaks if s in body] == []


def test_oem_may_trace_from_a_lot_shipped_to_it_and_sees_its_serial_parts(
    db: Session, network: Network
) -> None:
    result = run(db, network, "OEM", "I1")
    assert nodes(network, result) == {"I1", "S1", "V1"}
    assert {m.model for m in result.by_model} == {"Aurora 2026"}
    plant = next(p for p in result.by_plant if p.code == network.plants["P-OEM"].code)
    assert (
        int(plant.quantities[0].quantity),
        int(plant.quantities[0].held),
        int(plant.quantities[0].shipped),
    ) == (
        50,
        20,
        60,
    )


def test_answers_no_when_nothing_is_reached_and_unknown_when_cut_short(db: Session, network: Network) -> None:
    no = run(db, network, "T3", "C4")
    assert (no.answer, no.complete, no.affected_batches) == ("no", True, 0)
    unknown = run(db, network, "T3", "C3")
    assert (unknown.answer, unknown.complete, unknown.incomplete_reasons) == (
        "unknown",
        False,
        ["unresolved_links"],
    )
    cut = run(db, network, "T3", "C1", depth=1)
    assert (cut.answer, cut.complete, cut.incomplete_reasons) == ("yes", False, ["depth_limit"])


def test_as_of_applies_to_the_disclosed_view_too(db: Session, network: Network) -> None:
    result = run(db, network, "T1", "I2", as_of=BETWEEN)
    assert nodes(network, result) == {"I2", "V2"}
    assert result.as_of == BETWEEN


@pytest.mark.parametrize(
    ("who", "root"),
    [("OEM", "C1"), ("T3B", "C1"), ("T3B", "M2"), ("T1", "C1"), ("OEM", "M1")],
)
def test_a_root_the_caller_has_no_relation_to_is_a_404_like_a_missing_one(
    db: Session, network: Network, who: str, root: str
) -> None:
    with pytest.raises(NotFound, match=r"roots\[0\]") as refused:
        run(db, network, who, root)
    with pytest.raises(NotFound) as missing:
        service.trace(db, caller=network.caller(who), roots=[uuid.uuid4()])
    assert str(refused.value).split(":")[0] == str(missing.value).split(":")[0]


def test_a_direct_partners_lot_may_be_traced_from(db: Session, network: Network) -> None:
    # C1 went into the tier-2's M1: the tier-2 may trace from it, and sees the tier-1 lots M1 went into.
    result = run(db, network, "T2", "C1")
    assert nodes(network, result) == {"C1", "M1", "I1", "I2"}
    assert result.undisclosed.serials == 4


def test_listing_is_capped_and_says_so(
    db: Session, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "LISTED", 1)
    result = run(db, network, "T1", "I2")
    assert len(result.nodes) == 1 and result.truncated
    assert result.affected_serials == 2  # the counts still cover everything


def test_as_of_counts_only_holds_in_force_then_and_shipments_made_by_then(
    db: Session, network: Network
) -> None:
    now = run(db, network, "T3", "C1")
    then = run(db, network, "T3", "C1", as_of=BETWEEN)
    before_shipping = run(db, network, "T3", "C1", as_of=BETWEEN.replace(month=1, day=1))
    (q_now,), (q_then,), (q_early,) = (r.by_plant[0].quantities for r in (now, then, before_shipping))
    assert (int(q_now.held), int(q_then.held)) == (100, 0)  # the hold was placed after March
    assert int(q_then.quantity) == 300  # inventory is always today's
    assert (int(q_then.shipped), int(q_early.shipped)) == (500, 0)


def test_a_lot_shipped_to_the_caller_is_disclosed_from_its_shipping_date(
    db: Session, network: Network
) -> None:
    assert nodes(network, run(db, network, "OEM", "V1", direction="backward")) == {"V1", "S1", "I1"}
    before = run(db, network, "OEM", "V1", direction="backward", as_of=BETWEEN.replace(month=1, day=1))
    assert nodes(network, before) == {"V1", "S1"}  # I1 was shipped on 2 January
    assert before.undisclosed.batches == 4


def test_fold_names_the_callers_own_plant_even_for_an_undisclosed_lot_and_hides_a_strangers() -> None:
    me, partner, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    mine, theirs = uuid.uuid4(), uuid.uuid4()

    def row(dim: str, org: uuid.UUID | None, ref: uuid.UUID | None, visible: bool, n: int = 1) -> GroupRow:
        quantity = Decimal(10) if dim == "location" else None
        return GroupRow(
            dim,
            org,
            ref,
            "BIN-1" if dim == "location" else "batch",
            "pcs",
            visible,
            False,
            n,
            quantity,
            quantity,
        )

    rows = [
        row("node", partner, None, True),
        row("node", stranger, None, False, n=3),
        row("location", stranger, mine, False),  # a stranger's lot in my own plant
        row("location", stranger, theirs, False),  # a stranger's lot in a stranger's plant
    ]
    plants = {mine: PlantInfo(me, "MY-PLANT", "mine"), theirs: PlantInfo(stranger, "THEIR-PLANT", "theirs")}
    folded = fold(rows, caller=me, organization_names={partner: "Partner"}, parts={}, plants=plants)
    assert [p.code for p in folded.by_plant] == ["MY-PLANT"]
    assert [(loc.code, int(loc.quantity), int(loc.held)) for loc in folded.by_location] == [
        ("MY-PLANT", 10, 10)
    ]
    assert (folded.undisclosed.plants, folded.undisclosed.positions) == (1, 1)
    assert (folded.undisclosed.batches, folded.undisclosed.organizations) == (3, 1)
    assert [g.name for g in folded.by_organization] == ["Partner"]
