"""An active agreement with a supplier whose signing key is registered, and a way to sign reports for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.models.base import uuid7
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.models.agreements import AgreementCreate
from protocol.models.common import KeyUse, OrgKind
from protocol.models.kpi import KPI_REPORT_TYPE, KpiClaim, KpiReportPayload
from protocol.models.orgs import OrgKeyRegister
from protocol.periods import Period
from protocol.signing import SignedEnvelope, key_id_for, public_key_raw, sign_envelope
from tests.hub.conftest import Actor

LAST_WEEK = str(Period.week(*datetime.now(UTC).isocalendar()[:2]).previous())


def caller_of(actor: Actor) -> Caller:
    kind = OrgKind(actor.org.kind)
    return Caller(org_id=actor.org.id, org_kind=kind, client_id=actor.client_id, scopes=frozenset())


def register_signing_key(db: Session, actor: Actor, key: Ed25519PrivateKey) -> str:
    data = OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(key)))
    registered = orgs.register_key(db, caller=caller_of(actor), data=data)
    db.commit()
    return registered.key_id


def agreement_body(
    supplier_id: uuid.UUID, *, disclosure: str = "value", period: str = "week"
) -> dict[str, Any]:
    return {
        "supplier_id": str(supplier_id),
        "title": "Shaft quality",
        "parts": [{"part_number": "SH-1", "name": "Shaft"}],
        "characteristics": [
            {"code": "DIA-01", "part_number": "SH-1", "unit": "mm", "lsl": "24.98", "usl": "25.02"}
        ],
        "kpis": [
            {"kpi": "cpk", "threshold": "1.33", "disclosure": disclosure},
            {"kpi": "mtbf", "threshold": "5000", "disclosure": "value"},
        ],
        "period": period,
        "valid_from": date(2025, 1, 1).isoformat(),
    }


@dataclass
class Reporting:
    """A supplier under an active agreement with an OEM, ready to sign reports."""

    oem: Actor
    supplier: Actor
    agreement_id: uuid.UUID
    key: Ed25519PrivateKey
    key_id: str

    def payload(self, **overrides: Any) -> KpiReportPayload:
        claim = overrides.pop("claim", None) or KpiClaim(
            meets=True, value="1.5000", threshold="1.33", sample_size=125
        )
        fields: dict[str, Any] = {
            "supplier_id": self.supplier.org.id,
            "oem_id": self.oem.org.id,
            "agreement_id": self.agreement_id,
            "part_number": "SH-1",
            "characteristic": "DIA-01",
            "period": LAST_WEEK,
            "kpi": "cpk",
            "claim": claim,
            "sdk_version": "test",
        }
        fields.update(overrides)
        return KpiReportPayload(**fields)

    def envelope(self, payload: KpiReportPayload | None = None, **kw: Any) -> SignedEnvelope:
        return sign_envelope(
            payload or self.payload(),
            type=KPI_REPORT_TYPE,
            private_key=kw.pop("key", self.key),
            key_id=kw.pop("key_id", self.key_id),
            **kw,
        )

    def body(self, envelope: SignedEnvelope | None = None) -> dict[str, Any]:
        return {"envelope": (envelope or self.envelope()).model_dump(mode="json")}


def stored_report_row(reporting: Reporting, period: Period, **overrides: Any) -> dict[str, Any]:
    """A KPI report row as the ingest path stores it, for tests that need many periods or a chosen receipt
    time (signing hundreds of reports through the API would only slow them down)."""
    row: dict[str, Any] = {
        "id": uuid7(),
        "supplier_id": reporting.supplier.org.id,
        "oem_id": reporting.oem.org.id,
        "agreement_id": reporting.agreement_id,
        "part_number": "SH-1",
        "characteristic": "DIA-01",
        "period": str(period),
        "period_start": period.start,
        "kpi": "cpk",
        "meets": True,
        "value": Decimal("1.40"),
        "threshold": Decimal("1.33"),
        "disclosure": "value",
        "key_id": reporting.key_id,
        "nonce": uuid.uuid4().hex,
        "signed_at": period.end,
        "received_at": period.end + timedelta(hours=1),
        "envelope": {"payload": {"period": str(period)}},
        "has_proof": False,
    }
    return row | overrides


def make_reporting(db: Session, oem: Actor, supplier: Actor, *, disclosure: str = "value") -> Reporting:
    data = AgreementCreate.model_validate(agreement_body(supplier.org.id, disclosure=disclosure))
    agreement = agreements.propose(db, caller=caller_of(oem), data=data)
    agreements.decide(db, caller=caller_of(supplier), agreement_id=agreement.id, accept=True)
    db.commit()
    key = Ed25519PrivateKey.generate()
    key_id = register_signing_key(db, supplier, key)
    assert key_id == key_id_for(public_key_raw(key))
    return Reporting(oem=oem, supplier=supplier, agreement_id=agreement.id, key=key, key_id=key_id)


@pytest.fixture
def reporting(db: Session, oem: Actor, supplier: Actor) -> Reporting:
    return make_reporting(db, oem, supplier)
