"""Built, signed and submitted through supplier_sdk.Client to a real hub: what it stores, replays and refuses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.models.common import DisclosureMode, KpiName
from protocol.models.kpi import KPI_REPORT_TYPE, KpiReportPayload
from protocol.signing import sign_envelope
from supplier_sdk.errors import ConflictError, InvalidRequest, PermissionDenied
from supplier_sdk.reports import build_capability_report, build_mtbf_report, build_ppm_report
from tests.supplier_sdk.test_client_support import (
    CountingTransport,
    Network,
    Reporting,
    last_month,
    past_weeks,
    running_network,
)

pytestmark = pytest.mark.e2e

GOOD = np.round(np.random.default_rng(3).normal(25.0, 0.003, 50), 4)  # CPK ≈ 2 against 24.98..25.02
POOR = np.round(np.random.default_rng(4).normal(25.008, 0.006, 50), 4)  # CPK well below 1.33


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_reports") as network:
        yield network


@pytest.fixture
def reporting(network: Network) -> Reporting:
    return network.reporting()


def cpk_payload(reporting: Reporting, period: str, values: np.ndarray = GOOD) -> KpiReportPayload:
    return build_capability_report(
        agreement=reporting.agreement, characteristic="DIA-01", period=period, kpi="cpk", values=values
    )


def test_a_built_cpk_report_is_stored_as_claimed(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    period = past_weeks(1)[0]
    payload = cpk_payload(reporting, period)

    report = hub.kpi_reports.submit(payload)

    assert (report.supplier_id, report.oem_id, report.agreement_id) == (
        payload.supplier_id,
        payload.oem_id,
        payload.agreement_id,
    )
    assert (report.part_number, report.characteristic, report.period, report.kpi) == (
        "SH-4410",
        "DIA-01",
        period,
        KpiName.CPK,
    )
    assert report.meets is True and payload.claim.value is not None
    assert report.value == payload.claim.value and report.threshold == Decimal("1.33")
    assert report.key_id == reporting.key_id == hub.signing_key_id
    assert report.disclosure is DisclosureMode.VALUE and report.has_proof is False
    assert abs(report.signed_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert hub.kpi_reports.get(report.id) == report


def test_every_builder_makes_a_report_the_hub_accepts(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    week = past_weeks(1)[0]
    agreement = reporting.agreement

    poor_cpk = hub.kpi_reports.submit(cpk_payload(reporting, week, POOR))
    ppm = hub.kpi_reports.submit(
        build_ppm_report(agreement=agreement, characteristic="DIA-01", period=week, values=GOOD)
    )
    mtbf = hub.kpi_reports.submit(
        build_mtbf_report(agreement=agreement, period=week, hours=12_000, failures=2)
    )
    clean = hub.kpi_reports.submit(
        build_mtbf_report(agreement=agreement, period=past_weeks(2)[1], hours=3000, failures=0)
    )
    # PPK is agreed under threshold disclosure: a "does not meet" claim needs no proof and reveals no value.
    ppk = hub.kpi_reports.submit(
        build_capability_report(
            agreement=agreement, characteristic="DIA-01", period=week, kpi="ppk", values=POOR
        )
    )

    assert (poor_cpk.meets, poor_cpk.value is not None and poor_cpk.value < Decimal("1.33")) == (False, True)
    assert ppm.kpi is KpiName.PPM and ppm.meets is True
    assert (mtbf.value, mtbf.meets, mtbf.characteristic) == (Decimal("6000"), True, None)
    assert clean.meets is False and clean.value == Decimal("3274.0700")  # 3000 h / ln 2.5, rounded down
    assert (ppk.meets, ppk.value, ppk.disclosure) == (False, None, DisclosureMode.THRESHOLD)


def test_a_meets_claim_under_threshold_disclosure_needs_a_proof(
    network: Network, reporting: Reporting
) -> None:
    hub = network.client(reporting.supplier)
    payload = build_capability_report(
        agreement=reporting.agreement,
        characteristic="DIA-01",
        period=past_weeks(1)[0],
        kpi="ppk",
        values=GOOD,
    )
    assert payload.claim.meets is True and payload.claim.value is None

    with pytest.raises(InvalidRequest) as caught:
        hub.kpi_reports.submit(payload)

    assert caught.value.error == "ProofRequired" and caught.value.http_status == 422


def test_the_same_key_and_payload_return_the_first_report(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    payload = cpk_payload(reporting, past_weeks(1)[0])

    first = hub.kpi_reports.submit(payload, idempotency_key="shaft-cpk-1")
    again = hub.kpi_reports.submit(
        payload, idempotency_key="shaft-cpk-1"
    )  # re-signed: new nonce and signed_at

    assert again.id == first.id and again.signed_at == first.signed_at
    assert [r.id for r in hub.kpi_reports.list(agreement_id=reporting.agreement.id)] == [first.id]


def test_the_same_key_with_another_payload_is_refused(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    week1, week2 = past_weeks(2)
    hub.kpi_reports.submit(cpk_payload(reporting, week1), idempotency_key="k-reused")

    with pytest.raises(InvalidRequest) as caught:
        hub.kpi_reports.submit(cpk_payload(reporting, week2), idempotency_key="k-reused")

    assert caught.value.error == "IdempotencyKeyReused"


def test_a_second_report_for_a_period_is_a_duplicate_and_not_retried(
    network: Network, reporting: Reporting
) -> None:
    transport = CountingTransport()
    hub = network.client(reporting.supplier, transport=transport)
    period = past_weeks(1)[0]
    hub.kpi_reports.submit(cpk_payload(reporting, period))

    with pytest.raises(ConflictError) as caught:
        hub.kpi_reports.submit(cpk_payload(reporting, period, POOR))

    assert caught.value.error == "DuplicateReport" and period in caught.value.detail
    assert transport.paths("POST").count("/v1/kpi-reports") == 2


def test_an_envelope_signed_long_ago_is_stale(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    envelope = sign_envelope(
        cpk_payload(reporting, past_weeks(1)[0]),
        type=KPI_REPORT_TYPE,
        private_key=reporting.supplier.key,
        signed_at=datetime.now(UTC) - timedelta(minutes=10),
    )

    with pytest.raises(InvalidRequest) as caught:
        hub.kpi_reports.submit_envelope(envelope, idempotency_key=str(uuid.uuid4()))

    assert caught.value.error == "StaleSignature"


def test_a_changed_payload_breaks_the_signature(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    envelope = hub.kpi_reports.sign(cpk_payload(reporting, past_weeks(1)[0], POOR))
    envelope.payload["claim"]["value"] = "1.9000"
    envelope.payload["claim"]["meets"] = True

    with pytest.raises(InvalidRequest) as caught:
        hub.kpi_reports.submit_envelope(envelope, idempotency_key=str(uuid.uuid4()))

    assert caught.value.error == "InvalidSignature"


def test_a_key_the_hub_does_not_know_is_refused(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    envelope = sign_envelope(
        cpk_payload(reporting, past_weeks(1)[0]),
        type=KPI_REPORT_TYPE,
        private_key=Ed25519PrivateKey.generate(),
    )

    with pytest.raises(InvalidRequest) as caught:
        hub.kpi_reports.submit_envelope(envelope, idempotency_key=str(uuid.uuid4()))

    assert caught.value.error == "UnknownKey"


def test_an_oem_cannot_submit(network: Network, reporting: Reporting) -> None:
    oem = network.client(network.oem)

    with pytest.raises(PermissionDenied) as caught:
        oem.kpi_reports.submit(cpk_payload(reporting, past_weeks(1)[0]))

    assert caught.value.error in ("Forbidden", "InsufficientScope")


def test_reports_follow_the_cursor_through_every_page_and_filter(
    network: Network, reporting: Reporting
) -> None:
    hub = network.client(reporting.supplier)
    weeks = past_weeks(5)
    stored = [
        hub.kpi_reports.submit(cpk_payload(reporting, week, POOR if i % 2 else GOOD))
        for i, week in enumerate(weeks)
    ]
    transport = CountingTransport()
    reader = network.client(reporting.supplier, transport=transport)

    everything = list(reader.kpi_reports.list(agreement_id=reporting.agreement.id, page_size=2))
    misses = list(reader.kpi_reports.list(agreement_id=reporting.agreement.id, meets=False, kpi="cpk"))
    recent = list(
        reader.kpi_reports.list(
            agreement_id=str(reporting.agreement.id), period_from=weeks[1], period_to=weeks[0]
        )
    )

    assert sorted(r.id for r in everything) == sorted(r.id for r in stored)
    assert len(everything) == 5
    assert transport.paths("GET").count("/v1/kpi-reports") == 3 + 1 + 1  # 2 + 2 + 1 on three pages
    assert {r.period for r in misses} == {weeks[1], weeks[3]}
    assert {r.period for r in recent} == {weeks[0], weeks[1]}


def test_the_oem_reads_the_report_but_not_a_hidden_value(network: Network, reporting: Reporting) -> None:
    supplier = network.client(reporting.supplier)
    week = past_weeks(1)[0]
    shown = supplier.kpi_reports.submit(cpk_payload(reporting, week))
    hidden = supplier.kpi_reports.submit(
        build_capability_report(
            agreement=reporting.agreement, characteristic="DIA-01", period=week, kpi="ppk", values=POOR
        )
    )

    oem = network.client(network.oem)
    seen = {r.kpi: r for r in oem.kpi_reports.list(supplier_id=reporting.supplier.org_id)}

    assert seen[KpiName.CPK].value == shown.value
    assert (
        seen[KpiName.PPK].id == hidden.id
        and seen[KpiName.PPK].value is None
        and seen[KpiName.PPK].meets is False
    )


def test_a_monthly_agreement_takes_monthly_periods(network: Network) -> None:
    reporting = network.reporting(period="month")
    hub = network.client(reporting.supplier)
    month = last_month()

    report = hub.kpi_reports.submit(
        build_mtbf_report(agreement=reporting.agreement, period=month, hours=20_000, failures=3)
    )

    assert report.period == month and report.meets is True
