"""Certificates over the API: issued with a verified proof, shared by the supplier, read only by the entitled,
status changes as events; another org's certificate is a 404, a missing scope 403, a forged proof 422."""

from __future__ import annotations

import copy
import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, Event
from protocol.models.common import OrgKind
from tests.hub.certificates.conftest import Certifier, register_signing_key
from tests.hub.conftest import Actor, make_actor


def events_of(db: Session, org_id: uuid.UUID, prefix: str = "certificate.") -> list[str]:
    db.expire_all()
    rows = db.scalars(
        select(Event).where(Event.organization_id == org_id).order_by(Event.occurred_at, Event.id)
    )
    return [row.type for row in rows if row.type.startswith(prefix)]


def test_a_certifier_issues_a_certificate_and_the_supplier_holds_it(
    db: Session, certifier: Certifier, supplier: Actor, oem: Actor
) -> None:
    issued = certifier.issue(supplier)

    assert (issued["standard"], issued["status"], issued["supplier_id"]) == (
        "IATF 16949",
        "active",
        str(supplier.org.id),
    )
    assert issued["credential"]["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert issued["certifier_name"] == certifier.actor.org.name
    mine = supplier.get("/v1/certificates").json()["items"]
    assert [c["certificate_id"] for c in mine] == [issued["certificate_id"]]
    assert [c["number"] for c in certifier.actor.get("/v1/certificates").json()["items"]] == [
        issued["number"]
    ]
    assert oem.get("/v1/certificates").json()["items"] == []
    assert events_of(db, supplier.org.id) == ["certificate.issued"]
    assert events_of(db, oem.org.id) == []
    entry = db.scalars(select(AuditEntry).where(AuditEntry.subject_id == issued["certificate_id"])).one()
    assert entry.action == "certificate.issued"


def test_an_oem_sees_only_what_is_shared_with_it(
    db: Session, certifier: Certifier, supplier: Actor, oem: Actor, other_oem: Actor
) -> None:
    issued = certifier.issue(supplier)
    url = f"/v1/certificates/{issued['certificate_id']}"

    assert oem.get(url).status_code == 404
    shared = supplier.post(f"{url}/share", json={"oem_id": str(oem.org.id)})
    assert shared.status_code == 200, shared.text
    assert shared.json()["shared_with"] == [str(oem.org.id)]

    seen = oem.get(url)
    assert seen.status_code == 200
    assert seen.json()["shared_with"] == []  # an OEM does not learn who else holds it
    assert [
        c["certificate_id"]
        for c in oem.get(f"/v1/certificates?supplier_id={supplier.org.id}").json()["items"]
    ] == [issued["certificate_id"]]
    assert other_oem.get(url).status_code == 404
    assert other_oem.get("/v1/certificates").json()["items"] == []
    assert events_of(db, oem.org.id) == ["certificate.shared"]

    assert supplier.post(f"{url}/unshare", json={"oem_id": str(oem.org.id)}).status_code == 200
    assert oem.get(url).status_code == 404
    assert events_of(db, oem.org.id) == ["certificate.shared", "certificate.unshared"]


def test_status_changes_reach_every_entitled_oem(
    db: Session, certifier: Certifier, supplier: Actor, oem: Actor, other_oem: Actor
) -> None:
    issued = certifier.issue(supplier)
    url = f"/v1/certificates/{issued['certificate_id']}"
    supplier.post(f"{url}/share", json={"oem_id": str(oem.org.id)})

    suspended = certifier.actor.post(f"{url}/suspend", json={"reason": "surveillance audit overdue"})
    assert suspended.status_code == 200, suspended.text
    assert (suspended.json()["status"], suspended.json()["status_reason"]) == (
        "suspended",
        "surveillance audit overdue",
    )
    assert certifier.actor.post(f"{url}/reinstate", json={}).json()["status"] == "active"
    assert certifier.actor.post(f"{url}/withdraw", json={"reason": "closed"}).json()["status"] == "withdrawn"
    assert oem.get(url).json()["status"] == "withdrawn"

    again = certifier.actor.post(f"{url}/reinstate", json={})
    assert again.status_code == 409
    assert again.json()["error"] == "CertificateStatusConflict"
    expected = [
        "certificate.shared",
        "certificate.suspended",
        "certificate.reinstated",
        "certificate.withdrawn",
    ]
    assert events_of(db, oem.org.id) == expected
    assert events_of(db, supplier.org.id) == ["certificate.issued", *expected]
    assert events_of(db, other_oem.org.id) == []


def test_another_organizations_certificate_is_a_404(
    certifier: Certifier, supplier: Actor, other_supplier: Actor, oem: Actor, db: Session
) -> None:
    issued = certifier.issue(supplier)
    url = f"/v1/certificates/{issued['certificate_id']}"

    assert other_supplier.get(url).status_code == 404
    assert other_supplier.post(f"{url}/share", json={"oem_id": str(oem.org.id)}).status_code == 404
    assert supplier.get(f"/v1/certificates/{uuid.uuid4()}").status_code == 404
    rival = make_actor(db, certifier.actor.http, OrgKind.CERTIFIER)
    register_signing_key(rival, Ed25519PrivateKey.generate())
    assert rival.post(f"{url}/withdraw", json={}).status_code == 404
    assert rival.get(url).status_code == 404


def test_missing_scope_is_a_403(certifier: Certifier, supplier: Actor, oem: Actor) -> None:
    credential = certifier.credential(supplier)
    for actor in (supplier, oem):  # neither kind may ever hold certificates:issue
        response = actor.post("/v1/certificates", json={"credential": credential})
        assert response.status_code == 403, response.text
    narrowed = certifier.actor.post(
        "/v1/certificates", json={"credential": credential}, scope="certificates:read"
    )
    assert narrowed.status_code == 403
    issued = certifier.issue(supplier)
    share = f"/v1/certificates/{issued['certificate_id']}/share"
    assert oem.post(share, json={"oem_id": str(oem.org.id)}).status_code == 403
    assert certifier.actor.post(share, json={"oem_id": str(oem.org.id)}).status_code == 403
    assert certifier.actor.get("/v1/standings").status_code == 403  # a certifier reads no standings
    assert certifier.actor.get("/v1/kpi-reports").status_code in (403, 404)


def test_a_forged_credential_is_refused_naming_the_failed_check(
    certifier: Certifier, supplier: Actor
) -> None:
    credential = certifier.credential(supplier)
    forged = copy.deepcopy(credential)
    forged["validUntil"] = "2099-01-01T00:00:00Z"  # a longer validity than the certifier signed

    response = certifier.actor.post("/v1/certificates", json={"credential": forged})

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "InvalidCredential"
    assert "'signature'" in body["detail"]
    assert body["fields"][0]["loc"] == "body.credential.signature"


def test_a_credential_signed_by_an_unregistered_key_is_refused(certifier: Certifier, supplier: Actor) -> None:
    stranger = Certifier(certifier.actor, Ed25519PrivateKey.generate())
    response = certifier.actor.post("/v1/certificates", json={"credential": stranger.credential(supplier)})
    assert response.status_code == 422
    assert response.json()["fields"][0]["loc"] == "body.credential.verificationMethod"


def test_malformed_input_is_a_422_never_a_500(certifier: Certifier, supplier: Actor, oem: Actor) -> None:
    for body in ({}, {"credential": "text"}, {"credential": {}}, {"credential": {"proof": []}}):
        response = certifier.actor.post("/v1/certificates", json=body)
        assert response.status_code == 422, (body, response.text)
    no_site = certifier.credential(supplier)
    del no_site["credentialSubject"]["site"]
    response = certifier.actor.post("/v1/certificates", json={"credential": no_site})
    assert response.status_code == 422
    issued = certifier.issue(supplier)
    share = f"/v1/certificates/{issued['certificate_id']}/share"
    assert supplier.post(share, json={"oem_id": "not-a-uuid"}).status_code == 422
    bad = supplier.post(share, json={"oem_id": str(supplier.org.id)})
    assert (bad.status_code, bad.json()["fields"][0]["loc"]) == (422, "body.oem_id")


def test_the_same_certificate_number_twice_is_a_conflict(certifier: Certifier, supplier: Actor) -> None:
    first = certifier.issue(supplier, number="IATF-0001")
    again = certifier.actor.post(
        "/v1/certificates", json={"credential": certifier.credential(supplier, number="IATF-0001")}
    )
    assert first["number"] == "IATF-0001"
    assert (again.status_code, again.json()["error"]) == (409, "DuplicateCertificate")
