"""Ingesting signed KPI reports and reading them back under each reader's disclosure rights.

Checks run in the order DESIGN.md gives: agreement, signature and key, freshness and replay, then the claim
and its KPI-ZK proof (:mod:`hub.kpis.attestation`). Only then is the report stored, audited and remembered for
its Idempotency-Key, all in the caller's transaction. :func:`prepare` runs every check but the proof's
cryptography and :func:`store` stores, so that a batch (:mod:`hub.kpis.batch`) can verify its proofs together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, bindparam, false, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub import idempotency
from hub.agreements import service as agreements
from hub.agreements.service import AgreementTerms
from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.db import insert_rows
from hub.errors import Conflict, Forbidden, InvalidInput, NotFound
from hub.events import service as events
from hub.kpis import attestation as attestations
from hub.kpis import errors
from hub.labs import ingest as lab_ingest
from hub.labs import measurements as lab_measurements
from hub.models import AuditEntry, KpiAttestation, KpiReport, OrgKey, SupplyAgreement
from hub.models.base import uuid7
from hub.pagination import decode_cursor, page_of
from hub.rules import evaluation
from protocol.encoding import canonical_bytes, sha256_hex
from protocol.errors import SignatureInvalid
from protocol.models import kpi as wire
from protocol.models.common import AgreementStatus, Comparator, DisclosureMode, KpiName, OrgKind, PeriodKind
from protocol.models.labs import LabProvenance
from protocol.periods import Period, parse_period
from protocol.signing import SignedEnvelope, public_key_from_raw, verify_envelope
from protocol.zk.attestation import Attestation, BindingContext

ENDPOINT = "kpi-reports"
_REPORT_COLUMNS = KpiReport.__table__.columns
_PAYLOAD_LOC = "body.envelope.payload"


@dataclass(frozen=True)
class Submitted:
    report: KpiReport
    replayed: bool


def _payload(submission: wire.KpiReportSubmit) -> wire.KpiReportPayload:
    try:
        return submission.report_payload()
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join([_PAYLOAD_LOC, *(str(p) for p in first["loc"])])
        raise InvalidInput(f"{loc}: {first['msg']}", loc=loc) from exc


def _term(terms: AgreementTerms, payload: wire.KpiReportPayload) -> dict[str, Any]:
    """The agreement's KPI term this report answers; refuses anything the agreement does not cover."""
    if payload.part_number not in terms.parts:
        raise InvalidInput(
            f"part {payload.part_number} is not in the agreement", loc=f"{_PAYLOAD_LOC}.part_number"
        )
    known = (payload.part_number, payload.characteristic) in terms.characteristics
    if payload.characteristic is not None and not known:
        raise InvalidInput(
            f"characteristic {payload.characteristic} is not in the agreement for part {payload.part_number}",
            loc=f"{_PAYLOAD_LOC}.characteristic",
        )
    term = terms.kpis.get(payload.kpi.value)
    if term is None:
        raise InvalidInput(f"the agreement does not ask for {payload.kpi.value}", loc=f"{_PAYLOAD_LOC}.kpi")
    if Decimal(term["threshold"]) != payload.claim.threshold:
        raise InvalidInput(
            f"claim.threshold {payload.claim.threshold} differs from the agreement's {term['threshold']}",
            loc=f"{_PAYLOAD_LOC}.claim.threshold",
        )
    return term


def _check_period(agreement: SupplyAgreement, period: Period, now: datetime) -> None:
    loc = f"{_PAYLOAD_LOC}.period"
    if period.kind is not PeriodKind(agreement.period):
        raise InvalidInput(
            f"the agreement reports per {agreement.period}, not per {period.kind.value}", loc=loc
        )
    if period.start > now:
        raise InvalidInput(f"period {period} has not started yet", loc=loc)
    if period.end.date() <= agreement.valid_from or (
        agreement.valid_until is not None and period.start.date() > agreement.valid_until
    ):
        raise InvalidInput(f"period {period} lies outside the agreement's validity", loc=loc)


def _check_claim(term: dict[str, Any], claim: wire.KpiClaim, has_proof: bool) -> None:
    loc = f"{_PAYLOAD_LOC}.claim"
    mode = DisclosureMode(term["disclosure"])
    if mode is DisclosureMode.THRESHOLD:
        if claim.value is not None:
            raise InvalidInput(
                "the agreement discloses only meets/does-not-meet; leave value out", loc=f"{loc}.value"
            )
        if claim.meets and not has_proof:
            # A claim against one's own interest needs no proof; "meets" does.
            raise errors.ProofRequired(
                "claiming 'meets' under threshold disclosure needs a KPI-ZK proof",
                loc=f"{_PAYLOAD_LOC}.proof",
            )
        return
    if claim.value is None:
        raise InvalidInput(
            f"the agreement's disclosure mode '{mode.value}' needs the value", loc=f"{loc}.value"
        )
    threshold = claim.threshold
    meets = (
        claim.value >= threshold
        if term["comparator"] == Comparator.AT_LEAST.value
        else claim.value <= threshold
    )
    if meets != claim.meets:
        raise InvalidInput(
            f"meets={claim.meets} contradicts value {claim.value} and threshold", loc=f"{loc}.meets"
        )
    if mode is DisclosureMode.VALUE_AND_PROOF and claim.meets and not has_proof:
        raise errors.ProofRequired(
            "value+proof disclosure needs a KPI-ZK proof with a 'meets' claim", loc=f"{_PAYLOAD_LOC}.proof"
        )


_LOOKUP = (  # built once: the report path's first statement, every report
    select(SupplyAgreement, OrgKey, evaluation.revision_of(SupplyAgreement.oem_id))
    .outerjoin(OrgKey, OrgKey.key_id == bindparam("key_id"))
    .where(SupplyAgreement.id == bindparam("agreement_id"))
)


def _lookup(
    session: Session, *, agreement_id: uuid.UUID, key_id: str
) -> tuple[SupplyAgreement | None, OrgKey | None, int]:
    """The agreement, the key the envelope names and the OEM's rule-set revision: one round trip, where three
    lookups were three."""
    found = session.execute(_LOOKUP, {"agreement_id": agreement_id, "key_id": key_id}).first()
    if found is None:
        return None, None, 0
    agreement, key, revision = found
    return agreement, key, revision


class Lookups:
    """:func:`_lookup`'s answers remembered for one transaction: a batch names one agreement and key many times."""

    def __init__(self) -> None:
        self._found: dict[tuple[uuid.UUID, str], tuple[SupplyAgreement | None, OrgKey | None, int]] = {}

    def __call__(
        self, session: Session, *, agreement_id: uuid.UUID, key_id: str
    ) -> tuple[SupplyAgreement | None, OrgKey | None, int]:
        named = (agreement_id, key_id)
        if named not in self._found:
            self._found[named] = _lookup(session, agreement_id=agreement_id, key_id=key_id)
        return self._found[named]


def _signing_key(key: OrgKey | None, *, caller: Caller, key_id: str, signed_at: datetime) -> OrgKey:
    if key is None or key.organization_id != caller.org_id or key.use != "sig":
        raise errors.UnknownKey(f"key {key_id} is not a signing key of your organization")
    if key.status == "revoked":
        raise errors.RevokedKey(f"key {key_id} is revoked")
    if key.status == "retired" and key.retired_at is not None and signed_at >= key.retired_at:
        raise errors.RevokedKey(f"key {key_id} was retired before this report was signed")
    return key


@dataclass(frozen=True)
class Prepared:
    """A report that passed every check but the proof's cryptography, ready to be verified and stored."""

    payload: wire.KpiReportPayload
    envelope: SignedEnvelope
    agreement: SupplyAgreement
    term: dict[str, Any]
    period: Period
    key: OrgKey
    request_hash: str
    idempotency_key: str | None
    attestation: Attestation | None
    expected: BindingContext | None
    lab: lab_ingest.LabEvidence | None = None
    rule_revision: int | None = None  # the OEM's rule-set revision as read with the agreement


def prepare(
    session: Session,
    *,
    caller: Caller,
    submission: wire.KpiReportSubmit,
    idempotency_key: str | None,
    now: datetime,
    max_skew: timedelta,
    binding: attestations.Binding,
    lookups: Lookups | None = None,
) -> Prepared | Submitted:
    """Checks 1 to n-1 of DESIGN.md's order: scope was the router's; agreement, signature and key, freshness,
    the claim, the proof's statement, public inputs, context and commitments. Returns the stored report
    instead when the Idempotency-Key was seen with this payload. Reads only (but an expired key's record)."""
    if caller.org_kind is not OrgKind.SUPPLIER:
        raise Forbidden("only a supplier submits KPI reports")
    payload = _payload(submission)
    request_hash = sha256_hex(canonical_bytes(submission.envelope.payload))
    if idempotency_key is not None:
        first = idempotency.recall(
            session, org_id=caller.org_id, endpoint=ENDPOINT, key=idempotency_key, request_hash=request_hash
        )
        if first is not None:
            stored = session.get(KpiReport, first)
            if stored is not None:
                return Submitted(stored, replayed=True)

    if payload.supplier_id != caller.org_id:
        raise Forbidden("supplier_id must be your own organization")
    envelope = submission.envelope
    agreement, named_key, revision = (lookups or _lookup)(
        session, agreement_id=payload.agreement_id, key_id=envelope.key_id
    )
    if agreement is None or agreement.supplier_id != caller.org_id:
        raise NotFound("agreement not found")
    if agreement.status != AgreementStatus.ACTIVE.value:
        raise Conflict(f"agreement is {agreement.status}, not active")
    if payload.oem_id != agreement.oem_id:
        raise InvalidInput("oem_id is not the agreement's OEM", loc=f"{_PAYLOAD_LOC}.oem_id")
    terms = agreements.terms_of(session, agreement)
    term = _term(terms, payload)
    period = parse_period(payload.period)
    _check_period(agreement, period, now)

    key = _signing_key(named_key, caller=caller, key_id=envelope.key_id, signed_at=envelope.signed_at)
    try:
        verify_envelope(envelope, public_key_from_raw(key.public_key))
    except SignatureInvalid as exc:
        raise errors.InvalidSignature(f"signature does not verify with key {key.key_id}") from exc
    if abs(now - envelope.signed_at) > max_skew:
        raise errors.StaleSignature(
            f"signed_at {envelope.signed_at.isoformat()} is more than {int(max_skew.total_seconds())} s from the hub's clock"
        )
    _check_claim(term, payload.claim, payload.proof is not None)
    attestation = expected = None
    if payload.proof is not None:
        expected = attestations.binding_context(
            binding,
            supplier_id=caller.org_id,
            key_id=key.key_id,
            agreement_id=agreement.id,
            characteristic=payload.characteristic,
            kpi=payload.kpi,
            period=str(period),
        )
        attestation = attestations.check(payload=payload, terms=terms, term=term, expected=expected)
    lab = lab_ingest.check(session, payload=payload, terms=terms, attestation=attestation, expected=expected)
    return Prepared(
        payload=payload,
        envelope=envelope,
        agreement=agreement,
        term=term,
        period=period,
        key=key,
        request_hash=request_hash,
        idempotency_key=idempotency_key,
        attestation=attestation,
        expected=expected,
        lab=lab,
        rule_revision=revision,
    )


def submit(
    session: Session,
    *,
    caller: Caller,
    submission: wire.KpiReportSubmit,
    idempotency_key: str | None,
    now: datetime,
    max_skew: timedelta,
    binding: attestations.Binding,
) -> Submitted:
    [verdict] = attestations.verify_early([submission])  # CPU only, before the first query
    prepared = prepare(
        session,
        caller=caller,
        submission=submission,
        idempotency_key=idempotency_key,
        now=now,
        max_skew=max_skew,
        binding=binding,
    )
    if isinstance(prepared, Submitted):
        return prepared
    if prepared.attestation is not None and prepared.expected is not None:
        attestations.settle(prepared.attestation, prepared.expected, verdict)
    return store(session, caller=caller, prepared=prepared, now=now)


def store(session: Session, *, caller: Caller, prepared: Prepared, now: datetime) -> Submitted:
    """Store a prepared report whose proof (if any) verified: report, attestation, audit entry, idempotency
    record, events and the rules' outcome, all in the caller's transaction."""
    [stored] = store_many(session, caller=caller, ready=[prepared], now=now)
    return stored


def store_many(
    session: Session, *, caller: Caller, ready: Sequence[Prepared], now: datetime
) -> list[Submitted]:
    """:func:`store` for a set of reports (a batch's), with one INSERT per table for the set: reports, their
    attestations, audit entries and events; then each report's outcome and the rules on it, in order.

    A duplicate or replay is named after the first report of the set: a caller storing several re-judges them
    one by one when the set is refused (:mod:`hub.kpis.batch`)."""
    reports = [_report_of(session, caller=caller, prepared=prepared, now=now) for prepared in ready]
    pairs = list(zip(ready, reports, strict=True))
    first = ready[0]
    with _explained(first.payload, first.period):
        # Plain INSERTs: the unit of work cost more CPU than the rows. The report objects stay out of the
        # session; they are what the caller answers with.
        session.flush()  # the lab measurements the reports name
        insert_rows(session, KpiReport, [_columns_set(report) for report in reports])
        for prepared, report in pairs:
            if prepared.idempotency_key is not None:
                idempotency.remember(
                    session,
                    org_id=caller.org_id,
                    endpoint=ENDPOINT,
                    key=prepared.idempotency_key,
                    request_hash=prepared.request_hash,
                    resource_id=report.id,
                )
        session.flush()  # the idempotency records
    audit.append(session, [_accepted_entry(caller, prepared, report) for prepared, report in pairs])
    proofs = [
        _attestation_row(report, prepared.attestation, prepared.expected, now)
        for prepared, report in pairs
        if prepared.attestation is not None and prepared.expected is not None
    ]
    insert_rows(session, KpiAttestation, proofs)
    events.publish_many(session, [_accepted_publication(report) for report in reports])
    unwatched = []
    for prepared, report in pairs:
        outcome = _outcome_of(prepared, report)
        if evaluation.watched(session, series=outcome.series, now=now, revision=prepared.rule_revision):
            _judge(session, outcome, now=now, revision=prepared.rule_revision)
        else:  # no rule reads it: its outcome is stored with the others', and nothing is evaluated
            unwatched.append(outcome)
    evaluation.record_unwatched(session, unwatched, now=now)
    return [Submitted(report, replayed=False) for report in reports]


def _columns_set(report: KpiReport) -> dict[str, Any]:
    """The columns given a value; the table's defaults fill the rest."""
    state = inspect(report).dict
    return {column.key: state[column.key] for column in _REPORT_COLUMNS if column.key in state}


def _report_of(session: Session, *, caller: Caller, prepared: Prepared, now: datetime) -> KpiReport:
    payload, agreement, period, envelope = (
        prepared.payload,
        prepared.agreement,
        prepared.period,
        prepared.envelope,
    )
    report = KpiReport(
        id=uuid7(),
        supplier_id=caller.org_id,
        oem_id=agreement.oem_id,
        agreement_id=agreement.id,
        part_number=payload.part_number,
        characteristic=payload.characteristic or "",
        period=str(period),
        period_start=period.start,
        kpi=payload.kpi.value,
        meets=payload.claim.meets,
        value=payload.claim.value,
        threshold=payload.claim.threshold,
        disclosure=prepared.term["disclosure"],
        key_id=prepared.key.key_id,
        nonce=envelope.nonce,
        signed_at=envelope.signed_at,
        received_at=now,
        envelope=envelope.model_dump(mode="json"),
        has_proof=prepared.attestation is not None,
    )
    if prepared.lab is not None:  # tier T2: readers learn who measured and when, never what
        measured = lab_measurements.keep(
            session,
            envelope=prepared.lab.envelope,
            measurement=prepared.lab.measurement,
            sealed=None,
            now=now,
        )
        report.lab_measurement_id, report.lab_id = measured.id, measured.lab_id
        report.lab_name, report.lab_measured_on = prepared.lab.lab_name, measured.measured_on
    return report


def _accepted_entry(caller: Caller, prepared: Prepared, report: KpiReport) -> AuditEntry:
    return audit.entry_for(
        actor=caller.actor,
        actor_org_id=caller.org_id,
        action="kpi_report.accepted",
        subject_type="kpi_report",
        subject_id=report.id,
        data={
            "agreement_id": str(report.agreement_id),
            "kpi": report.kpi,
            "period": report.period,
            "meets": report.meets,
            "proven": report.has_proof,
            **_lab_audit(prepared),
        },
    )


def _attestation_row(
    report: KpiReport, attestation: Attestation, expected: BindingContext, now: datetime
) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "report_id": report.id,
        "statement": attestation.statement,
        "nonce": expected.nonce,
        "commitments": dict(attestation.commitments),
        "attestation": attestation.model_dump(mode="json"),
        "verified_at": now,
    }


def _accepted_publication(report: KpiReport) -> events.Publication:
    return events.Publication(
        "kpi_report.accepted",
        report.id,
        {
            report.supplier_id: view_for(report, org_id=report.supplier_id, org_kind=OrgKind.SUPPLIER),
            report.oem_id: view_for(report, org_id=report.oem_id, org_kind=OrgKind.OEM),
        },
    )


def _outcome_of(prepared: Prepared, report: KpiReport) -> evaluation.Outcome:
    series = evaluation.Series(
        oem_id=report.oem_id,
        supplier_id=report.supplier_id,
        agreement_id=report.agreement_id,
        part_number=report.part_number,
        characteristic=report.characteristic,
        kpi=report.kpi,
    )
    return evaluation.Outcome(
        series, prepared.period, report.meets, False, report.value, report.threshold, report.id
    )


def _judge(session: Session, outcome: evaluation.Outcome, *, now: datetime, revision: int | None) -> None:
    """A watched series' outcome, stored, and the OEM's rules on it."""
    recorded = evaluation.record_outcome(
        session,
        series=outcome.series,
        period=outcome.period,
        met=outcome.met,
        missing=outcome.missing,
        value=outcome.value,
        threshold=outcome.threshold,
        report_id=outcome.report_id,
        now=now,
    )
    if recorded is not None:
        evaluation.evaluate(session, series=outcome.series, now=now, recorded=recorded, revision=revision)


def _lab_audit(prepared: Prepared) -> dict[str, Any]:
    """A T2 report's audit entry records the lab attestation it was proven from (by digest)."""
    if prepared.lab is None:
        return {}
    return {
        "lab_id": str(prepared.lab.measurement.lab_id),
        "lab_attestation": lab_ingest.digest_of(prepared.lab),
        "measured_on": prepared.lab.measurement.measured_on.isoformat(),
    }


@contextmanager
def _explained(payload: wire.KpiReportPayload, period: Period) -> Iterator[None]:
    """The unique constraints decide duplicates and replays in one round trip, race-free; this names which.

    A failed statement leaves the transaction unusable, and that is fine: the error we raise rolls it back."""
    try:
        yield
    except IntegrityError as exc:
        message = str(exc.orig)
        if "uq_kpi_reports_nonce" in message or "kpi_reports.key_id, kpi_reports.nonce" in message:
            raise errors.ReplayedNonce("this envelope nonce was used before") from exc
        if "idempotency_records" in message:
            raise errors.IdempotencyKeyInFlight(
                "another request with this Idempotency-Key is in flight; retry it"
            ) from exc
        subject = payload.characteristic or payload.part_number
        raise errors.DuplicateReport(
            f"a {payload.kpi.value} report for {subject} in {period} exists already"
        ) from exc


def visible(caller: Caller) -> Select[KpiReport]:
    """A supplier reads its own reports; an OEM the reports under its agreements; nobody else any."""
    query = select(KpiReport)
    if caller.org_kind is OrgKind.SUPPLIER:
        return query.where(KpiReport.supplier_id == caller.org_id)
    if caller.org_kind is OrgKind.OEM:
        return query.where(KpiReport.oem_id == caller.org_id)
    return query.where(false())  # labs and operators are not party to KPI reports


def get(session: Session, *, caller: Caller, report_id: uuid.UUID) -> KpiReport:
    report = session.scalar(visible(caller).where(KpiReport.id == report_id))
    if report is None:
        raise NotFound("KPI report not found")
    return report


def proof_of(session: Session, *, caller: Caller, report_id: uuid.UUID) -> Attestation:
    # The proof is zero knowledge: whoever may read the report may check it without trusting the hub.
    report = get(session, caller=caller, report_id=report_id)
    stored = session.scalar(
        select(KpiAttestation.attestation).where(KpiAttestation.report_id == report.id).limit(1)
    )
    if stored is None:
        raise NotFound("this KPI report has no proof")
    return Attestation.model_validate(stored)


@dataclass(frozen=True)
class ReportFilter:
    agreement_id: uuid.UUID | None = None
    supplier_id: uuid.UUID | None = None
    kpi: KpiName | None = None
    characteristic: str | None = None
    part_number: str | None = None
    period_from: str | None = None
    period_to: str | None = None
    meets: bool | None = None


def _period_bound(text: str, loc: str) -> datetime:
    try:
        return parse_period(text).start
    except ValueError as exc:
        raise InvalidInput(f"{text!r} is not a period like 2026-W48 or 2026-11", loc=loc) from exc


def list_reports(
    session: Session, *, caller: Caller, filters: ReportFilter, cursor: str | None, limit: int
) -> tuple[list[KpiReport], str | None]:
    """Newest first is what people ask for, but a stable cursor wants one order: ids are UUIDv7, ascending."""
    query = visible(caller)
    if filters.agreement_id:
        query = query.where(KpiReport.agreement_id == filters.agreement_id)
    if filters.supplier_id:
        query = query.where(KpiReport.supplier_id == filters.supplier_id)
    if filters.kpi:
        query = query.where(KpiReport.kpi == filters.kpi.value)
    if filters.characteristic:
        query = query.where(KpiReport.characteristic == filters.characteristic)
    if filters.part_number:
        query = query.where(KpiReport.part_number == filters.part_number)
    if filters.meets is not None:
        query = query.where(KpiReport.meets == filters.meets)
    if filters.period_from:
        query = query.where(KpiReport.period_start >= _period_bound(filters.period_from, "query.period_from"))
    if filters.period_to:
        query = query.where(KpiReport.period_start <= _period_bound(filters.period_to, "query.period_to"))
    if cursor:
        query = query.where(KpiReport.id > decode_cursor(cursor))
    rows = list(session.scalars(query.order_by(KpiReport.id).limit(limit + 1)))
    return page_of(rows, limit, last_id=lambda report: report.id)


def newest_reports(session: Session, *, caller: Caller, limit: int | None) -> list[KpiReport]:
    """The caller's most recent reports, newest period first (what a person reads first); all when no limit."""
    query = visible(caller).order_by(
        KpiReport.period_start.desc(), KpiReport.received_at.desc(), KpiReport.id
    )
    return list(session.scalars(query.limit(limit)))


def _plain(number: Decimal) -> Decimal:
    """One rendering whatever the column's scale: 1.3300 and 1.33 are the same threshold."""
    return Decimal(format(number.normalize(), "f"))


def as_wire(report: KpiReport, *, caller: Caller) -> wire.KpiReport:
    hidden = caller.org_id != report.supplier_id and report.disclosure == DisclosureMode.THRESHOLD.value
    return wire.KpiReport(
        id=report.id,
        supplier_id=report.supplier_id,
        oem_id=report.oem_id,
        agreement_id=report.agreement_id,
        part_number=report.part_number,
        characteristic=report.characteristic or None,
        period=report.period,
        kpi=KpiName(report.kpi),
        meets=report.meets,
        value=None if hidden or report.value is None else _plain(report.value),
        threshold=_plain(report.threshold),
        disclosure=DisclosureMode(report.disclosure),
        key_id=report.key_id,
        signed_at=report.signed_at,
        received_at=report.received_at,
        has_proof=report.has_proof,
        proven=report.has_proof,
        proven_by=None
        if report.lab_id is None or report.lab_measured_on is None
        else LabProvenance(
            lab_id=report.lab_id, lab_name=report.lab_name or "", measured_on=report.lab_measured_on
        ),
    )


def view_for(report: KpiReport, *, org_id: uuid.UUID, org_kind: OrgKind) -> dict[str, Any]:
    """What ``org_id`` may read of ``report``, as JSON: an event carries exactly what the API would answer."""
    reader = Caller(org_id=org_id, org_kind=org_kind, client_id="events", scopes=frozenset())
    return as_wire(report, caller=reader).model_dump(mode="json")
