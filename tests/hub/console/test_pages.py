"""The console's pages over real data made through the API: overview, scorecard, the supplier's own view,
inbox and containment, and what another organization's person sees of them (nothing: the 404 page)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, SupplyAgreement
from protocol.models.common import OrgKind
from tests.hub.conftest import make_actor, make_org
from tests.hub.console.conftest import hidden, signed_in_client
from tests.hub.kpis.conftest import Reporting, agreement_body
from tests.hub.notifications.chain import Chain, build_chain
from tests.hub.notifications.conftest import alert, moved
from tests.hub.rules.test_standing import make_rule, report_weeks


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A second browser (its own cookies) on the same in-process hub."""
    with TestClient(app, base_url="http://localhost:8000", raise_server_exceptions=False) as other:
        yield other


@pytest.fixture
def downgraded(reporting: Reporting, db: Session) -> Reporting:
    """Three bad weeks under the standard rule: the supplier drops from tier A to B."""
    make_rule(db, reporting.oem)
    report_weeks(reporting, ["1.2000", "1.2500", "1.1000"])
    return reporting


def test_the_network_overview_shows_tier_status_trend_and_exports_csv(
    client: TestClient, db: Session, downgraded: Reporting
) -> None:
    signed_in_client(client, db, downgraded.oem.org)
    page = client.get("/console/network")
    assert page.status_code == 200
    assert downgraded.supplier.org.name in page.text
    assert 'class="tier tier-B"' in page.text and "trend-down" in page.text

    exported = client.get("/console/network.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["supplier"], r["tier"], r["trend"]) for r in rows] == [
        (downgraded.supplier.org.name, "B", "down")
    ]


def test_the_scorecard_shows_every_cause_and_a_chart_with_the_threshold(
    client: TestClient, db: Session, downgraded: Reporting
) -> None:
    signed_in_client(client, db, downgraded.oem.org)
    page = client.get(f"/console/suppliers/{downgraded.supplier.org.id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "A → B" in text and " v1" in text  # the change, by rule version 1
    for value in ("1.2", "1.25", "1.1"):  # each period that counted, with its value
        assert f"cpk · DIA-01: {value}</li>" in text
    assert '<line class="threshold"' in text and text.count('class="point against') == 3
    # Of the three weeks only last week's report came before its due date (a week after the week's end).
    assert "33 % (1 of 3 due)" in text and "0 % (0 of 3)" in text
    assert "<svg" in text and "style=" not in text


def test_a_hidden_value_is_drawn_on_the_threshold_as_not_met(client: TestClient, db: Session) -> None:
    from protocol.models.kpi import KpiClaim
    from tests.hub.kpis.conftest import LAST_WEEK, make_reporting

    oem = make_actor(db, client, OrgKind.OEM)
    supplier = make_actor(db, client, OrgKind.SUPPLIER)
    reporting = make_reporting(db, oem, supplier, disclosure="threshold")
    make_rule(db, oem)
    # A claim against the supplier's own interest needs no proof, and under "threshold" it carries no value.
    claim = KpiClaim(meets=False, value=None, threshold="1.33", sample_size=125)
    sent = supplier.post(
        "/v1/kpi-reports",
        json=reporting.body(reporting.envelope(reporting.payload(period=LAST_WEEK, claim=claim))),
    )
    assert sent.status_code == 201, sent.text
    signed_in_client(client, db, oem.org)
    card = client.get(f"/console/suppliers/{supplier.org.id}")
    assert card.status_code == 200, card.text
    assert "point against hidden" in card.text and "point against proven" not in card.text
    assert f"{LAST_WEEK}: not met" in card.text


def test_the_chart_marks_proven_periods_and_the_ones_that_counted() -> None:
    from hub.console.charts import trend_chart
    from hub.kpis.series import Point, Series

    series = Series("SH-1", "DIA-01", "cpk", 1.33)
    series.points = [
        Point("2026-W01", 1.5, met=True, proven=False),
        Point("2026-W02", None, met=True, proven=True),
        Point("2026-W03", 1.1, met=False, proven=False),
        Point("2026-W04", None, met=False, proven=False),
    ]
    svg = str(trend_chart(series))
    assert svg.count('class="point met"') == 1 and svg.count("point met proven") == 1
    assert svg.count("point against") == 2 and ">proven</text>" in svg
    assert '<line class="threshold"' in svg and "<polyline" in svg
    assert "2026-W04: not met" in svg and "2026-W03: 1.1 (not met)" in svg
    evil = Series("<script>", "", "cpk", 1.0)
    evil.points = [Point("<b>", 1.0, met=True, proven=False)]
    assert "<script>" not in str(trend_chart(evil)) and "<b>" not in str(trend_chart(evil))


def test_two_years_of_weeks_get_a_few_readable_period_labels_and_every_point() -> None:
    from hub.console.charts import LABELS, trend_chart
    from hub.kpis.series import Point, Series

    series = Series("SH-1", "DIA-01", "cpk", 1.33)
    series.points = [Point(f"P{i:03d}", 1.4, met=True, proven=False) for i in range(104)]
    svg = str(trend_chart(series))
    assert svg.count("<circle") == 104
    labels = svg.count('class="tick" x=') - 1  # one tick is the threshold's value
    assert 2 <= labels <= LABELS + 1 and ">P000</text>" in svg and ">P103</text>" in svg


def test_another_oem_sees_the_404_page_for_a_supplier_not_its_own(
    client: TestClient, db: Session, downgraded: Reporting
) -> None:
    signed_in_client(client, db, make_org(db, OrgKind.OEM))
    page = client.get(f"/console/suppliers/{downgraded.supplier.org.id}")
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    assert downgraded.supplier.org.name not in page.text
    assert client.get("/console/suppliers/not-a-uuid").status_code == 404
    assert downgraded.supplier.org.name not in client.get("/console/network").text


def test_the_supplier_sees_its_standing_and_why_and_decides_a_proposed_agreement(
    client: TestClient, db: Session, downgraded: Reporting
) -> None:
    proposal = downgraded.oem.post(
        "/v1/agreements", json={**agreement_body(downgraded.supplier.org.id), "title": "Housing"}
    )
    assert proposal.status_code == 201, proposal.text
    _, csrf = signed_in_client(client, db, downgraded.supplier.org, role="sqe")
    assert client.get("/console/", follow_redirects=False).headers["location"] == "/console/standing"

    page = client.get("/console/standing")
    assert page.status_code == 200
    assert downgraded.oem.org.name in page.text and "A → B" in page.text and "Housing" in page.text

    agreement_id = proposal.json()["id"]
    stale = client.post(
        f"/console/agreements/{agreement_id}/accept", data={"csrf_token": "stale"}, follow_redirects=False
    )
    assert stale.headers["location"] == "/console/sign-in?reason=stale"
    assert db.get(SupplyAgreement, uuid.UUID(agreement_id)).status == "proposed"  # type: ignore[union-attr]

    done = client.post(
        f"/console/agreements/{agreement_id}/decline",
        data={"csrf_token": csrf, "reason": "no capacity"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    db.expire_all()
    assert (
        db.scalars(select(SupplyAgreement.status).where(SupplyAgreement.title == "Housing")).one()
        == "declined"
    )
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "agreement.declined")).one()
    assert entry.actor.startswith("person:")


def test_a_supplier_sees_nothing_of_another_supplier(
    client: TestClient, browser: TestClient, db: Session, downgraded: Reporting
) -> None:
    other = make_org(db, OrgKind.SUPPLIER)
    signed_in_client(browser, db, other, role="sqe")
    page = browser.get("/console/standing")
    assert page.status_code == 200 and downgraded.oem.org.name not in page.text and "A → B" not in page.text
    scorecard = browser.get(f"/console/suppliers/{downgraded.supplier.org.id}")
    assert scorecard.status_code == 404 and "<h1>Not found</h1>" in scorecard.text  # another's, as on the API
    assert downgraded.supplier.org.name not in scorecard.text
    own = browser.get(f"/console/suppliers/{other.id}", follow_redirects=False)
    assert own.status_code == 303 and own.headers["location"] == "/console/standing"
    agreement = browser.post(
        f"/console/agreements/{downgraded.agreement_id}/decline",
        data={"csrf_token": hidden(page.text, "csrf_token")},
    )
    assert agreement.status_code == 404 and "<h1>Not found</h1>" in agreement.text


def test_the_inbox_lists_what_the_rule_told_purchasing_and_filters_by_role(
    client: TestClient, db: Session, downgraded: Reporting
) -> None:
    signed_in_client(client, db, downgraded.oem.org, role="purchasing")
    page = client.get("/console/inbox")
    assert page.status_code == 200 and "<td>purchasing</td>" in page.text
    assert 'sse-connect="/v1/events?after=' in page.text and "sse:standing.changed" in page.text
    rows = list(csv.DictReader(io.StringIO(client.get("/console/inbox.csv").text)))
    assert rows and {row["role"] for row in rows} == {"purchasing"}

    assert "<td>purchasing</td>" not in client.get("/console/inbox", params={"role": "sqe"}).text
    assert "<td>purchasing</td>" in client.get("/console/inbox/rows", params={"role": "purchasing"}).text
    assert (
        list(csv.DictReader(io.StringIO(client.get("/console/inbox.csv", params={"role": "sqe"}).text))) == []
    )
    bad = client.get("/console/inbox", params={"role": "boss"})
    assert bad.status_code == 422 and "role" in bad.text and "text/html" in bad.headers["content-type"]


@pytest.fixture
def chain(db: Session, client: TestClient) -> Chain:
    return build_chain(db, client)


def test_a_plant_acknowledges_and_closes_its_containment_action(
    client: TestClient, db: Session, chain: Chain
) -> None:
    nid = str(alert(chain, severity="CRITICAL")["id"])
    moved(chain.capacitor, nid, "send", "withstand voltage 38 V instead of 50 V")
    _, csrf = signed_in_client(client, db, chain.ecu.org, role="plant")
    page = client.get("/console/containment")
    assert page.status_code == 200 and "ECU-1" in page.text and "Acknowledge" in page.text
    action_id = re.search(r"/console/containment/([0-9a-f-]{36})/acknowledge", page.text).group(1)  # type: ignore[union-attr]

    empty = client.post(
        f"/console/containment/{action_id}/acknowledge", data={"csrf_token": csrf, "text": ""}
    )
    assert empty.status_code == 422 and "owner:" in empty.text  # the API's message, next to the field
    early = client.post(
        f"/console/containment/{action_id}/close", data={"csrf_token": csrf, "text": "sorted"}
    )
    assert early.status_code == 409 and "acknowledge it first" in early.text

    ok = client.post(
        f"/console/containment/{action_id}/acknowledge",
        data={"csrf_token": csrf, "text": "J. Weber"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    closed = client.post(
        f"/console/containment/{action_id}/close",
        data={"csrf_token": csrf, "text": "412 pcs sorted"},
        follow_redirects=False,
    )
    assert closed.status_code == 303
    rows = list(csv.DictReader(io.StringIO(client.get("/console/containment.csv").text)))
    assert [(r["status"], r["owner"], r["result"]) for r in rows if r["action_id"] == action_id] == [
        ("closed", "J. Weber", "412 pcs sorted")
    ]


def test_a_viewer_may_not_change_containment(client: TestClient, db: Session, chain: Chain) -> None:
    nid = str(alert(chain, severity="CRITICAL")["id"])
    moved(chain.capacitor, nid, "send", "withstand voltage")
    _, csrf = signed_in_client(client, db, chain.ecu.org, role="viewer")
    page = client.get("/console/containment")
    assert "Acknowledge" not in page.text
    from hub.console import views
    from tests.hub.kpis.conftest import caller_of

    action = views.containment_actions(db, caller=caller_of(chain.ecu))[0]
    refused = client.post(
        f"/console/containment/{action.id}/acknowledge", data={"csrf_token": csrf, "text": "me"}
    )
    assert refused.status_code == 403 and "containment:write" in refused.text


def test_exports_never_carry_a_formula() -> None:
    from hub.console.export import table_response

    rows = [['=HYPERLINK("http://evil")', "+1", "@SUM(A1)", 3, None, True]]
    text = table_response("t", "csv", ["a", "b", "c", "d", "e", "f"], rows).body.decode()
    assert text.splitlines()[1] == '"\'=HYPERLINK(""http://evil"")",\'+1,\'@SUM(A1),3,,true'
    book = load_workbook(io.BytesIO(table_response("t", "xlsx", ["a"] * 6, rows).body))
    values = [cell.value for cell in book.active[2]]
    assert values[:4] == ['\'=HYPERLINK("http://evil")', "'+1", "'@SUM(A1)", 3]
    assert all(cell.data_type != "f" for cell in book.active[2])


def test_the_overview_counts_overdue_reports(client: TestClient, db: Session, downgraded: Reporting) -> None:
    from datetime import timedelta

    from hub.models import PeriodOutcome
    from hub.models.base import utcnow
    from hub.rules.sweep import sweep

    assert (
        sweep(db, now=utcnow() + timedelta(weeks=3)) > 0
    )  # three weeks on, the newest periods went unreported
    db.commit()
    missing = db.scalars(
        select(PeriodOutcome).where(
            PeriodOutcome.supplier_id == downgraded.supplier.org.id, PeriodOutcome.missing.is_(True)
        )
    ).all()
    signed_in_client(client, db, downgraded.oem.org)
    rows = list(csv.DictReader(io.StringIO(client.get("/console/network.csv").text)))
    assert [int(row["overdue_reports"]) for row in rows] == [len(missing)] and len(missing) >= 2
    assert "Overdue reports" in client.get("/console/network").text
