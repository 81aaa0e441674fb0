"""The synthetic network, made through the services the API calls: organizations, API clients, signing keys,
agreements (proposed by the OEM, accepted by the supplier) and one webhook per OEM for its accepted reports.

Keys come from the seed (so a run's signatures are the same every time); organization names carry the seed, so
runs with different seeds can share a database."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.orgs import service as orgs
from hub.synth.shape import Shape
from hub.webhooks import service as webhooks
from protocol.encoding import b64url_encode
from protocol.models.agreements import AgreementCreate
from protocol.models.common import KeyUse, OrgKind
from protocol.models.orgs import OrganizationCreate, OrgKeyRegister
from protocol.models.webhooks import WebhookCreate
from protocol.signing import public_key_raw

ACTOR = "synth"
PART = "SYN-1"
THRESHOLD = "1.33"
WEBHOOK_TYPES = ["kpi_report.accepted"]


@dataclass(frozen=True)
class SyntheticSupplier:
    oem: int
    index: int
    org_id: uuid.UUID
    oem_id: uuid.UUID
    agreement_id: uuid.UUID
    client_id: str
    key: Ed25519PrivateKey
    key_id: str

    @property
    def caller(self) -> Caller:
        return Caller(self.org_id, OrgKind.SUPPLIER, self.client_id, frozenset({"kpi:write"}))


@dataclass
class SyntheticNetwork:
    shape: Shape
    seed: int
    suppliers: list[SyntheticSupplier] = field(default_factory=list)


def characteristic(index: int) -> str:
    return f"C{index:03d}"


def supplier_key(seed: int, oem: int, index: int) -> Ed25519PrivateKey:
    """The supplier's Ed25519 key, from the seed: one key signs its reports and authenticates its client."""
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"qualink-synth:{seed}:{oem}:{index}".encode()).digest()
    )


def _public_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public_key_raw(key))}


def _agreement(shape: Shape, supplier_id: uuid.UUID, valid_from: date) -> AgreementCreate:
    return AgreementCreate.model_validate(
        {
            "supplier_id": str(supplier_id),
            "title": "synthetic weekly capability",
            "parts": [{"part_number": PART}],
            "characteristics": [
                {"code": characteristic(n), "part_number": PART, "unit": "mm", "lsl": "1", "usl": "2"}
                for n in range(shape.characteristics)
            ],
            "kpis": [{"kpi": "cpk", "threshold": THRESHOLD}],
            "period": "week",
            "valid_from": valid_from.isoformat(),
        }
    )


def _supplier(
    session: Session, *, shape: Shape, seed: int, oem: int, index: int, oem_caller: Caller, valid_from: date
) -> SyntheticSupplier:
    name = f"Synth {seed} Supplier {oem:02d}-{index:05d}"
    org = orgs.create_organization(
        session, actor=ACTOR, data=OrganizationCreate(name=name, kind=OrgKind.SUPPLIER)
    )
    key = supplier_key(seed, oem, index)
    client, _ = orgs.create_client(
        session,
        actor=ACTOR,
        actor_org_id=None,
        org_id=org.id,
        name="synth",
        scopes=None,
        public_jwk=_public_jwk(key),
    )
    caller = Caller(org.id, OrgKind.SUPPLIER, client.client_id, frozenset())
    signing = orgs.register_key(
        session,
        caller=caller,
        data=OrgKeyRegister(use=KeyUse.SIGNING, public_key=b64url_encode(public_key_raw(key))),
    )
    agreement = agreements.propose(session, caller=oem_caller, data=_agreement(shape, org.id, valid_from))
    agreements.decide(session, caller=caller, agreement_id=agreement.id, accept=True)
    return SyntheticSupplier(
        oem, index, org.id, oem_caller.org_id, agreement.id, client.client_id, key, signing.key_id
    )


def build(
    factory: sessionmaker[Session],
    *,
    shape: Shape,
    seed: int,
    valid_from: date,
    webhook: bool,
    progress: Callable[[str], None] = lambda _: None,
) -> SyntheticNetwork:
    """One transaction per OEM and its suppliers."""
    network = SyntheticNetwork(shape, seed)
    for oem in range(shape.oems):
        with factory.begin() as session:
            org = orgs.create_organization(
                session,
                actor=ACTOR,
                data=OrganizationCreate(name=f"Synth {seed} OEM {oem:02d}", kind=OrgKind.OEM),
            )
            oem_caller = Caller(org.id, OrgKind.OEM, ACTOR, frozenset())
            if webhook:
                # .invalid never resolves (RFC 2606): deliveries are made and stay pending, nothing leaves.
                url = f"https://oem-{oem:02d}.synth-{seed}.invalid/qualink"
                webhooks.create_webhook(
                    session,
                    caller=oem_caller,
                    data=WebhookCreate(url=url, event_types=WEBHOOK_TYPES),
                    development=True,
                )
            for index in range(shape.suppliers_per_oem):
                network.suppliers.append(
                    _supplier(
                        session,
                        shape=shape,
                        seed=seed,
                        oem=oem,
                        index=index,
                        oem_caller=oem_caller,
                        valid_from=valid_from,
                    )
                )
        progress(f"OEM {oem + 1}/{shape.oems}: {shape.suppliers_per_oem} suppliers with agreements")
    return network
