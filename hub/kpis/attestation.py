"""KPI-ZK on the hub: the binding context a supplier proves under, and the checks of a report's proof.

**Binding context.** An attestation is bound (inside its Fiat-Shamir transcript) to this hub, the supplier and
its signing key, the agreement, characteristic, period and KPI, and a hub nonce. The nonce is not stored: it is
``HMAC-SHA256(attestation key, canonical JSON of hub, supplier, agreement, characteristic, KPI, period)``, so
every worker hands the supplier the same nonce for the same period, a proof made before the hub was reachable
(offline outbox) still matches when it arrives, and a proof never carries over to another period or series.
Because the hub accepts one report per supplier·agreement·characteristic·KPI·period, one nonce serves exactly
one accepted proof.

**Checks on ingest**, in order, each its own error naming the failed check (hub/kpis/errors.py):

1. the proof is a KPI-ZK/1 attestation (``MalformedProof``) for a KPI that has a statement and a claim of
   "meets" (``ProofNotExpected``);
2. its statement is the KPI's: cpk and ppk → ``cpk_at_least``, mtbf → ``mtbf_at_least``
   (``ProofStatementMismatch``);
3. its public threshold is the agreement's (``ProofThresholdMismatch``): the hub fixes t, so a supplier
   cannot probe for the best threshold it can prove;
4. its other public inputs are the agreement's and the claim's: LSL, USL and resolution of the characteristic,
   n = the claim's sample size when given, the overall sigma for PPK (``ProofPublicInputMismatch``); CPK may be
   proven with the pooled within-subgroup sigma or, for individual values, the overall one. MTBF: the proof's
   ``form`` and ``confidence`` are the agreement term's ``mtbf_proof_form`` / ``confidence`` when it fixes
   them; unset, the point form is accepted, and the chi-square form only at a confidence of at least
   :data:`MIN_CHI2_CONFIDENCE` (the prover picks C, and a tiny C makes the lower bound trivially high).
   Public inputs that contradict each other (threshold text vs. fraction, range widths) fail as
   ``InvalidProof``;
5. its binding context is the expected one (``ProofContextMismatch``, naming the field);
6. the report's ``commitments`` are the attestation's, in name order (``ProofCommitmentMismatch``);
7. the proof verifies (``InvalidProof``, with the cryptographic check that failed) — alone, or for a batch in
   one multi-scalar multiplication (:func:`verify_batch`).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.agreements import service as agreements
from hub.agreements.service import AgreementTerms
from hub.auth.tokens import Caller
from hub.errors import Forbidden, InvalidInput
from hub.kpis import errors
from hub.models import OrgKey, SupplyAgreement
from protocol.encoding import b64url_encode, canonical_bytes
from protocol.errors import InvalidPeriod
from protocol.models import kpi as wire
from protocol.models.common import KpiName, OrgKind, PeriodKind
from protocol.periods import Period, parse_period
from protocol.zk.attestation import (
    Attestation,
    BindingContext,
    Statement,
    parse_statement,
    verify_attestation,
    verify_attestations,
)
from protocol.zk.errors import ProofInvalid
from protocol.zk.statements.mtbf import MtbfStatement

_PROOF_LOC = "body.envelope.payload.proof"

STATEMENTS: dict[KpiName, str] = {
    KpiName.CPK: "cpk_at_least",
    KpiName.PPK: "cpk_at_least",
    KpiName.MTBF: "mtbf_at_least",
}
"""The KPI-ZK statement that proves each KPI meets its threshold; PPM has none (yet)."""

MIN_CHI2_CONFIDENCE = Decimal("0.6")
"""The lowest confidence of a chi-square MTBF proof the hub accepts when the agreement does not fix one."""

_CONTEXT_FIELDS = ("hub", "supplier", "key_id", "agreement", "characteristic", "period", "kpi", "nonce")


@dataclass(frozen=True)
class Binding:
    """What the hub binds proofs to: its own id (the token issuer) and the key nonces are derived under."""

    hub: str
    nonce_key: bytes


def nonce_for(
    binding: Binding,
    *,
    supplier_id: uuid.UUID,
    agreement_id: uuid.UUID,
    characteristic: str | None,
    kpi: KpiName,
    period: str,
) -> str:
    """The hub nonce of one series' period: deterministic, unguessable without the hub's key."""
    message = canonical_bytes(
        {
            "purpose": "KPI-ZK/1 hub nonce",
            "hub": binding.hub,
            "supplier": str(supplier_id),
            "agreement": str(agreement_id),
            "characteristic": characteristic or "",
            "kpi": kpi.value,
            "period": period,
        }
    )
    return b64url_encode(hmac.new(binding.nonce_key, message, hashlib.sha256).digest())


def binding_context(
    binding: Binding,
    *,
    supplier_id: uuid.UUID,
    key_id: str,
    agreement_id: uuid.UUID,
    characteristic: str | None,
    kpi: KpiName,
    period: str,
) -> BindingContext:
    return BindingContext(
        hub=binding.hub,
        supplier=str(supplier_id),
        key_id=key_id,
        agreement=str(agreement_id),
        characteristic=characteristic or "",
        period=period,
        kpi=kpi.value,
        nonce=nonce_for(
            binding,
            supplier_id=supplier_id,
            agreement_id=agreement_id,
            characteristic=characteristic,
            kpi=kpi,
            period=period,
        ),
    )


def _active_signing_key(session: Session, org_id: uuid.UUID) -> str:
    key_id = session.scalar(
        select(OrgKey.key_id).where(
            OrgKey.organization_id == org_id, OrgKey.use == "sig", OrgKey.status == "active"
        )
    )
    if key_id is None:
        raise errors.NoSigningKey("register a signing key first: proofs are bound to the key that signs them")
    return key_id


def agreement_period(agreement: SupplyAgreement, period: str) -> Period:
    """``period`` (the ``period`` query parameter) parsed, and of the kind the agreement reports per."""
    try:
        parsed = parse_period(period)
    except (InvalidPeriod, ValueError) as exc:
        raise InvalidInput(
            f"{period!r} is not a period like 2026-W48 or 2026-11", loc="query.period"
        ) from exc
    if parsed.kind is not PeriodKind(agreement.period):
        raise InvalidInput(f"the agreement reports per {agreement.period}", loc="query.period")
    return parsed


def context(
    session: Session,
    *,
    caller: Caller,
    binding: Binding,
    agreement_id: uuid.UUID,
    characteristic: str | None,
    kpi: KpiName,
    period: str,
    key_id: str | None,
) -> BindingContext:
    """The context a supplier proves one period's KPI under (``GET /v1/agreements/{id}/attestation-context``)."""
    if caller.org_kind is not OrgKind.SUPPLIER:
        raise Forbidden("only the reporting supplier asks for an attestation context")
    agreement = agreements.get(session, caller=caller, agreement_id=agreement_id)
    if agreement.supplier_id != caller.org_id:
        raise Forbidden("only the agreement's supplier asks for an attestation context")
    parsed = agreement_period(agreement, period)
    terms = agreements.terms_of(session, agreement)
    if kpi.value not in terms.kpis:
        raise InvalidInput(f"the agreement does not ask for {kpi.value}", loc="query.kpi")
    if kpi not in STATEMENTS:
        raise InvalidInput(f"KPI-ZK has no statement for {kpi.value}", loc="query.kpi")
    if kpi is KpiName.MTBF:
        if characteristic:
            raise InvalidInput(
                "mtbf is reported per part: leave characteristic out", loc="query.characteristic"
            )
    elif not characteristic or characteristic not in terms.specs:
        raise InvalidInput(
            f"{kpi.value} needs a characteristic of the agreement ({', '.join(sorted(terms.specs))})",
            loc="query.characteristic",
        )
    if key_id is None:
        key_id = _active_signing_key(session, caller.org_id)
    else:
        key = session.get(OrgKey, key_id)
        if key is None or key.organization_id != caller.org_id or key.use != "sig":
            raise errors.UnknownKey(f"key {key_id} is not a signing key of your organization")
    return binding_context(
        binding,
        supplier_id=caller.org_id,
        key_id=key_id,
        agreement_id=agreement.id,
        characteristic=characteristic,
        kpi=kpi,
        period=str(parsed),
    )


# -- checks on ingest ---------------------------------------------------------------------------------------


def parse(proof: dict[str, Any]) -> Attestation:
    try:
        return Attestation.model_validate(proof)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join([_PROOF_LOC, *(str(p) for p in first["loc"])])
        raise errors.MalformedProof(f"{loc}: {first['msg']}", loc=loc) from exc


def _statement(attestation: Attestation) -> Statement:
    """The statement rebuilt from the public inputs, every derived input re-checked (threshold_p/d, widths)."""
    try:
        return parse_statement(attestation)
    except ProofInvalid as exc:
        raise _invalid(exc) from exc


def _check_public(
    statement: Statement,
    *,
    payload: wire.KpiReportPayload,
    term: dict[str, Any],
    spec: dict[str, Any] | None,
) -> None:
    if statement.threshold != Decimal(str(term["threshold"])):
        raise errors.ProofThresholdMismatch(
            f"threshold check failed: the proof is for {statement.threshold}, "
            f"the agreement's threshold is {term['threshold']}",
            loc=f"{_PROOF_LOC}.public.threshold",
        )
    if isinstance(statement, MtbfStatement):
        _check_mtbf_form(statement, term)
        return
    wanted: dict[str, Any] = {}
    if spec is not None:
        wanted = {"lsl": spec.get("lsl"), "usl": spec.get("usl"), "resolution": spec.get("resolution")}
    for name, value in wanted.items():
        if value is None or getattr(statement, name) != Decimal(str(value)):
            raise errors.ProofPublicInputMismatch(
                f"public input {name} check failed: the proof has {getattr(statement, name)}, "
                f"the agreement's characteristic has {value}",
                loc=f"{_PROOF_LOC}.public.{name}",
            )
    if payload.claim.sample_size is not None and statement.n != payload.claim.sample_size:
        raise errors.ProofPublicInputMismatch(
            f"public input n check failed: the proof covers {statement.n} values, the claim {payload.claim.sample_size}",
            loc=f"{_PROOF_LOC}.public.n",
        )
    if payload.kpi is KpiName.PPK and statement.subgroups is not None:
        raise errors.ProofPublicInputMismatch(
            "public input sigma check failed: PPK is proven with the overall sigma, not the pooled one",
            loc=f"{_PROOF_LOC}.public.sigma",
        )


def _check_mtbf_form(statement: MtbfStatement, term: dict[str, Any]) -> None:
    """The proof's form and confidence against the term (the policy of step 4 in the module docstring)."""
    form, confidence = term.get("mtbf_proof_form"), term.get("confidence")
    if form is not None and statement.form != form:
        raise errors.ProofPublicInputMismatch(
            f"public input form check failed: the proof uses the {statement.form} form, "
            f"the agreement asks for {form}",
            loc=f"{_PROOF_LOC}.public.form",
        )
    if statement.form != "chi2_lower":
        return
    assert statement.confidence is not None
    if confidence is not None:
        if statement.confidence != Decimal(str(confidence)):
            raise errors.ProofPublicInputMismatch(
                f"public input confidence check failed: the proof is at {statement.confidence}, "
                f"the agreement asks for {confidence}",
                loc=f"{_PROOF_LOC}.public.confidence",
            )
    elif statement.confidence < MIN_CHI2_CONFIDENCE:
        raise errors.ProofPublicInputMismatch(
            f"public input confidence check failed: the proof is at {statement.confidence}, "
            f"the hub accepts a chi-square bound at {MIN_CHI2_CONFIDENCE} or more",
            loc=f"{_PROOF_LOC}.public.confidence",
        )


def _check_context(attestation: Attestation, expected: BindingContext) -> None:
    try:
        found = attestation.context()
    except ProofInvalid as exc:
        raise _invalid(exc) from exc
    for name in _CONTEXT_FIELDS:
        if not hmac.compare_digest(str(getattr(found, name) or ""), str(getattr(expected, name) or "")):
            raise errors.ProofContextMismatch(
                f"context check failed: the proof is bound to another {name}",
                loc=f"{_PROOF_LOC}.public.{name}",
            )


def commitments_of(attestation: Attestation) -> list[str]:
    """The report's ``commitments`` for an attestation: its commitments in name order."""
    return [attestation.commitments[name] for name in sorted(attestation.commitments)]


def check(
    *,
    payload: wire.KpiReportPayload,
    terms: AgreementTerms,
    term: dict[str, Any],
    expected: BindingContext,
) -> Attestation:
    """Every check but the cryptographic one (1 to 6 of the module docstring); returns the attestation."""
    assert payload.proof is not None
    attestation = parse(payload.proof)
    statement = STATEMENTS.get(payload.kpi)
    if statement is None:
        raise errors.ProofNotExpected(
            f"KPI-ZK has no statement for {payload.kpi.value}; send the report without a proof",
            loc=_PROOF_LOC,
        )
    if not payload.claim.meets:
        raise errors.ProofNotExpected(
            "a proof shows the threshold is met, but the claim says it is not", loc=_PROOF_LOC
        )
    if attestation.statement != statement:
        raise errors.ProofStatementMismatch(
            f"statement check failed: {payload.kpi.value} is proven by {statement}, not {attestation.statement}",
            loc=f"{_PROOF_LOC}.statement",
        )
    spec = terms.specs.get(payload.characteristic or "") if statement == "cpk_at_least" else None
    _check_public(_statement(attestation), payload=payload, term=term, spec=spec)
    _check_context(attestation, expected)
    if payload.hub_nonce is not None and not hmac.compare_digest(payload.hub_nonce, expected.nonce):
        raise errors.ProofContextMismatch(
            "context check failed: hub_nonce is not the nonce this hub issued for the period",
            loc="body.envelope.payload.hub_nonce",
        )
    if payload.commitments != commitments_of(attestation):
        raise errors.ProofCommitmentMismatch(
            "commitments check failed: the report's commitments are not the proof's (in name order)",
            loc="body.envelope.payload.commitments",
        )
    return attestation


def _invalid(exc: ProofInvalid) -> errors.InvalidProof:
    return errors.InvalidProof(f"{exc.check} check failed: {exc}", check=exc.check, loc=_PROOF_LOC)


@dataclass(frozen=True)
class Verdict:
    """The cryptographic check of one submission's proof, made before the request touches the database.

    Verifying takes tens of milliseconds of CPU; done first, it never holds a transaction (on SQLite, the one
    write lock) open. It is *reported* only in its turn, after every other check, so a report that fails an
    earlier check is refused for that reason. ``proof`` is the proof JSON the verdict is about."""

    proof: dict[str, Any]
    error: errors.InvalidProof | None


def _attestation_of(submission: wire.KpiReportSubmit) -> Attestation | None:
    """The submission's attestation, or ``None`` when it has none or will be refused as malformed anyway."""
    try:
        proof = submission.report_payload().proof
        return None if proof is None else Attestation.model_validate(proof)
    except ValidationError:
        return None


def verify_early(submissions: Sequence[wire.KpiReportSubmit]) -> list[Verdict | None]:
    """Verify the proofs of ``submissions`` (one multi-scalar multiplication for several); ``None`` for a
    submission without a parseable proof. The binding context is compared later, field by field
    (:func:`check`), against what the hub expects."""
    found = [
        (index, att) for index, sub in enumerate(submissions) if (att := _attestation_of(sub)) is not None
    ]
    verdicts: list[Verdict | None] = [None] * len(submissions)
    if not found:
        return verdicts
    if len(found) == 1:
        index, att = found[0]
        try:
            verify_attestation(att)
            outcomes: list[ProofInvalid | None] = [None]
        except ProofInvalid as exc:
            outcomes = [exc]
    else:
        outcomes = verify_attestations([att for _, att in found])
    for (index, att), outcome in zip(found, outcomes, strict=True):
        verdicts[index] = Verdict(
            proof=att.model_dump(mode="json"), error=None if outcome is None else _invalid(outcome)
        )
    return verdicts


def settle(attestation: Attestation, expected: BindingContext, verdict: Verdict | None) -> None:
    """The last check: raise the early verdict's :class:`~hub.kpis.errors.InvalidProof`, or verify now when
    there was none for exactly this attestation."""
    if verdict is not None and verdict.proof == attestation.model_dump(mode="json"):
        if verdict.error is not None:
            raise verdict.error
        return
    try:
        verify_attestation(attestation, expected=expected)
    except ProofInvalid as exc:
        raise _invalid(exc) from exc
