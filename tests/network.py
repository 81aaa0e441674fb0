"""A committed OEM-supplier network for tests and benchmarks that run a real hub or several transactions.

``build_network`` makes, through the services and in one committed transaction: an OEM, a supplier whose one
Ed25519 key is both its signing key and its API client's key (what the SDK's Client expects), and an accepted
agreement over part ``P`` with the given characteristics."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.jwk import public_jwk
from protocol.models.agreements import AgreementCreate
from protocol.models.common import KeyUse, OrgKind, PeriodKind
from protocol.models.kpi import KPI_REPORT_TYPE, KpiClaim, KpiReportPayload
from protocol.models.orgs import OrganizationCreate, OrgKeyRegister
from protocol.periods import period_containing
from protocol.signing import SignedEnvelope, public_key_raw, sign_envelope


@dataclass(frozen=True)
class Network:
    oem_id: uuid.UUID
    supplier_id: uuid.UUID
    agreement_id: uuid.UUID
    client_id: str
    key: Ed25519PrivateKey
    key_id: str

    @property
    def as_oem(self) -> Caller:
        return Caller(self.oem_id, OrgKind.OEM, "test", frozenset())

    @property
    def as_supplier(self) -> Caller:
        return Caller(self.supplier_id, OrgKind.SUPPLIER, self.client_id, frozenset())

    def payload(
        self, characteristic: str, *, value: str = "1.5", kpi: str = "cpk", period: str | None = None
    ) -> KpiReportPayload:
        """A CPK-style report for last week (unless ``period``), meeting 1.33 unless ``value`` is below it."""
        return KpiReportPayload(
            supplier_id=self.supplier_id,
            oem_id=self.oem_id,
            agreement_id=self.agreement_id,
            part_number="P",
            characteristic=characteristic,
            period=period or str(period_containing(datetime.now(UTC), PeriodKind.WEEK).previous()),
            kpi=kpi,
            claim=KpiClaim(meets=float(value) >= 1.33, value=value, threshold="1.33"),
            sdk_version="test",
        )

    def envelope(self, payload: KpiReportPayload) -> SignedEnvelope:
        return sign_envelope(payload, type=KPI_REPORT_TYPE, private_key=self.key, key_id=self.key_id)


def build_network(
    factory: sessionmaker[Session],
    *,
    characteristics: list[str],
    kpis: tuple[str, ...] = ("cpk",),
    label: str = "",
) -> Network:
    """``label`` tells several networks in one database apart (organization names are unique)."""
    key = Ed25519PrivateKey.generate()
    with factory.begin() as session:
        oem = orgs.create_organization(
            session, actor="test", data=OrganizationCreate(name=f"OEM{label}", kind=OrgKind.OEM)
        )
        supplier = orgs.create_organization(
            session, actor="test", data=OrganizationCreate(name=f"Supplier{label}", kind=OrgKind.SUPPLIER)
        )
        client, _ = orgs.create_client(
            session,
            actor="test",
            actor_org_id=None,
            org_id=supplier.id,
            name="test",
            scopes=None,
            public_jwk=public_jwk(key),
        )
        as_supplier = Caller(supplier.id, OrgKind.SUPPLIER, client.client_id, frozenset())
        signing = orgs.register_key(
            session,
            caller=as_supplier,
            data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(key))),
        )
        data = AgreementCreate.model_validate(
            {
                "supplier_id": str(supplier.id),
                "title": "test",
                "parts": [{"part_number": "P"}],
                "characteristics": [
                    {"code": code, "part_number": "P", "unit": "mm", "lsl": "1", "usl": "2"}
                    for code in characteristics
                ],
                "kpis": [{"kpi": kpi, "threshold": "1.33"} for kpi in kpis],
                "valid_from": date(2020, 1, 1).isoformat(),
            }
        )
        agreement = agreements.propose(
            session, caller=Caller(oem.id, OrgKind.OEM, "test", frozenset()), data=data
        )
        agreements.decide(session, caller=as_supplier, agreement_id=agreement.id, accept=True)
        return Network(oem.id, supplier.id, agreement.id, client.client_id, key, signing.key_id)
