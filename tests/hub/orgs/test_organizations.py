"""Organizations, their public keys and their API clients, through the API."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from fastapi.testclient import TestClient
from joserfc.jwk import OKPKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.auth.scopes import default_scopes
from hub.models import ApiClient, AuditEntry, Organization
from protocol.encoding import b64url_encode
from protocol.jwk import public_jwk
from protocol.models.common import OrgKind
from protocol.signing import key_id_for, public_key_raw
from tests.hub.asserts import assert_error, audit_actions, audit_count, field_locs
from tests.hub.conftest import Actor

# --- helpers --------------------------------------------------------------------------------------------------


def org_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(Organization)) or 0)


def client_count(db: Session, org_id: object) -> int:
    return int(db.scalar(select(func.count()).where(ApiClient.organization_id == org_id)) or 0)


def new_key_body(use: str = "sig") -> tuple[dict[str, str], bytes]:
    key = Ed25519PrivateKey.generate() if use == "sig" else X25519PrivateKey.generate()
    raw = public_key_raw(key)
    return {"use": use, "public_key": b64url_encode(raw)}, raw


def propose(oem: Actor, supplier: Actor) -> dict[str, Any]:
    body = {
        "supplier_id": str(supplier.org.id),
        "title": "Shaft quality",
        "parts": [{"part_number": "SH-1"}],
        "characteristics": [
            {"code": "DIA", "part_number": "SH-1", "unit": "mm", "lsl": "9.9", "usl": "10.1"}
        ],
        "kpis": [{"kpi": "cpk", "threshold": "1.33"}],
        "valid_from": "2026-01-01",
    }
    response = oem.post("/v1/agreements", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def token_works(client: TestClient, client_id: str, secret: str) -> bool:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    return response.status_code == 200


# --- organizations --------------------------------------------------------------------------------------------


def test_operator_registers_an_organization_and_it_is_audited(db: Session, operator: Actor) -> None:
    response = operator.post("/v1/organizations", json={"name": "Kessler Präzision GmbH", "kind": "supplier"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Kessler Präzision GmbH" and body["kind"] == "supplier"
    row = db.get(Organization, uuid.UUID(body["id"]))
    assert row is not None and row.kind == "supplier"
    entries = db.scalars(select(AuditEntry).where(AuditEntry.subject_id == body["id"])).all()
    assert [e.action for e in entries] == ["organization.created"]
    assert entries[0].actor == f"client:{operator.client_id}"
    assert entries[0].data == {"name": "Kessler Präzision GmbH", "kind": "supplier"}


def test_duplicate_name_is_a_conflict_and_writes_nothing(db: Session, operator: Actor) -> None:
    first = operator.post("/v1/organizations", json={"name": "Voltara", "kind": "supplier"})
    assert first.status_code == 201
    audited = audit_count(db)

    second = operator.post("/v1/organizations", json={"name": "Voltara", "kind": "oem"})

    assert_error(second, 409, "Conflict", detail="Voltara")
    assert db.scalar(select(func.count()).where(Organization.name == "Voltara")) == 1
    assert audit_count(db) == audited


def test_only_the_operator_registers_organizations(db: Session, oem: Actor) -> None:
    before = org_count(db)
    response = oem.post("/v1/organizations", json={"name": "Sneaky", "kind": "supplier"})
    assert_error(response, 403, "InsufficientScope", detail="operator:admin")
    assert org_count(db) == before


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"name": "X Corp", "kind": "factory"}, "body.kind"),
        ({"name": "", "kind": "oem"}, "body.name"),
        ({"kind": "oem"}, "body.name"),
        ({"name": "X Corp", "kind": "oem", "country": "DE"}, "body.country"),
    ],
    ids=["unknown-kind", "empty-name", "missing-name", "unknown-field"],
)
def test_invalid_organization_is_422_naming_the_field(
    db: Session, operator: Actor, payload: dict[str, Any], loc: str
) -> None:
    orgs, audited = org_count(db), audit_count(db)
    body = assert_error(operator.post("/v1/organizations", json=payload), 422, "InvalidInput")
    assert loc in field_locs(body)
    assert loc.removeprefix("body.") in body["detail"]
    assert (org_count(db), audit_count(db)) == (orgs, audited)


def test_malformed_json_is_422(db: Session, client: TestClient, operator: Actor) -> None:
    orgs = org_count(db)
    headers = {**operator.headers(), "Content-Type": "application/json"}
    response = client.post("/v1/organizations", content=b'{"name": "X", "kind": ', headers=headers)
    body = assert_error(response, 422, "InvalidInput", detail="JSON")
    assert field_locs(body) and field_locs(body)[0].startswith("body")
    assert org_count(db) == orgs


def test_me_is_the_calling_organization(supplier: Actor) -> None:
    response = supplier.get("/v1/organizations/me")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": str(supplier.org.id),
        "name": supplier.org.name,
        "kind": "supplier",
        "created_at": response.json()["created_at"],
    }


def test_an_organization_is_visible_only_to_itself_and_its_partners(
    oem: Actor, supplier: Actor, other_supplier: Actor
) -> None:
    assert_error(oem.get(f"/v1/organizations/{supplier.org.id}"), 404, "NotFound")
    assert_error(supplier.get(f"/v1/organizations/{oem.org.id}"), 404, "NotFound")

    propose(oem, supplier)

    seen = oem.get(f"/v1/organizations/{supplier.org.id}")
    assert seen.status_code == 200 and seen.json()["id"] == str(supplier.org.id)
    assert supplier.get(f"/v1/organizations/{oem.org.id}").status_code == 200
    # A partner's partner is no partner.
    assert_error(other_supplier.get(f"/v1/organizations/{oem.org.id}"), 404, "NotFound")
    assert_error(supplier.get(f"/v1/organizations/{other_supplier.org.id}"), 404, "NotFound")


def test_a_declined_agreement_makes_no_partner(oem: Actor, supplier: Actor) -> None:
    agreement = propose(oem, supplier)
    assert (
        supplier.post(f"/v1/agreements/{agreement['id']}/decline", json={"reason": "no"}).status_code == 200
    )
    assert_error(oem.get(f"/v1/organizations/{supplier.org.id}"), 404, "NotFound")


def test_unknown_organization_is_404(operator: Actor) -> None:
    response = operator.get("/v1/organizations/00000000-0000-7000-8000-000000000000")
    assert_error(response, 404, "NotFound")


def test_list_shows_self_and_partners_only(oem: Actor, supplier: Actor, other_supplier: Actor) -> None:
    propose(oem, supplier)

    listed = {org["id"] for org in oem.get("/v1/organizations").json()["items"]}
    assert listed == {str(oem.org.id), str(supplier.org.id)}
    suppliers = {
        org["id"] for org in oem.get("/v1/organizations", params={"kind": "supplier"}).json()["items"]
    }
    assert suppliers == {str(supplier.org.id)}
    assert {org["id"] for org in other_supplier.get("/v1/organizations").json()["items"]} == {
        str(other_supplier.org.id)
    }


def test_the_operator_lists_everyone(operator: Actor, oem: Actor, supplier: Actor) -> None:
    listed = {org["id"] for org in operator.get("/v1/organizations").json()["items"]}
    assert {str(operator.org.id), str(oem.org.id), str(supplier.org.id)} <= listed


# --- onboarding clients ---------------------------------------------------------------------------------------


def test_operator_onboards_a_secret_client_for_an_organization(
    db: Session, client: TestClient, operator: Actor
) -> None:
    org = operator.post("/v1/organizations", json={"name": "Lindqvist Castings", "kind": "supplier"}).json()

    response = operator.post(f"/v1/organizations/{org['id']}/clients", json={"name": "MES connector"})

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["client"]["organization_id"] == org["id"]
    assert created["client"]["auth_method"] == "client_secret_basic"
    assert created["client"]["scopes"] == default_scopes(OrgKind.SUPPLIER)
    secret = created["client_secret"]
    assert secret.startswith("qls_")
    row = db.scalars(select(ApiClient).where(ApiClient.client_id == created["client"]["client_id"])).one()
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).digest()  # only a digest is kept
    token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(row.client_id, secret)
    ).json()
    me = client.get("/v1/organizations/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["id"] == org["id"]
    assert audit_actions(db, row.client_id) == ["client.created"]


def test_operator_onboards_a_key_client(operator: Actor, supplier: Actor) -> None:
    jwk = public_jwk(Ed25519PrivateKey.generate())
    response = operator.post(
        f"/v1/organizations/{supplier.org.id}/clients",
        json={"name": "SDK", "public_jwk": jwk, "scopes": ["kpi:write"]},
    )
    assert response.status_code == 201, response.text
    assert response.json()["client"]["auth_method"] == "private_key_jwt"
    assert response.json()["client"]["scopes"] == ["kpi:write"]
    assert response.json()["client_secret"] is None


def test_onboarding_needs_the_operator_and_a_real_organization(
    db: Session, operator: Actor, oem: Actor
) -> None:
    before = client_count(db, oem.org.id)
    response = oem.post(f"/v1/organizations/{oem.org.id}/clients", json={"name": "x"})
    assert_error(response, 403, "InsufficientScope", detail="operator:admin")
    missing = operator.post(
        "/v1/organizations/00000000-0000-7000-8000-000000000000/clients", json={"name": "x"}
    )
    assert_error(missing, 404, "NotFound")
    assert client_count(db, oem.org.id) == before


# --- keys -----------------------------------------------------------------------------------------------------


def test_register_a_signing_key(db: Session, supplier: Actor) -> None:
    body, raw = new_key_body("sig")

    response = supplier.post("/v1/keys", json=body)

    assert response.status_code == 201, response.text
    key = response.json()
    assert key["key_id"] == key_id_for(raw, crv="Ed25519")
    assert key["algorithm"] == "Ed25519" and key["status"] == "active" and key["use"] == "sig"
    assert key["organization_id"] == str(supplier.org.id)
    assert key["public_key"] == body["public_key"]
    assert audit_actions(db, key["key_id"]) == ["key.registered"]


def test_a_new_signing_key_retires_the_previous_one(supplier: Actor) -> None:
    first = supplier.post("/v1/keys", json=new_key_body("sig")[0]).json()
    enc = supplier.post("/v1/keys", json=new_key_body("enc")[0]).json()
    second = supplier.post("/v1/keys", json=new_key_body("sig")[0]).json()

    keys = {k["key_id"]: k for k in supplier.get(f"/v1/organizations/{supplier.org.id}/keys").json()["items"]}
    assert keys[first["key_id"]]["status"] == "retired"
    assert keys[first["key_id"]]["retired_at"] is not None
    assert keys[first["key_id"]]["revoked_at"] is None
    assert keys[second["key_id"]]["status"] == "active"
    # Keys of another use are untouched by a signing-key rotation.
    assert keys[enc["key_id"]]["status"] == "active" and keys[enc["key_id"]]["algorithm"] == "X25519"


@pytest.mark.parametrize(
    ("public_key", "detail"),
    [
        ("A" * 42 + "B", "base64url"),  # 43 characters whose unused trailing bits are not zero
        ("A" * 44, "public_key"),
        ("A" * 42, "public_key"),
        ("!" * 43, "public_key"),
    ],
    ids=["non-canonical-base64", "too-long", "too-short", "bad-alphabet"],
)
def test_malformed_public_key_is_422(db: Session, supplier: Actor, public_key: str, detail: str) -> None:
    audited = audit_count(db)
    response = supplier.post("/v1/keys", json={"use": "sig", "public_key": public_key})
    body = assert_error(response, 422, "InvalidInput", detail=detail)
    assert "body.public_key" in field_locs(body)
    assert supplier.get(f"/v1/organizations/{supplier.org.id}/keys").json()["items"] == []
    assert audit_count(db) == audited


def test_duplicate_key_is_a_conflict(supplier: Actor, other_supplier: Actor) -> None:
    body, _ = new_key_body("sig")
    assert supplier.post("/v1/keys", json=body).status_code == 201
    assert_error(supplier.post("/v1/keys", json=body), 409, "Conflict", detail="registered already")
    assert_error(other_supplier.post("/v1/keys", json=body), 409, "Conflict")
    assert other_supplier.get(f"/v1/organizations/{other_supplier.org.id}/keys").json()["items"] == []


def test_revoke_own_key(db: Session, supplier: Actor) -> None:
    key = supplier.post("/v1/keys", json=new_key_body("sig")[0]).json()

    response = supplier.post(f"/v1/keys/{key['key_id']}/revoke")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked" and response.json()["revoked_at"] is not None
    assert audit_actions(db, key["key_id"]) == ["key.registered", "key.revoked"]
    assert_error(supplier.post(f"/v1/keys/{key['key_id']}/revoke"), 409, "Conflict")


def test_revoking_another_organizations_key_is_404(
    db: Session, supplier: Actor, other_supplier: Actor
) -> None:
    key = supplier.post("/v1/keys", json=new_key_body("sig")[0]).json()

    assert_error(other_supplier.post(f"/v1/keys/{key['key_id']}/revoke"), 404, "NotFound")

    keys = supplier.get(f"/v1/organizations/{supplier.org.id}/keys").json()["items"]
    assert [k["status"] for k in keys] == ["active"]
    assert audit_actions(db, key["key_id"]) == ["key.registered"]


def test_keys_of_a_stranger_are_404(supplier: Actor, other_supplier: Actor) -> None:
    supplier.post("/v1/keys", json=new_key_body("sig")[0])
    assert_error(other_supplier.get(f"/v1/organizations/{supplier.org.id}/keys"), 404, "NotFound")


# --- clients --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "loc", "detail"),
    [
        ({"name": "x", "scopes": ["operator:admin"]}, "body.scopes", "operator:admin"),
        ({"name": "x", "scopes": ["no:such"]}, "body.scopes", "no:such"),
        (
            {"name": "x", "public_jwk": {"kty": "OKP", "crv": "Ed25519", "x": "?", "d": "?"}},
            "body.public_jwk",
            "'d'",
        ),
        (
            {"name": "x", "public_jwk": {"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}},
            "body.public_jwk",
            "Ed25519",
        ),
        (
            {"name": "x", "public_jwk": {"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}},
            "body.public_jwk.x",
            "public_jwk.x",
        ),
        ({"name": ""}, "body.name", "name"),
    ],
    ids=["scope-of-another-kind", "unknown-scope", "private-jwk", "not-okp", "short-x", "empty-name"],
)
def test_invalid_client_is_422_and_writes_nothing(
    db: Session, supplier: Actor, payload: dict[str, Any], loc: str, detail: str
) -> None:
    before, audited = client_count(db, supplier.org.id), audit_count(db)
    body = assert_error(supplier.post("/v1/clients", json=payload), 422, "InvalidInput", detail=detail)
    # Field locations read the same whether pydantic or the service refused the input.
    assert field_locs(body)[0] == loc
    assert (client_count(db, supplier.org.id), audit_count(db)) == (before, audited)


def test_private_jwk_with_a_real_key_is_refused(db: Session, supplier: Actor) -> None:
    private = OKPKey.import_key(Ed25519PrivateKey.generate()).as_dict(private=True)
    assert "d" in private
    before = client_count(db, supplier.org.id)
    body = assert_error(
        supplier.post("/v1/clients", json={"name": "x", "public_jwk": private}), 422, "InvalidInput"
    )
    assert field_locs(body) == ["body.public_jwk"]
    assert client_count(db, supplier.org.id) == before


def test_clients_list_shows_only_own(supplier: Actor, other_supplier: Actor) -> None:
    created = supplier.post("/v1/clients", json={"name": "second"})
    assert created.status_code == 201

    listed = supplier.get("/v1/clients").json()["items"]

    assert {c["client_id"] for c in listed} == {supplier.client_id, created.json()["client"]["client_id"]}
    assert {c["organization_id"] for c in listed} == {str(supplier.org.id)}
    assert other_supplier.client_id not in {c["client_id"] for c in listed}
    assert all("secret" not in key for c in listed for key in c)


def test_revoke_own_other_client(db: Session, client: TestClient, supplier: Actor) -> None:
    created = supplier.post("/v1/clients", json={"name": "old connector"}).json()
    client_id, secret = created["client"]["client_id"], created["client_secret"]
    assert token_works(client, client_id, secret)

    response = supplier.post(f"/v1/clients/{client_id}/revoke")

    assert response.status_code == 200, response.text
    assert response.json()["revoked_at"] is not None
    assert not token_works(client, client_id, secret)
    assert audit_actions(db, client_id) == ["client.created", "client.revoked"]


def test_revoking_another_organizations_client_is_404(
    db: Session, client: TestClient, supplier: Actor, other_supplier: Actor
) -> None:
    response = supplier.post(f"/v1/clients/{other_supplier.client_id}/revoke")
    assert_error(response, 404, "NotFound")
    assert token_works(client, other_supplier.client_id, other_supplier.secret)
    assert audit_actions(db, other_supplier.client_id) == ["client.created"]


def test_a_client_cannot_revoke_itself(db: Session, client: TestClient, supplier: Actor) -> None:
    response = supplier.post(f"/v1/clients/{supplier.client_id}/revoke")
    assert_error(response, 403, "Forbidden", detail="itself")
    assert token_works(client, supplier.client_id, supplier.secret)
    assert audit_actions(db, supplier.client_id) == ["client.created"]
