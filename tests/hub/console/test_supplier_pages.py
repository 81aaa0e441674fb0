"""The supplier's own view (its reports and proofs, its containment actions, how each OEM scores its data
sharing; accepting and declining an agreement) and the data-sharing degree on the scorecard and overview."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hub.models import SupplyAgreement
from protocol.models.common import OrgKind
from tests.hub.conftest import make_org
from tests.hub.console.conftest import signed_in_client
from tests.hub.kpis.conftest import Reporting, agreement_body
from tests.hub.notifications.chain import Chain, build_chain
from tests.hub.notifications.conftest import alert, moved
from tests.hub.rules.test_standing import make_rule, report_weeks


@pytest.fixture
def downgraded(reporting: Reporting, db: Session) -> Reporting:
    make_rule(db, reporting.oem)
    report_weeks(reporting, ["1.2000", "1.2500", "1.1000"])
    return reporting


def _proposal(reporting: Reporting) -> str:
    made = reporting.oem.post(
        "/v1/agreements", json={**agreement_body(reporting.supplier.org.id), "title": "Housing"}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_the_supplier_sees_its_reports_the_rule_version_and_its_data_sharing(
    client: TestClient, db: Session, downgraded: Reporting
) -> None:
    signed_in_client(client, db, downgraded.supplier.org)
    page = client.get("/console/standing")
    assert page.status_code == 200, page.text
    text = page.text
    assert "A → B" in text and " v1" in text and "cpk · DIA-01: 1.1</li>" in text
    assert "Reports and proofs" in text and text.count("<td>cpk</td>") == 3
    assert f"Data sharing as {downgraded.oem.org.name} scores it" in text and "Data-sharing degree" in text
    assert "No containment actions for your plants." in text
    rows = list(csv.DictReader(io.StringIO(client.get("/console/standing/reports.csv").text)))
    assert sorted(r["value"] for r in rows) == ["1.1", "1.2", "1.25"]
    assert {r["proven"] for r in rows} == {"false"}  # no proof went with them: none is called proven


def test_a_report_without_a_value_shows_none_on_the_supplier_page(client: TestClient, db: Session) -> None:
    from protocol.models.kpi import KpiClaim
    from tests.hub.conftest import make_actor
    from tests.hub.kpis.conftest import LAST_WEEK, make_reporting

    oem = make_actor(db, client, OrgKind.OEM)
    supplier = make_actor(db, client, OrgKind.SUPPLIER)
    reporting = make_reporting(db, oem, supplier, disclosure="threshold")
    claim = KpiClaim(meets=False, value=None, threshold="1.33", sample_size=125)
    sent = supplier.post(
        "/v1/kpi-reports",
        json=reporting.body(reporting.envelope(reporting.payload(period=LAST_WEEK, claim=claim))),
    )
    assert sent.status_code == 201, sent.text
    signed_in_client(client, db, supplier.org)
    page = client.get("/console/standing").text
    # No value was sent and no proof: the cell is a dash, neither a number nor "proven".
    assert f"<td>{LAST_WEEK}</td>" in page and "<td>—</td>" in page and "<td>threshold</td>" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/console/standing/reports.csv").text)))
    assert [(r["value"], r["proven"]) for r in rows] == [("", "false")]


def test_the_supplier_accepts_a_proposed_agreement_a_viewer_may_not(
    client: TestClient, db: Session, reporting: Reporting
) -> None:
    agreement_id = _proposal(reporting)
    _, csrf = signed_in_client(client, db, reporting.supplier.org, role="viewer")
    page = client.get("/console/standing").text
    assert "Housing" in page and ">Accept<" not in page
    refused = client.post(f"/console/agreements/{agreement_id}/accept", data={"csrf_token": csrf})
    assert refused.status_code == 403 and "agreements:write" in refused.text
    assert db.get(SupplyAgreement, uuid.UUID(agreement_id)).status == "proposed"  # type: ignore[union-attr]


def test_accepting_and_a_malformed_decision_through_the_form(
    client: TestClient, db: Session, reporting: Reporting
) -> None:
    agreement_id = _proposal(reporting)
    _, csrf = signed_in_client(client, db, reporting.supplier.org, role="sqe")
    bad = client.post(f"/console/agreements/{agreement_id}/maybe", data={"csrf_token": csrf})
    assert bad.status_code == 422 and "decision" in bad.text
    long = client.post(
        f"/console/agreements/{agreement_id}/decline", data={"csrf_token": csrf, "reason": "x" * 5000}
    )
    assert long.status_code == 422 and "reason" in long.text
    done = client.post(
        f"/console/agreements/{agreement_id}/accept", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    db.expire_all()
    assert db.get(SupplyAgreement, uuid.UUID(agreement_id)).status == "active"  # type: ignore[union-attr]
    assert "accepted" in client.get("/console/standing").text


def test_another_supplier_sees_nothing_of_it(client: TestClient, db: Session, downgraded: Reporting) -> None:
    agreement_id = _proposal(downgraded)
    other = make_org(db, OrgKind.SUPPLIER)
    _, csrf = signed_in_client(client, db, other, role="sqe")
    page = client.get("/console/standing").text
    assert downgraded.oem.org.name not in page and "Housing" not in page and "DIA-01" not in page
    rows = list(csv.DictReader(io.StringIO(client.get("/console/standing/reports.csv").text)))
    assert rows == []
    refused = client.post(f"/console/agreements/{agreement_id}/accept", data={"csrf_token": csrf})
    assert refused.status_code == 404 and "<h1>Not found</h1>" in refused.text


def test_the_scorecard_and_the_overview_show_the_data_sharing_degree(
    client: TestClient, db: Session, downgraded: Reporting
) -> None:
    signed_in_client(client, db, downgraded.oem.org)
    card = client.get(f"/console/suppliers/{downgraded.supplier.org.id}").text
    assert "Data-sharing degree" in card and "Investigations answered within target" in card
    assert "less 5 points for each open containment action" in card
    rows = list(csv.DictReader(io.StringIO(client.get("/console/network.csv").text)))
    # One of three on time (33 %), none proven (0 %), no investigation, no open action: (33 + 0) / 2.
    assert [r["data_sharing_degree"] for r in rows] == ["17"]
    assert "(degree, 13 weeks)" in client.get("/console/network").text


def test_the_supplier_sees_its_containment_actions(client: TestClient, db: Session) -> None:
    chain: Chain = build_chain(db, client)
    nid = str(alert(chain, severity="CRITICAL")["id"])
    moved(chain.capacitor, nid, "send", "withstand voltage")
    signed_in_client(client, db, chain.ecu.org, role="plant")
    page = client.get("/console/standing").text
    assert "ECU-1" in page and "<td>open</td>" in page
