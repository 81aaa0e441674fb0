"""`hub genealogy import` and `hub synth genealogy` against a real, committed database; synthetic networks."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.orm import Session

from hub.genealogy import synth
from hub.models import Asset, AssetLink, AuditEntry, InventoryPosition, Organization, Shipment
from tests.hub.conftest import hub


def test_synth_file_imports_with_the_cli_and_reimports_unchanged(
    cli_database: str, cli_read: Session, tmp_path: Path
) -> None:
    out = tmp_path / "network.ndjson"
    result = hub("synth", "genealogy", "--lots", "400", "--tiers", "3", "--seed", "11", "--out", str(out))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    links = sum(1 for r in records if r["type"] == "link")
    result = hub("genealogy", "import", str(out))
    assert result.exit_code == 0, result.output
    assert f"{len(records)} accepted" in " ".join(result.stdout.split())
    assert cli_read.scalar(select(func.count()).select_from(Asset)) == 400
    assert (
        cli_read.scalar(select(func.count()).select_from(AssetLink).where(AssetLink.child_id.is_not(None)))
        == links
    )
    assert cli_read.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "genealogy.import")
    )
    again = hub("genealogy", "import", str(out))
    assert again.exit_code == 0 and f"{len(records)} unchanged" in " ".join(again.stdout.split())


def test_cli_import_as_one_organization_reports_rejections_and_exits_1(
    cli_database: str, cli_read: Session, tmp_path: Path
) -> None:
    org = uuid.UUID(hub("org", "create", "--name", "Capacitor Works", "--kind", "supplier").stdout.strip())
    other = uuid.UUID(hub("org", "create", "--name", "Other", "--kind", "supplier").stdout.strip())
    data = tmp_path / "lots.csv"
    data.write_text(
        f"batch_id,manufacturer_part_id,quantity,organization_id\nL1,CAP,5,\nL2,CAP,-1,\nL3,CAP,1,{other}\n"
    )
    result = hub("genealogy", "import", str(data), "--org", str(org), "--type", "batch")
    assert result.exit_code == 1, result.output
    text_out = " ".join(result.stdout.split())
    assert "1 accepted" in text_out and "2 rejected" in text_out
    assert (
        "line 3: batch quantity" in text_out
        and "line 4: batch organization_id: not your organization" in text_out
    )
    assert cli_read.scalars(select(Asset.local_id)).all() == ["L1"]
    assert cli_read.scalar(select(Asset.organization_id)) == org


def test_cli_refuses_an_unknown_format_and_synth_without_a_target(cli_database: str, tmp_path: Path) -> None:
    data = tmp_path / "lots.txt"
    data.write_text("x")
    assert hub("genealogy", "import", str(data)).exit_code == 2
    assert hub("synth", "genealogy", "--lots", "100").exit_code == 2


def test_synth_database_build_and_handles(cli_database: str, cli_read: Session) -> None:
    result = hub("synth", "genealogy", "--lots", "2000", "--tiers", "4", "--seed", "3", "--database")
    assert result.exit_code == 0, result.output
    assert cli_read.scalar(select(func.count()).select_from(Asset)) == 2000
    assert (
        cli_read.scalar(select(func.count()).select_from(AssetLink).where(AssetLink.child_id.is_(None))) == 0
    )
    assert cli_read.scalar(select(func.count()).select_from(Shipment)) > 0
    assert cli_read.scalar(select(func.count()).select_from(InventoryPosition)) > 0
    assert "hot lot CAP-L" in result.stdout
    again = hub("synth", "genealogy", "--lots", "2000", "--seed", "3", "--database")
    assert again.exit_code == 2 and "exists already" in again.output


def test_synth_is_deterministic_by_seed_and_shaped_like_a_supply_chain(db: Session) -> None:
    first, second, other = io.StringIO(), io.StringIO(), io.StringIO()
    counts = synth.write_ndjson(first, lots=600, tiers=4, seed=5)
    synth.write_ndjson(second, lots=600, tiers=4, seed=5)
    synth.write_ndjson(other, lots=600, tiers=4, seed=6)
    assert first.getvalue() == second.getvalue()
    assert first.getvalue() != other.getvalue()
    assert counts["batch"] + counts["serial_part"] == 600
    assert 2.5 * 600 < counts["link"] < 3 * 600

    network = synth.build_synthetic_network(db, lots=3000, tiers=4, seed=9)
    assert network.counts["assets"] == 3000
    assert [level.tier for level in network.levels] == [3, 2, 1, 0]
    capacitor = db.get(Organization, network.capacitor_org_id)
    assert capacitor is not None and capacitor.name.startswith("Capacitor Works")
    hot = db.get(Asset, network.hot_lot_id)
    assert hot is not None and hot.organization_id == network.capacitor_org_id and hot.kind == "batch"
    # the handle's descendant count is what a recursive query over the links finds
    descendants = db.scalar(
        text(
            """
            WITH RECURSIVE up(id) AS (
                SELECT parent_id FROM asset_links WHERE child_id = :root
                UNION SELECT l.parent_id FROM asset_links l JOIN up ON l.child_id = up.id
            ) SELECT count(*) FROM up
            """
        ).bindparams(bindparam("root", type_=Uuid())),
        {"root": network.hot_lot_id},
    )
    assert descendants == network.hot_lot_descendants > 100
    vehicle = db.get(Asset, network.vehicle_id)
    assert vehicle is not None and vehicle.kind == "serial" and vehicle.model in synth.MODELS
    # fan-in: every vehicle consumes three assembly lots of different suppliers
    fan_in = db.execute(
        select(func.count(), func.count(func.distinct(Asset.organization_id)))
        .select_from(AssetLink)
        .join(Asset, Asset.id == AssetLink.child_id)
        .where(AssetLink.parent_id == network.vehicle_id)
    ).one()
    assert tuple(fan_in) == (3, 2)
