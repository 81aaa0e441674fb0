"""GET /v1/kpi-reports: each reader sees what its agreements entitle it to, and nothing more."""

from __future__ import annotations

from sqlalchemy.orm import Session

from protocol.models.kpi import KpiClaim
from protocol.periods import parse_period
from tests.hub.conftest import Actor
from tests.hub.kpis.conftest import LAST_WEEK, Reporting, make_reporting


def _submit_weeks(reporting: Reporting, weeks: int, *, disclosure_value: bool = True) -> list[str]:
    ids, period = [], parse_period(LAST_WEEK)
    for index in range(weeks):
        value = f"1.{40 + index:02d}00" if disclosure_value else None
        claim = KpiClaim(meets=bool(value), value=value, threshold="1.33")
        payload = reporting.payload(period=str(period), claim=claim)
        response = reporting.supplier.post(
            "/v1/kpi-reports", json=reporting.body(reporting.envelope(payload))
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
        period = period.previous()
    return ids


def test_the_oem_reads_values_under_value_disclosure(reporting: Reporting) -> None:
    ids = _submit_weeks(reporting, 3)
    page = reporting.oem.get("/v1/kpi-reports", params={"agreement_id": str(reporting.agreement_id)}).json()
    assert sorted(item["id"] for item in page["items"]) == sorted(ids)
    assert {item["value"] for item in page["items"]} == {"1.4", "1.41", "1.42"}
    assert page["next_cursor"] is None


def test_threshold_disclosure_hides_the_value_from_the_oem_not_from_the_supplier(
    db: Session, oem: Actor, supplier: Actor
) -> None:
    reporting = make_reporting(db, oem, supplier, disclosure="threshold")
    [report_id] = _submit_weeks(reporting, 1, disclosure_value=False)
    seen_by_oem = oem.get(f"/v1/kpi-reports/{report_id}").json()
    assert (
        seen_by_oem["meets"] is False
        and seen_by_oem["value"] is None
        and seen_by_oem["disclosure"] == "threshold"
    )
    assert supplier.get(f"/v1/kpi-reports/{report_id}").status_code == 200


def test_other_organizations_see_nothing(reporting: Reporting, db: Session, other_supplier: Actor) -> None:
    from protocol.models.common import OrgKind
    from tests.hub.conftest import make_actor

    [report_id] = _submit_weeks(reporting, 1)
    other_oem = make_actor(db, reporting.oem.http, OrgKind.OEM)
    for outsider in (other_supplier, other_oem):
        assert outsider.get("/v1/kpi-reports").json()["items"] == []
        response = outsider.get(f"/v1/kpi-reports/{report_id}")
        assert response.status_code == 404 and response.json()["error"] == "NotFound"


def test_cursor_pagination_walks_every_report_once(reporting: Reporting) -> None:
    ids = _submit_weeks(reporting, 5)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = reporting.supplier.get("/v1/kpi-reports", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))


def test_filters(reporting: Reporting) -> None:
    _submit_weeks(reporting, 4)
    oldest = str(parse_period(LAST_WEEK).previous().previous().previous())
    page = reporting.oem.get("/v1/kpi-reports", params={"period_to": oldest}).json()
    assert [item["period"] for item in page["items"]] == [oldest]
    assert reporting.oem.get("/v1/kpi-reports", params={"kpi": "mtbf"}).json()["items"] == []
    assert len(reporting.oem.get("/v1/kpi-reports", params={"meets": "true"}).json()["items"]) == 4


def test_bad_query_input_is_a_clear_422(reporting: Reporting) -> None:
    for params, loc in (
        ({"cursor": "!!"}, "cursor"),
        ({"period_from": "2026-W99"}, "period_from"),
        ({"limit": 0}, "limit"),
        ({"kpi": "oee"}, "kpi"),
    ):
        response = reporting.oem.get("/v1/kpi-reports", params=params)
        assert response.status_code == 422, response.text
        assert any(field["loc"].endswith(loc) for field in response.json()["fields"])


def test_reading_needs_the_read_scope(reporting: Reporting) -> None:
    response = reporting.oem.get("/v1/kpi-reports", scope="agreements:read")
    assert response.status_code == 403 and response.json()["error"] == "InsufficientScope"
    assert "kpi:read" in response.json()["detail"]
