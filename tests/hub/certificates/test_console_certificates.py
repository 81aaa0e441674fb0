"""The console shows certificates, read-only: on the OEM's supplier scorecard (only those shared with it) and on
the supplier's own page, in the person's language."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from protocol.models.rules import CERTIFICATE_WITHDRAWN_TEMPLATE
from tests.hub.certificates.conftest import Certifier
from tests.hub.conftest import Actor
from tests.hub.console.conftest import signed_in_client


def test_the_scorecard_shows_the_certificates_shared_with_the_oem(
    client: TestClient, db: Session, certifier: Certifier, supplier: Actor, oem: Actor
) -> None:
    assert (
        oem.post("/v1/rules", json={**CERTIFICATE_WITHDRAWN_TEMPLATE, "status": "active"}).status_code == 201
    )
    shared = certifier.issue(supplier, number="IATF-7001")
    certifier.issue(supplier, number="ISO-7002", standard="ISO 14001")  # not shared with the OEM
    url = f"/v1/certificates/{shared['certificate_id']}"
    assert supplier.post(f"{url}/share", json={"oem_id": str(oem.org.id)}).status_code == 200
    assert certifier.actor.post(f"{url}/withdraw", json={}).status_code == 200  # the rule opens a standing

    signed_in_client(client, db, oem.org)
    card = client.get(f"/console/suppliers/{supplier.org.id}")

    assert card.status_code == 200, card.text
    assert "IATF-7001" in card.text and "certificate-withdrawn" in card.text
    assert "ISO-7002" not in card.text
    assert f"{shared['valid_until'][:10]}" in card.text
    assert "<form" not in card.text.split("Certificates", 1)[1].split("</section>", 1)[0]  # read-only


def test_the_network_overview_and_its_export_show_each_suppliers_shared_certificates(
    client: TestClient, db: Session, certifier: Certifier, supplier: Actor, oem: Actor
) -> None:
    assert (
        oem.post("/v1/rules", json={**CERTIFICATE_WITHDRAWN_TEMPLATE, "status": "active"}).status_code == 201
    )
    shared = certifier.issue(supplier, number="IATF-7101")
    certifier.issue(supplier, number="ISO-7102", standard="ISO 14001")  # not shared with the OEM
    url = f"/v1/certificates/{shared['certificate_id']}"
    assert supplier.post(f"{url}/share", json={"oem_id": str(oem.org.id)}).status_code == 200
    assert certifier.actor.post(f"{url}/withdraw", json={}).status_code == 200  # the rule opens a standing

    signed_in_client(client, db, oem.org)
    page = client.get("/console/network")
    export = client.get("/console/network.csv")

    assert page.status_code == 200, page.text
    assert "IATF 16949: withdrawn" in page.text and "certificate-withdrawn" in page.text
    assert "ISO 14001" not in page.text
    assert "IATF 16949: withdrawn" in export.text and "ISO 14001" not in export.text


def test_the_supplier_sees_its_own_certificates_in_german(
    client: TestClient, db: Session, certifier: Certifier, supplier: Actor
) -> None:
    certifier.issue(supplier, number="VDA-7003", standard="VDA 6.3", audit_result={"score": 86, "grade": "B"})
    person, _ = signed_in_client(client, db, supplier.org)
    page = client.get("/console/standing")
    assert page.status_code == 200, page.text
    assert "VDA-7003" in page.text and "grade B" in page.text and "certificate-active" in page.text

    person.locale = "de"
    db.commit()
    german = client.get("/console/standing")
    assert "Meine Zertifikate" in german.text and "Einstufung B" in german.text and "gültig" in german.text
