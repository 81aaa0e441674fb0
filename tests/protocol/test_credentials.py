"""Certificates as verifiable credentials: the W3C eddsa-jcs-2022 test vector, and forgeries refused by name."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from protocol import credentials as vc
from protocol.encoding import canonical_bytes
from protocol.signing import generate_signing_key, public_key_raw

# The test vector of W3C "Data Integrity EdDSA Cryptosuites v1.0", eddsa-jcs-2022 (repository w3c/vc-di-eddsa,
# TestVectors/keyPair.json, unsigned.json and eddsa-jcs-2022/*): Ed25519 is deterministic, so the same key and
# document must give exactly the published proofValue.
VECTOR_KEY = {
    "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    "privateKeyMultibase": "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq",
}
VECTOR_DOCUMENT: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
VECTOR_CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
VECTOR_METHOD = f"did:key:{VECTOR_KEY['publicKeyMultibase']}#{VECTOR_KEY['publicKeyMultibase']}"
VECTOR_COMBINED_HASH = (
    "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
    "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"
)
VECTOR_PROOF_VALUE = (
    "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"
)
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_the_published_eddsa_jcs_2022_vector_is_reproduced_exactly() -> None:
    key = vc.private_key_from_multibase(VECTOR_KEY["privateKeyMultibase"])
    assert vc.did_key(key) == f"did:key:{VECTOR_KEY['publicKeyMultibase']}"

    signed = vc.add_proof(VECTOR_DOCUMENT, key, created=VECTOR_CREATED)

    assert signed["proof"]["verificationMethod"] == VECTOR_METHOD
    assert signed["proof"]["proofValue"] == VECTOR_PROOF_VALUE
    config = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    combined = (
        hashlib.sha256(canonical_bytes(config)).digest()
        + hashlib.sha256(canonical_bytes(VECTOR_DOCUMENT)).digest()
    )
    assert combined.hex() == VECTOR_COMBINED_HASH
    assert vc.verify_proof(signed) == vc.public_key_of_did(VECTOR_METHOD)


def test_the_published_signed_credential_verifies_and_a_changed_claim_does_not() -> None:
    signed = {
        **VECTOR_DOCUMENT,
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": VECTOR_METHOD,
            "proofPurpose": "assertionMethod",
            "@context": VECTOR_DOCUMENT["@context"],
            "proofValue": VECTOR_PROOF_VALUE,
        },
    }
    vc.verify_proof(signed)
    forged = copy.deepcopy(signed)
    forged["credentialSubject"]["alumniOf"] = "Another School"
    with pytest.raises(vc.CredentialInvalid) as caught:
        vc.verify_proof(forged)
    assert caught.value.check == "signature"


def claims(**changes: Any) -> vc.CertificateClaims:
    fields: dict[str, Any] = {
        "standard": "IATF 16949",
        "number": "IATF-0412345",
        "scope": "machining and assembly of brake calipers",
        "supplier_id": UUID(int=42),
        "site_id": "plant-gy",
        "site_name": "Győr plant",
        "valid_from": datetime(2026, 1, 1, tzinfo=UTC),
        "valid_until": datetime(2029, 1, 1, tzinfo=UTC),
        **changes,
    }
    return vc.CertificateClaims.model_validate(fields)


def test_a_certificate_round_trips_through_a_credential() -> None:
    key = generate_signing_key()
    document = vc.credential_for(claims(), issuer=vc.did_key(key))
    signed = vc.add_proof(document, key, created=NOW)

    assert vc.verify_credential(signed, public_key_raw(key)) == claims()
    assert vc.issued_at(signed) == NOW
    assert signed["credentialSubject"]["id"] == f"urn:uuid:{UUID(int=42)}"


def test_a_vda_audit_result_carries_its_grade() -> None:
    key = generate_signing_key()
    audit = claims(standard="VDA 6.3", audit_result={"score": 84, "grade": "B"})
    signed = vc.add_proof(vc.credential_for(audit, issuer=vc.did_key(key)), key, created=NOW)
    assert signed["credentialSubject"]["certificate"]["auditResult"] == {"score": 84, "grade": "B"}
    assert vc.verify_credential(signed).audit_result == vc.AuditResult(score=84, grade="B")
    with pytest.raises(ValueError, match="grade B, not A"):
        claims(standard="VDA 6.3", audit_result={"score": 84, "grade": "A"})
    with pytest.raises(ValueError, match="audit_result"):
        claims(audit_result={"score": 95, "grade": "A"})


def _signed() -> tuple[dict[str, Any], bytes]:
    key = generate_signing_key()
    return vc.add_proof(
        vc.credential_for(claims(), issuer=vc.did_key(key)), key, created=NOW
    ), public_key_raw(key)


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        (lambda d: d["credentialSubject"]["certificate"].update(standard="ISO 9001"), "signature"),
        (lambda d: d.update(validUntil="2039-01-01T00:00:00Z"), "signature"),
        (lambda d: d["proof"].update(created="2026-03-02T00:00:00Z"), "signature"),
        (lambda d: d.pop("proof"), "proof"),
        (lambda d: d["proof"].update(cryptosuite="eddsa-rdfc-2022"), "cryptosuite"),
        (lambda d: d["proof"].update(type="Ed25519Signature2020"), "type"),
        (lambda d: d["proof"].update(proofPurpose="authentication"), "proofPurpose"),
        (lambda d: d["proof"].update(proofValue="u" + d["proof"]["proofValue"][1:]), "proofValue"),
        (lambda d: d["proof"].update(proofValue="z0OIl"), "proofValue"),
        (lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"][:-4]), "proofValue"),
        (lambda d: d["proof"].update(verificationMethod="did:web:example.com#k"), "verificationMethod"),
        (lambda d: d["proof"].update({"@context": ["https://example.com/other"]}), "@context"),
    ],
)
def test_a_forged_or_malformed_credential_is_refused_naming_the_check(mutate: Any, check: str) -> None:
    signed, _ = _signed()
    mutate(signed)
    with pytest.raises(vc.CredentialInvalid) as caught:
        vc.verify_credential(signed)
    assert caught.value.check == check


def test_a_credential_signed_by_another_key_than_its_issuer_is_refused() -> None:
    signed, public = _signed()
    impostor = generate_signing_key()
    resigned = vc.add_proof(signed, impostor, created=NOW)  # issuer still names the first key
    with pytest.raises(vc.CredentialInvalid) as caught:
        vc.verify_credential(resigned)
    assert caught.value.check == "issuer"
    with pytest.raises(vc.CredentialInvalid) as caught:
        vc.verify_credential(resigned, public)
    assert caught.value.check == "verificationMethod"


def test_a_credential_of_another_shape_is_refused_as_credential() -> None:
    key = generate_signing_key()
    document = vc.credential_for(claims(), issuer=vc.did_key(key))
    del document["credentialSubject"]["site"]
    with pytest.raises(vc.CredentialInvalid) as caught:
        vc.verify_credential(vc.add_proof(document, key, created=NOW))
    assert caught.value.check == "credential"


def test_base58_round_trips_leading_zeros() -> None:
    for data in (b"", b"\0", b"\0\0\x01\xff", bytes(range(40))):
        assert vc.base58_decode(vc.base58_encode(data)) == data
