"""An agreement that names an accredited lab for a characteristic and for MTBF, a lab that accepted its part,
and helpers for the lab's measurement and the supplier's T2 report over it (all through the real app)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from protocol.encoding import b64url_encode
from protocol.models.common import OrgKind
from protocol.models.kpi import KPI_REPORT_TYPE, KpiClaim, KpiReportPayload
from protocol.models.labs import LabMeasurementContext
from protocol.signing import SignedEnvelope, public_key_raw, sign_envelope
from protocol.zk.attestation import Attestation, BindingContext
from protocol.zk.lab import LabOpenings
from supplier_sdk.lab import attach_lab, measure_capability, measure_reliability, prove_from_lab
from tests.hub.conftest import Actor, make_actor
from tests.hub.kpis.conftest import LAST_WEEK

TODAY = datetime.now(UTC).date()
LAST_MONTH = f"{(TODAY.replace(day=1) - timedelta(days=1)):%Y-%m}"


def capable(n: int = 125, seed: int = 7) -> list[Decimal]:
    rnd = random.Random(seed)
    return [Decimal(f"{rnd.gauss(25.0, 0.003):.3f}") for _ in range(n)]


def register_key(actor: Actor, use: str, raw: bytes) -> str:
    response = actor.post("/v1/keys", json={"use": use, "public_key": b64url_encode(raw)})
    assert response.status_code == 201, response.text
    return str(response.json()["key_id"])


def accredit(operator: Actor, lab: Actor, *, valid_from: date, valid_until: date) -> dict[str, Any]:
    body = {
        "scheme": "ISO/IEC 17025",
        "number": f"D-PL-{uuid.uuid4().hex[:6]}",
        "scope": "dimensional metrology; endurance testing",
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat(),
    }
    response = operator.post(f"/v1/labs/{lab.org.id}/accreditations", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def agreement_body(supplier_id: uuid.UUID, lab_id: uuid.UUID | None) -> dict[str, Any]:
    lab = None if lab_id is None else str(lab_id)
    return {
        "supplier_id": str(supplier_id),
        "title": "Shaft quality, lab-measured",
        "parts": [{"part_number": "SH-1", "name": "Shaft"}],
        "characteristics": [
            {
                "code": "DIA-01",
                "part_number": "SH-1",
                "unit": "mm",
                "lsl": "24.98",
                "usl": "25.02",
                "lab_id": lab,
            },
            {"code": "LEN-01", "part_number": "SH-1", "unit": "mm", "lsl": "99.9", "usl": "100.1"},
        ],
        "kpis": [
            {"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"},
            {"kpi": "mtbf", "threshold": "50000", "disclosure": "threshold", "lab_id": lab},
        ],
        "period": "week",
        "valid_from": "2025-01-01",
    }


@dataclass
class LabSetup:
    operator: Actor
    oem: Actor
    supplier: Actor
    lab: Actor
    agreement_id: uuid.UUID
    lab_key: Ed25519PrivateKey
    supplier_key: Ed25519PrivateKey
    supplier_key_id: str
    supplier_enc: X25519PrivateKey
    extra: dict[str, Any] = field(default_factory=dict)

    def measurement_context(
        self,
        *,
        kpi: str = "cpk",
        period: str = LAST_WEEK,
        characteristic: str | None = "DIA-01",
        lab: Actor | None = None,
    ) -> LabMeasurementContext:
        params: dict[str, str] = {"kpi": kpi, "part_number": "SH-1", "period": period}
        if characteristic is not None:
            params["characteristic"] = characteristic
        url = f"/v1/lab/assignments/{self.agreement_id}/measurement-context"
        response = (lab or self.lab).get(url, params=params)
        assert response.status_code == 200, response.text
        return LabMeasurementContext.model_validate(response.json())

    def measure(
        self,
        *,
        values: list[Decimal] | None = None,
        measured_on: date | None = None,
        key: Any = None,
        **kw: Any,
    ) -> tuple[SignedEnvelope, LabOpenings]:
        return measure_capability(
            values or capable(),
            context=kw.pop("context", None) or self.measurement_context(**kw),
            lab_key=key or self.lab_key,
            lots=["L-2026-117"],
            measured_on=measured_on or TODAY - timedelta(days=2),
            method="ISO 10360-2 CMM, 3 readings",
            instrument="CMM-2 (cal. 2026-06)",
        )

    def measure_mtbf(self, *, period: str = LAST_WEEK) -> tuple[SignedEnvelope, LabOpenings]:
        return measure_reliability(
            hours=Decimal("400000"),
            failures=2,
            context=self.measurement_context(kpi="mtbf", characteristic=None, period=period),
            lab_key=self.lab_key,
            lots=["L-9"],
            measured_on=TODAY - timedelta(days=2),
            method="IEC 60068-2-6 endurance",
            instrument="rig 4",
        )

    def issue_body(self) -> dict[str, Any]:
        """The body of ``POST /v1/lab/measurements`` for a fresh MTBF measurement (each call a new one: the
        envelope's nonce differs), its openings sealed to the supplier's X25519 key."""
        from supplier_sdk.lab import seal_openings

        context = self.measurement_context(kpi="mtbf", characteristic=None)
        envelope, openings = self.measure_mtbf()
        assert context.supplier_key is not None
        sealed = seal_openings(openings, recipient=context.supplier_key, agreement_id=self.agreement_id)
        return {
            "envelope": envelope.model_dump(mode="json"),
            "sealed_openings": sealed.model_dump(mode="json"),
        }

    def context(
        self, *, kpi: str = "cpk", period: str = LAST_WEEK, characteristic: str | None = "DIA-01"
    ) -> BindingContext:
        params = {"kpi": kpi, "period": period, "key_id": self.supplier_key_id}
        if characteristic is not None:
            params["characteristic"] = characteristic
        response = self.supplier.get(f"/v1/agreements/{self.agreement_id}/attestation-context", params=params)
        assert response.status_code == 200, response.text
        return BindingContext.model_validate(response.json())

    def prove(
        self, envelope: SignedEnvelope, openings: LabOpenings, *, kpi: str = "cpk", **kw: Any
    ) -> Attestation:
        characteristic = None if kpi == "mtbf" else "DIA-01"
        threshold = Decimal("50000") if kpi == "mtbf" else Decimal("1.33")
        context = self.context(kpi=kpi, characteristic=characteristic, period=kw.pop("period", LAST_WEEK))
        return prove_from_lab(envelope, openings, threshold=threshold, context=context)

    def payload(
        self, proof: Attestation, envelope: SignedEnvelope | None, *, kpi: str = "cpk"
    ) -> KpiReportPayload:
        period = proof.context().period
        base = KpiReportPayload(
            supplier_id=self.supplier.org.id,
            oem_id=self.oem.org.id,
            agreement_id=self.agreement_id,
            part_number="SH-1",
            characteristic=None if kpi == "mtbf" else "DIA-01",
            period=period,
            kpi=kpi,
            claim=KpiClaim(
                meets=True,
                threshold="50000" if kpi == "mtbf" else "1.33",
                sample_size=None if kpi == "mtbf" else proof.public["n"],
            ),
            sdk_version="test",
        )
        if envelope is None:
            from supplier_sdk.attest import attach

            return attach(base, proof)
        return attach_lab(base, proof, envelope)

    def submit(self, payload: KpiReportPayload) -> Any:
        envelope = sign_envelope(
            payload, type=KPI_REPORT_TYPE, private_key=self.supplier_key, key_id=self.supplier_key_id
        )
        return self.supplier.post("/v1/kpi-reports", json={"envelope": envelope.model_dump(mode="json")})


def make_lab_setup(
    db: Session, client: TestClient, operator: Actor, oem: Actor, supplier: Actor, *, lab_accepts: bool = True
) -> LabSetup:
    lab = make_actor(db, client, OrgKind.LAB)
    accredit(operator, lab, valid_from=TODAY - timedelta(days=365), valid_until=TODAY + timedelta(days=365))
    response = oem.post("/v1/agreements", json=agreement_body(supplier.org.id, lab.org.id))
    assert response.status_code == 201, response.text
    agreement_id = uuid.UUID(response.json()["id"])
    assert supplier.post(f"/v1/agreements/{agreement_id}/accept").status_code == 200
    if lab_accepts:
        accepted = lab.post(f"/v1/lab/assignments/{agreement_id}/accept")
        assert accepted.status_code == 200, accepted.text
    lab_key, supplier_key, supplier_enc = (
        Ed25519PrivateKey.generate(),
        Ed25519PrivateKey.generate(),
        X25519PrivateKey.generate(),
    )
    register_key(lab, "sig", public_key_raw(lab_key))
    supplier_key_id = register_key(supplier, "sig", public_key_raw(supplier_key))
    register_key(supplier, "enc", supplier_enc.public_key().public_bytes_raw())
    return LabSetup(
        operator=operator,
        oem=oem,
        supplier=supplier,
        lab=lab,
        agreement_id=agreement_id,
        lab_key=lab_key,
        supplier_key=supplier_key,
        supplier_key_id=supplier_key_id,
        supplier_enc=supplier_enc,
    )


@pytest.fixture
def setup(db: Session, client: TestClient, operator: Actor, oem: Actor, supplier: Actor) -> LabSetup:
    return make_lab_setup(db, client, operator, oem, supplier)
