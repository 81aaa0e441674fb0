"""Certificates as W3C Verifiable Credentials (data model 2.0), secured with Data Integrity ``eddsa-jcs-2022``.

A certification body (an organization of kind ``certifier``) issues a :class:`CertificateClaims` (standard, scope,
the supplier's site, validity, certificate number, and for VDA 6.3 the audit result) as a credential whose issuer
is the ``did:key`` of its Ed25519 signing key, and adds a proof (:func:`add_proof`). Anyone holding the credential
can check it offline (:func:`verify_credential`): no JSON-LD processing is needed, because ``eddsa-jcs-2022``
signs the RFC 8785 (JCS) bytes of the document and of the proof options, not RDF.

Why a VC and not the hub's own signed envelope: a certificate outlives the hub's exchange, and certification
bodies, customers and auditors already read VCs (``did:key`` needs no registry). The envelope stays the form of
exchange documents (KPI reports, measurements) whose replay the hub must control with nonces.

The proof follows the specification (W3C *Data Integrity EdDSA Cryptosuites v1.0*, section 3.3): ``proofConfig``
is the proof without ``proofValue`` (carrying the document's ``@context``), hashData = SHA-256(JCS(proofConfig)) ‖
SHA-256(JCS(document without proof)), and ``proofValue`` is the base58btc multibase of the Ed25519 signature.

Example:
    >>> from datetime import UTC, datetime
    >>> from protocol.signing import load_private_key
    >>> key = load_private_key(bytes(32))
    >>> claims = CertificateClaims(standard="ISO 9001", number="Q-1", scope="machining",
    ...     supplier_id=UUID(int=7), site_id="plant-1", site_name="Plant 1",
    ...     valid_from=datetime(2026, 1, 1, tzinfo=UTC), valid_until=datetime(2029, 1, 1, tzinfo=UTC))
    >>> signed = add_proof(credential_for(claims, issuer=did_key(key)), key,
    ...                    created=datetime(2026, 1, 1, tzinfo=UTC))
    >>> verify_credential(signed).number
    'Q-1'
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import Field, ValidationError, model_validator

from protocol.encoding import canonical_bytes, format_utc
from protocol.errors import ProtocolError
from protocol.models.common import WireModel
from protocol.signing import public_key_raw

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
"""The context every VC 2.0 credential starts with; its ``@vocab`` covers the certificate's own terms.

Example:
    >>> VC_CONTEXT.endswith("/v2")
    True
"""

CREDENTIAL_TYPE = "QualityCertificateCredential"
"""The credential's own type, after ``VerifiableCredential``.

Example:
    >>> CREDENTIAL_TYPE
    'QualityCertificateCredential'
"""

CRYPTOSUITE = "eddsa-jcs-2022"
"""The Data Integrity cryptosuite of every certificate's proof.

Example:
    >>> CRYPTOSUITE
    'eddsa-jcs-2022'
"""

STANDARDS = ("IATF 16949", "ISO 9001", "ISO 14001", "VDA 6.3")
"""The standards a certificate may be for (VDA 6.3 is an audit result with score and grade).

Example:
    >>> "IATF 16949" in STANDARDS
    True
"""

Standard = Literal["IATF 16949", "ISO 9001", "ISO 14001", "VDA 6.3"]
"""The type of a certificate's standard: one of :data:`STANDARDS`.

Example:
    >>> from typing import get_args
    >>> get_args(Standard) == STANDARDS
    True
"""

_ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub, varint
_ED25519_PRIV = b"\x80\x26"  # multicodec ed25519-priv, varint
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class CredentialInvalid(ProtocolError, ValueError):
    """A credential that is malformed or whose proof does not verify; ``check`` names the failed check
    (``credential``, ``proof``, ``type``, ``cryptosuite``, ``proofPurpose``, ``verificationMethod``, ``@context``,
    ``proofValue``, ``signature``) and ``field`` the credential field, when one is at fault.

    Example:
        >>> CredentialInvalid("no proof", check="proof").check
        'proof'
    """

    def __init__(self, message: str, *, check: str, field: str | None = None) -> None:
        super().__init__(message)
        self.check = check
        self.field = field


class AuditResult(WireModel):
    """A VDA 6.3 process audit's result: the degree of fulfilment in percent and the grade it gives
    (A from 90, B from 80, C below).

    Example:
        >>> AuditResult(score=92, grade="A").grade
        'A'
    """

    score: int = Field(ge=0, le=100)
    grade: Literal["A", "B", "C"]

    @model_validator(mode="after")
    def _grade_follows_score(self) -> AuditResult:
        expected = "A" if self.score >= 90 else "B" if self.score >= 80 else "C"
        if self.grade != expected:
            raise ValueError(f"a VDA 6.3 score of {self.score} is grade {expected}, not {self.grade}")
        return self


class CertificateClaims(WireModel):
    """What a certificate states: the standard, its scope, the supplier site, validity and number.

    ``audit_result`` is required for ``VDA 6.3`` and refused for the management-system standards.

    Example:
        >>> CertificateClaims(standard="VDA 6.3", number="A-7", scope="P6", supplier_id=UUID(int=1),
        ...     site_id="p1", site_name="P1", valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        ...     valid_until=datetime(2027, 1, 1, tzinfo=UTC)).standard  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        pydantic_core._pydantic_core.ValidationError: ...
    """

    standard: Standard
    number: str = Field(min_length=1, max_length=100)
    scope: str = Field(min_length=1, max_length=1000)
    supplier_id: UUID
    site_id: str = Field(min_length=1, max_length=100)
    site_name: str = Field(min_length=1, max_length=200)
    valid_from: datetime
    valid_until: datetime
    audit_result: AuditResult | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CertificateClaims:
        if self.valid_from.tzinfo is None or self.valid_until.tzinfo is None:
            raise ValueError("validity must be timezone-aware")
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        if (self.standard == "VDA 6.3") != (self.audit_result is not None):
            raise ValueError("a VDA 6.3 certificate carries an audit_result, and only it")
        return self


# --- did:key and multibase (base58btc) ----------------------------------------------------------------------


def base58_encode(data: bytes) -> str:
    """Bitcoin base58 of ``data`` (leading zero bytes become ``1``).

    Example:
        >>> base58_encode(b"\\x00\\x01")
        '12'
    """
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = _B58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def base58_decode(text: str) -> bytes:
    """The bytes of a base58 string; raises ValueError on a character outside the alphabet.

    Example:
        >>> base58_decode("12")
        b'\\x00\\x01'
    """
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise ValueError(f"{char!r} is not a base58 character")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def did_key(key: Ed25519PrivateKey | Ed25519PublicKey | bytes) -> str:
    """The ``did:key`` of an Ed25519 key (private, public or the 32 raw public bytes).

    Example:
        >>> did_key(bytes(32)).startswith("did:key:z6Mk")
        True
    """
    raw = key if isinstance(key, bytes) else public_key_raw(key)
    return "did:key:z" + base58_encode(_ED25519_PUB + raw)


def public_key_of_did(did: str) -> bytes:
    """The 32 raw Ed25519 public-key bytes a ``did:key`` (or its verification method ``did:key:z…#z…``) names.

    Example:
        >>> public_key_of_did(did_key(bytes(32))) == bytes(32)
        True
    """
    method = did.split("#", 1)[0]
    if not method.startswith("did:key:z"):
        raise CredentialInvalid("not a did:key", check="verificationMethod")
    try:
        decoded = base58_decode(method[len("did:key:z") :])
    except ValueError as exc:
        raise CredentialInvalid(str(exc), check="verificationMethod") from exc
    if not decoded.startswith(_ED25519_PUB) or len(decoded) != 34:
        raise CredentialInvalid("did:key is not an Ed25519 public key", check="verificationMethod")
    return decoded[2:]


def private_key_from_multibase(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from its multibase form (``z`` + base58btc of 0x8026 ‖ seed), as test vectors give.

    Example:
        >>> did_key(private_key_from_multibase("z" + base58_encode(b"\\x80\\x26" + bytes(32)))) == did_key(
        ...     Ed25519PrivateKey.from_private_bytes(bytes(32)))
        True
    """
    decoded = base58_decode(text.removeprefix("z"))
    if not text.startswith("z") or not decoded.startswith(_ED25519_PRIV) or len(decoded) != 34:
        raise ValueError("not a multibase Ed25519 private key")
    return Ed25519PrivateKey.from_private_bytes(decoded[2:])


# --- the credential and its proof ----------------------------------------------------------------------------


def credential_for(
    claims: CertificateClaims, *, issuer: str, credential_id: UUID | None = None
) -> dict[str, Any]:
    """The unsecured credential stating ``claims``, issued by ``issuer`` (a ``did:key``).

    Example:
        >>> doc = credential_for(CertificateClaims(standard="ISO 14001", number="E-1", scope="all",
        ...     supplier_id=UUID(int=1), site_id="p1", site_name="P1", valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        ...     valid_until=datetime(2027, 1, 1, tzinfo=UTC)), issuer="did:key:z6Mk")
        >>> doc["type"], doc["credentialSubject"]["certificate"]["standard"]
        (['VerifiableCredential', 'QualityCertificateCredential'], 'ISO 14001')
    """
    certificate: dict[str, Any] = {
        "standard": claims.standard,
        "number": claims.number,
        "scope": claims.scope,
    }
    if claims.audit_result is not None:
        certificate["auditResult"] = {"score": claims.audit_result.score, "grade": claims.audit_result.grade}
    return {
        "@context": [VC_CONTEXT],
        "id": f"urn:uuid:{credential_id or uuid4()}",
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": format_utc(claims.valid_from),
        "validUntil": format_utc(claims.valid_until),
        "credentialSubject": {
            "id": f"urn:uuid:{claims.supplier_id}",
            "site": {"id": claims.site_id, "name": claims.site_name},
            "certificate": certificate,
        },
    }


def _hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    try:
        return (
            hashlib.sha256(canonical_bytes(proof_config)).digest()
            + hashlib.sha256(canonical_bytes(document)).digest()
        )
    except ProtocolError as exc:
        raise CredentialInvalid(f"no canonical form: {exc}", check="credential") from exc


def add_proof(
    document: dict[str, Any],
    key: Ed25519PrivateKey,
    *,
    created: datetime,
    verification_method: str | None = None,
) -> dict[str, Any]:
    """``document`` with an ``eddsa-jcs-2022`` proof by ``key`` (``assertionMethod``; the method defaults to the
    key's ``did:key#fragment``).

    Example:
        >>> from protocol.signing import load_private_key
        >>> add_proof({"@context": [VC_CONTEXT]}, load_private_key(bytes(32)),
        ...           created=datetime(2026, 1, 1, tzinfo=UTC))["proof"]["cryptosuite"]
        'eddsa-jcs-2022'
    """
    did = did_key(key)
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": format_utc(created),
        "verificationMethod": verification_method or f"{did}#{did.removeprefix('did:key:')}",
        "proofPurpose": "assertionMethod",
    }
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" in unsecured:
        proof["@context"] = unsecured["@context"]
    signature = key.sign(_hash_data(unsecured, proof))
    return {**copy.deepcopy(unsecured), "proof": {**proof, "proofValue": "z" + base58_encode(signature)}}


def verify_proof(document: dict[str, Any], public_key: bytes | None = None) -> bytes:
    """Check the ``eddsa-jcs-2022`` proof of ``document``; returns the raw public key that signed it (the one
    the verification method's ``did:key`` names, which must equal ``public_key`` when given).

    Raises :class:`CredentialInvalid` naming the failed check.

    Example:
        >>> from protocol.signing import load_private_key
        >>> signed = add_proof({"a": "b"}, load_private_key(bytes(32)), created=datetime(2026, 1, 1, tzinfo=UTC))
        >>> signed["a"] = "c"
        >>> verify_proof(signed)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        protocol.credentials.CredentialInvalid: the proof's signature does not verify...
    """
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise CredentialInvalid("the credential carries no single proof object", check="proof")
    expected = {"type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE, "proofPurpose": "assertionMethod"}
    for name, value in expected.items():
        if proof.get(name) != value:
            raise CredentialInvalid(f"proof {name} must be {value!r}", check=name)
    method = proof.get("verificationMethod")
    if not isinstance(method, str):
        raise CredentialInvalid("proof verificationMethod missing", check="verificationMethod")
    signer = public_key_of_did(method)
    if public_key is not None and signer != public_key:
        raise CredentialInvalid("proof is by another key", check="verificationMethod")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config and config["@context"] != unsecured.get("@context"):
        raise CredentialInvalid("the proof's @context is not the credential's", check="@context")
    proof_value = proof.get("proofValue")
    try:
        if not isinstance(proof_value, str) or not proof_value.startswith("z"):
            raise ValueError("proofValue must be multibase base58btc (z…)")
        signature = base58_decode(proof_value[1:])
    except ValueError as exc:
        raise CredentialInvalid(str(exc), check="proofValue") from exc
    if len(signature) != 64:
        raise CredentialInvalid("proofValue is not a 64-byte Ed25519 signature", check="proofValue")
    try:
        Ed25519PublicKey.from_public_bytes(signer).verify(signature, _hash_data(unsecured, config))
    except (InvalidSignature, ValueError) as exc:
        raise CredentialInvalid("the proof's signature does not verify", check="signature") from exc
    return signer


def claims_of(document: dict[str, Any]) -> CertificateClaims:
    """The certificate a credential states (its shape checked, not its proof).

    Example:
        >>> claims_of({"type": ["VerifiableCredential"]})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        protocol.credentials.CredentialInvalid: ...
    """
    try:
        if document.get("@context", [None])[0] != VC_CONTEXT:
            raise CredentialInvalid(f"@context must start with {VC_CONTEXT}", check="@context")
        if document.get("type") != ["VerifiableCredential", CREDENTIAL_TYPE]:
            raise CredentialInvalid(f"type must be VerifiableCredential, {CREDENTIAL_TYPE}", check="type")
        subject, certificate = document["credentialSubject"], document["credentialSubject"]["certificate"]
        supplier = str(subject["id"])
        if not supplier.startswith("urn:uuid:"):
            raise CredentialInvalid("credentialSubject.id must be urn:uuid:<supplier>", check="credential")
        return CertificateClaims(
            standard=certificate["standard"],
            number=certificate["number"],
            scope=certificate["scope"],
            supplier_id=UUID(supplier.removeprefix("urn:uuid:")),
            site_id=subject["site"]["id"],
            site_name=subject["site"]["name"],
            valid_from=document["validFrom"],
            valid_until=document["validUntil"],
            audit_result=certificate.get("auditResult"),
        )
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise CredentialInvalid(f"credential lacks {exc}", check="credential") from exc
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise CredentialInvalid(f"{where}: {error['msg']}", check="credential", field=where or None) from exc
    except ValueError as exc:
        raise CredentialInvalid(str(exc), check="credential") from exc


def verify_credential(document: dict[str, Any], public_key: bytes | None = None) -> CertificateClaims:
    """Verify a certificate credential offline: its proof, that the proof is the issuer's own key, its shape.

    Example:
        >>> verify_credential({})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        protocol.credentials.CredentialInvalid: the credential carries no single proof object
    """
    signer = verify_proof(document, public_key)
    if document.get("issuer") != did_key(signer):
        raise CredentialInvalid("issuer is not the did:key that signed the proof", check="issuer")
    return claims_of(document)


def issued_at(document: dict[str, Any]) -> datetime:
    """When the proof says the credential was signed (UTC).

    Example:
        >>> issued_at({"proof": {"created": "2026-01-01T00:00:00Z"}}).year
        2026
    """
    try:
        return datetime.fromisoformat(document["proof"]["created"]).astimezone(UTC)
    except (KeyError, TypeError, ValueError) as exc:
        raise CredentialInvalid("proof created is not an RFC 3339 time", check="proof") from exc


__all__ = [
    "CREDENTIAL_TYPE",
    "CRYPTOSUITE",
    "STANDARDS",
    "VC_CONTEXT",
    "AuditResult",
    "CertificateClaims",
    "CredentialInvalid",
    "Standard",
    "add_proof",
    "base58_decode",
    "base58_encode",
    "claims_of",
    "credential_for",
    "did_key",
    "issued_at",
    "private_key_from_multibase",
    "public_key_of_did",
    "verify_credential",
    "verify_proof",
]
