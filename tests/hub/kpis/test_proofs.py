"""KPI-ZK on ingest: the attestation context, a proven report accepted, and each failed check named.

Proofs are real (the default backend), made with supplier_sdk.attest against the context the hub hands out.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.agreements import service as agreements
from hub.models import KpiAttestation, KpiReport
from protocol.encoding import b64url_decode, b64url_encode
from protocol.models.agreements import AgreementCreate
from protocol.models.kpi import KpiClaim, KpiReportPayload
from protocol.periods import Period
from protocol.zk.attestation import Attestation, BindingContext
from supplier_sdk.attest import attach, attest_capability, attest_mtbf
from tests.hub.conftest import Actor
from tests.hub.kpis.conftest import LAST_WEEK, Reporting, caller_of, register_signing_key

GOOD = np.round(np.random.default_rng(7).normal(25.0, 0.003, 40), 3)  # CPK ≈ 2.2 against 24.98..25.02
TWO_WEEKS_AGO = str(Period.week(*map(int, LAST_WEEK.split("-W"))).previous())


def make_proving(db: Session, oem: Actor, supplier: Actor) -> Reporting:
    body = {
        "supplier_id": str(supplier.org.id),
        "title": "Shaft quality, proven",
        "parts": [{"part_number": "SH-1", "name": "Shaft"}],
        "characteristics": [
            {"code": "DIA-01", "part_number": "SH-1", "unit": "mm", "lsl": "24.98", "usl": "25.02"}
        ],
        "kpis": [
            {"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"},
            {"kpi": "ppk", "threshold": "1.33", "disclosure": "value+proof"},
            {"kpi": "mtbf", "threshold": "5000", "disclosure": "threshold"},
            {"kpi": "ppm", "threshold": "100", "disclosure": "value"},
        ],
        "period": "week",
        "valid_from": date(2025, 1, 1).isoformat(),
    }
    agreement = agreements.propose(db, caller=caller_of(oem), data=AgreementCreate.model_validate(body))
    agreements.decide(db, caller=caller_of(supplier), agreement_id=agreement.id, accept=True)
    db.commit()
    key = Ed25519PrivateKey.generate()
    key_id = register_signing_key(db, supplier, key)
    return Reporting(oem=oem, supplier=supplier, agreement_id=agreement.id, key=key, key_id=key_id)


@pytest.fixture
def proving(db: Session, oem: Actor, supplier: Actor) -> Reporting:
    return make_proving(db, oem, supplier)


def context_of(r: Reporting, *, kpi: str = "cpk", period: str = LAST_WEEK, **extra: str) -> BindingContext:
    params = {"kpi": kpi, "period": period, **extra}
    if kpi in ("cpk", "ppk") and "characteristic" not in params:
        params["characteristic"] = "DIA-01"
    response = r.supplier.get(f"/v1/agreements/{r.agreement_id}/attestation-context", params=params)
    assert response.status_code == 200, response.text
    return BindingContext.model_validate(response.json())


def cpk_proof(context: BindingContext, *, threshold: str = "1.33", **kw: Any) -> Attestation:
    return attest_capability(
        GOOD,
        lsl=Decimal(kw.pop("lsl", "24.98")),
        usl=Decimal("25.02"),
        resolution=Decimal("0.001"),
        threshold=Decimal(threshold),
        context=context,
        subgroup_size=kw.pop("subgroup_size", 5),
    )


def proven_payload(r: Reporting, attestation: Attestation, **overrides: Any) -> KpiReportPayload:
    claim = overrides.pop("claim", None) or KpiClaim(meets=True, threshold="1.33", sample_size=len(GOOD))
    return attach(r.payload(claim=claim, **overrides), attestation)


def _stored(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(KpiReport)) or 0)


def _refused(response: Any, error: str, db: Session, *, loc: str | None = None) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    if loc is not None:
        assert any(f["loc"].endswith(loc) for f in body["fields"]), body
    assert _stored(db) == 0
    return body


def submit(r: Reporting, payload: KpiReportPayload) -> Any:
    return r.supplier.post("/v1/kpi-reports", json=r.body(r.envelope(payload)))


# -- the attestation context ----------------------------------------------------------------------------------


def test_the_context_binds_hub_supplier_key_series_and_a_stable_nonce(proving: Reporting) -> None:
    first = context_of(proving)
    assert first.hub == "http://localhost:8000"
    assert (first.supplier, first.key_id) == (str(proving.supplier.org.id), proving.key_id)
    assert (first.agreement, first.characteristic) == (str(proving.agreement_id), "DIA-01")
    assert (first.period, first.kpi) == (LAST_WEEK, "cpk")
    assert len(b64url_decode(first.nonce)) == 32
    assert context_of(proving) == first  # deterministic: prove once, offline flushes still match
    assert context_of(proving, period=TWO_WEEKS_AGO).nonce != first.nonce
    assert context_of(proving, kpi="ppk").nonce != first.nonce
    mtbf = context_of(proving, kpi="mtbf")
    assert mtbf.characteristic == "" and mtbf.nonce != first.nonce


def test_the_context_of_another_organization_is_not_found(
    proving: Reporting, other_supplier: Actor, oem: Actor
) -> None:
    url = f"/v1/agreements/{proving.agreement_id}/attestation-context"
    params = {"kpi": "cpk", "period": LAST_WEEK, "characteristic": "DIA-01"}
    response = other_supplier.get(url, params=params)
    assert response.status_code == 404 and response.json()["error"] == "NotFound"
    assert (
        proving.supplier.get(f"/v1/agreements/{uuid.uuid4()}/attestation-context", params=params).status_code
        == 404
    )
    assert oem.get(url, params=params).status_code == 403  # the OEM is party, but does not prove


def test_the_context_needs_the_write_scope(proving: Reporting) -> None:
    url = f"/v1/agreements/{proving.agreement_id}/attestation-context"
    params = {"kpi": "cpk", "period": LAST_WEEK, "characteristic": "DIA-01"}
    response = proving.supplier.get(url, params=params, scope="kpi:read")
    assert response.status_code == 403 and response.json()["error"] == "InsufficientScope"


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"kpi": "cpk", "period": "2026-13"}, "period"),
        ({"kpi": "cpk", "period": "2026-11", "characteristic": "DIA-01"}, "period"),  # a month, not a week
        ({"kpi": "cpk", "period": LAST_WEEK}, "characteristic"),
        ({"kpi": "cpk", "period": LAST_WEEK, "characteristic": "NOPE"}, "characteristic"),
        ({"kpi": "mtbf", "period": LAST_WEEK, "characteristic": "DIA-01"}, "characteristic"),
        ({"kpi": "ppm", "period": LAST_WEEK, "characteristic": "DIA-01"}, "kpi"),
        ({"kpi": "speed", "period": LAST_WEEK}, "kpi"),
        ({"period": LAST_WEEK}, "kpi"),
    ],
)
def test_malformed_context_requests_name_the_field(
    proving: Reporting, params: dict[str, str], loc: str
) -> None:
    response = proving.supplier.get(
        f"/v1/agreements/{proving.agreement_id}/attestation-context", params=params
    )
    assert response.status_code == 422, response.text
    assert any(f["loc"].endswith(loc) for f in response.json()["fields"]), response.json()


def test_a_foreign_key_id_is_refused(proving: Reporting) -> None:
    params = {"kpi": "mtbf", "period": LAST_WEEK, "key_id": "not-mine"}
    response = proving.supplier.get(
        f"/v1/agreements/{proving.agreement_id}/attestation-context", params=params
    )
    assert response.status_code == 422 and response.json()["error"] == "UnknownKey"


# -- accepted -------------------------------------------------------------------------------------------------


def test_a_proven_meets_under_threshold_disclosure_is_accepted_and_the_oem_never_sees_a_value(
    proving: Reporting, db: Session
) -> None:
    attestation = cpk_proof(context_of(proving))
    response = submit(proving, proven_payload(proving, attestation))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["meets"] is True and body["proven"] is True and body["value"] is None
    stored = db.scalars(select(KpiAttestation)).one()
    assert str(stored.report_id) == body["id"] and stored.statement == "cpk_at_least"
    assert stored.commitments == attestation.commitments
    seen = proving.oem.get(f"/v1/kpi-reports/{body['id']}").json()
    assert seen["meets"] is True and seen["proven"] is True and seen["value"] is None
    assert seen["threshold"] == "1.33"


def test_a_proven_mtbf_and_a_value_plus_proof_ppk_are_accepted(proving: Reporting) -> None:
    mtbf = attest_mtbf(
        hours="60000", failures=2, threshold=Decimal("5000"), context=context_of(proving, kpi="mtbf")
    )
    claim = KpiClaim(meets=True, threshold="5000")
    payload = attach(proving.payload(kpi="mtbf", characteristic=None, claim=claim), mtbf)
    assert submit(proving, payload).status_code == 201

    ppk = attest_capability(
        GOOD,
        lsl=Decimal("24.98"),
        usl=Decimal("25.02"),
        resolution=Decimal("0.001"),
        threshold=Decimal("1.33"),
        context=context_of(proving, kpi="ppk"),
    )
    claim = KpiClaim(meets=True, value="2.0000", threshold="1.33", sample_size=len(GOOD))
    response = submit(proving, attach(proving.payload(kpi="ppk", claim=claim), ppk))
    assert response.status_code == 201, response.text
    seen = proving.oem.get(f"/v1/kpi-reports/{response.json()['id']}").json()
    assert seen["value"] == "2" and seen["proven"] is True


def test_value_plus_proof_without_a_proof_is_refused(proving: Reporting, db: Session) -> None:
    claim = KpiClaim(meets=True, value="2.0000", threshold="1.33")
    _refused(submit(proving, proving.payload(kpi="ppk", claim=claim)), "ProofRequired", db, loc="proof")


# -- every check named ----------------------------------------------------------------------------------------


def test_a_proof_for_another_threshold(proving: Reporting, db: Session) -> None:
    attestation = cpk_proof(context_of(proving), threshold="1.00")
    body = _refused(submit(proving, proven_payload(proving, attestation)), "ProofThresholdMismatch", db)
    assert "threshold" in body["detail"]


def test_a_proof_over_other_limits(proving: Reporting, db: Session) -> None:
    attestation = cpk_proof(context_of(proving), lsl="24.90")
    _refused(submit(proving, proven_payload(proving, attestation)), "ProofPublicInputMismatch", db, loc="lsl")


def test_a_proof_over_another_sample_size(proving: Reporting, db: Session) -> None:
    attestation = cpk_proof(context_of(proving))
    claim = KpiClaim(meets=True, threshold="1.33", sample_size=len(GOOD) + 5)
    _refused(
        submit(proving, proven_payload(proving, attestation, claim=claim)),
        "ProofPublicInputMismatch",
        db,
        loc="n",
    )


@pytest.mark.parametrize(
    "field", ["period", "supplier", "nonce", "key_id", "hub", "agreement", "kpi", "characteristic"]
)
def test_a_proof_bound_to_another_context(proving: Reporting, db: Session, field: str) -> None:
    context = context_of(proving)
    other = {
        "period": TWO_WEEKS_AGO,
        "supplier": str(uuid.uuid4()),
        "nonce": b64url_encode(bytes(32)),
        "key_id": "someone-else",
        "hub": "https://other-hub.example",
        "agreement": str(uuid.uuid4()),
        "kpi": "ppk",  # a PPK context's proof sent as the CPK report
        "characteristic": "DIA-02",
    }[field]
    attestation = cpk_proof(context.model_copy(update={field: other}))
    body = _refused(submit(proving, proven_payload(proving, attestation)), "ProofContextMismatch", db)
    assert field in body["detail"]


def test_a_hub_nonce_in_the_payload_that_is_not_the_proofs(proving: Reporting, db: Session) -> None:
    payload = proven_payload(proving, cpk_proof(context_of(proving)))
    assert payload.hub_nonce == context_of(proving).nonce  # attach() copies it from the context
    payload = payload.model_copy(update={"hub_nonce": context_of(proving, period=TWO_WEEKS_AGO).nonce})
    _refused(submit(proving, payload), "ProofContextMismatch", db, loc="hub_nonce")


def test_a_proof_replayed_for_another_period(proving: Reporting, db: Session) -> None:
    """Proven for last week and accepted; the same proof is refused for the week before."""
    attestation = cpk_proof(context_of(proving))
    assert submit(proving, proven_payload(proving, attestation)).status_code == 201
    response = submit(proving, proven_payload(proving, attestation, period=TWO_WEEKS_AGO))
    assert response.status_code == 422 and response.json()["error"] == "ProofContextMismatch"


def test_a_tampered_proof_names_the_failed_check(proving: Reporting, db: Session) -> None:
    payload = proven_payload(proving, cpk_proof(context_of(proving)))
    payload = payload.model_copy(update={"proof": tampered(payload.proof or {})})
    body = _refused(submit(proving, payload), "InvalidProof", db)
    assert body["check"] and body["check"] in body["detail"]


def test_a_statement_for_another_kpi(proving: Reporting, db: Session) -> None:
    mtbf = attest_mtbf(
        hours="60000", failures=2, threshold=Decimal("5000"), context=context_of(proving, kpi="mtbf")
    )
    body = _refused(submit(proving, proven_payload(proving, mtbf)), "ProofStatementMismatch", db)
    assert "cpk_at_least" in body["detail"]


def test_commitments_that_are_not_the_proofs(proving: Reporting, db: Session) -> None:
    payload = proven_payload(proving, cpk_proof(context_of(proving)))
    payload = payload.model_copy(update={"commitments": list(reversed(payload.commitments))})
    _refused(submit(proving, payload), "ProofCommitmentMismatch", db, loc="commitments")


def test_a_malformed_proof(proving: Reporting, db: Session) -> None:
    payload = proving.payload(claim=KpiClaim(meets=True, threshold="1.33")).model_copy(
        update={"proof": {"version": "KPI-ZK/0"}}
    )
    _refused(submit(proving, payload), "MalformedProof", db, loc="proof.version")


def test_a_proof_with_a_does_not_meet_claim(proving: Reporting, db: Session) -> None:
    payload = proven_payload(
        proving, cpk_proof(context_of(proving)), claim=KpiClaim(meets=False, threshold="1.33")
    )
    _refused(submit(proving, payload), "ProofNotExpected", db)


def tampered(proof: dict[str, Any]) -> dict[str, Any]:
    """A copy of a proof file with one bit of its first scalar flipped (still a well-formed scalar)."""
    changed = copy.deepcopy(proof)
    path, value = _first_scalar(changed["proof"])
    raw = bytearray(b64url_decode(value))
    raw[-1] ^= 1
    _replace(changed["proof"], path, b64url_encode(bytes(raw)))
    return changed


def _first_scalar(proof: dict[str, Any]) -> tuple[list[str], str]:
    """The path to the first 32-byte value (a scalar) inside a proof's JSON."""
    stack: list[tuple[list[str], Any]] = [([], proof)]
    while stack:
        path, node = stack.pop(0)
        if isinstance(node, dict):
            stack.extend(([*path, key], value) for key, value in sorted(node.items()))
        elif isinstance(node, str) and len(node) == 43:
            return path, node
    raise AssertionError("no scalar in the proof")


def _replace(proof: dict[str, Any], path: list[str], value: str) -> None:
    node: Any = proof
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def test_a_bad_proof_is_reported_in_its_turn_after_the_signature_checks(
    proving: Reporting, db: Session
) -> None:
    """The hub verifies the proof before it reads the database, but names the failure DESIGN.md's order gives."""
    payload = proven_payload(proving, cpk_proof(context_of(proving)))
    payload = payload.model_copy(update={"proof": tampered(payload.proof or {})})
    stale = proving.envelope(payload, signed_at=datetime.now(UTC) - timedelta(minutes=10))
    response = proving.supplier.post("/v1/kpi-reports", json=proving.body(stale))
    assert response.status_code == 422 and response.json()["error"] == "StaleSignature"
    assert _stored(db) == 0


def test_the_nonce_key_is_the_configured_secret_or_derived_from_the_token_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HUB_ATTESTATION_SECRET", raising=False)
    monkeypatch.delenv("HUB_TOKEN_SIGNING_KEY", raising=False)
    from cryptography.hazmat.primitives import serialization
    from pydantic import ValidationError

    from hub.config import Settings

    development = Settings(environment="development")
    assert development.attestation_key() == Settings(environment="development").attestation_key()
    own_key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    derived = Settings(token_signing_key=own_key.decode()).attestation_key()
    assert derived != development.attestation_key() and len(derived) == 32
    assert own_key not in derived  # a one-way derivation, not the key itself
    configured = Settings(attestation_secret="s" * 32, token_signing_key=own_key.decode())
    assert configured.attestation_key() == b"s" * 32
    assert "s" * 32 not in repr(configured)
    with pytest.raises(ValidationError, match="attestation_secret"):
        Settings(attestation_secret="too short")
