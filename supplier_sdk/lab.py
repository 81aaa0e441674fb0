"""Labs and lab-attested proofs (KPI-ZK tier T2), for both sides.

**A lab** (:class:`Lab`, ``hub.lab``) reads the agreements it is named in, accepts its part, asks the hub for a
measurement context (the supplier, the period's nonce, the characteristic's limits and the supplier's X25519
key), measures, and issues a signed measurement: Pedersen commitments to the aggregates KPI-ZK uses, signed with
the lab's Ed25519 key (:func:`protocol.zk.lab.measure_cpk`). The openings go to the supplier sealed to its X25519
key (:func:`seal_openings`: the rooms' key wrapping and AES-256-GCM format, bound to the agreement and the
measurement id), so the hub that relays them cannot read them.

**A supplier** fetches them (:meth:`Lab.measurements`), opens them with its X25519 key (:func:`open_openings`),
and proves CPK ≥ t or MTBF ≥ M over exactly the lab's commitments (:func:`prove_from_lab`); :func:`attach_lab`
puts the proof and the lab's envelope into a report payload. :func:`verify_t2` checks a T2 proof offline.

Example:
    >>> import uuid
    >>> from protocol.zk.lab import LabOpenings
    >>> from supplier_sdk.rooms.keywrap import generate_encryption_key, encryption_key_id
    >>> supplier = generate_encryption_key()
    >>> key = SupplierKey(key_id=encryption_key_id(supplier),
    ...                   public_key=b64url_encode(supplier.public_key().public_bytes_raw()))
    >>> openings = LabOpenings(digest="d", openings={"T": ["5", "7"]})
    >>> sealed = seal_openings(openings, recipient=key, agreement_id=uuid.UUID(int=3))
    >>> open_openings(sealed, private_key=supplier, agreement_id=uuid.UUID(int=3)) == openings
    True
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import EncodingError
from protocol.models.kpi import KpiReportPayload
from protocol.models.labs import (
    LabAssignment,
    LabMeasurementContext,
    LabMeasurementRecord,
    SealedOpenings,
    SupplierKey,
)
from protocol.signing import SignedEnvelope
from protocol.zk.attestation import Attestation, BindingContext
from protocol.zk.lab import (
    LabOpenings,
    MeasurementTarget,
    measure_cpk,
    measure_mtbf,
    read_measurement,
    verify_lab_proof,
)
from protocol.zk.lab_prove import prove_cpk_from_lab, prove_mtbf_from_lab
from protocol.zk.statements import mtbf
from supplier_sdk.attest import attach, subgroup_sizes, to_resolution
from supplier_sdk.kpi import KpiInputError
from supplier_sdk.kpi.subgroups import FloatArray
from supplier_sdk.rooms.crypto import DatasetIntegrityError, decrypt_stream, encrypt_stream, generate_data_key
from supplier_sdk.rooms.keywrap import WrappedDataKey, unwrap_data_key, wrap_data_key

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester


def seal_openings(
    openings: LabOpenings,
    *,
    recipient: SupplierKey,
    agreement_id: uuid.UUID,
    measurement_id: uuid.UUID | None = None,
) -> SealedOpenings:
    """Encrypt ``openings`` for the supplier's X25519 key: a fresh data key encrypts them (AES-256-GCM, the rooms'
    format), and is wrapped to ``recipient`` bound to the agreement (as the "room") and ``measurement_id`` (as the
    "dataset"), exactly as a room data key is.

    Example: see the module docstring.
    """
    measurement_id = measurement_id or uuid.uuid4()
    data_key = generate_data_key()
    sink = io.BytesIO()
    plain = openings.model_dump_json().encode("utf-8")
    encrypt_stream(io.BytesIO(plain), sink, key=data_key, room_id=agreement_id, dataset_id=measurement_id)
    wrapped = wrap_data_key(
        data_key,
        recipient_public_key=b64url_decode(recipient.public_key),
        room_id=agreement_id,
        dataset_id=measurement_id,
        recipient_key_id=recipient.key_id,
    )
    return SealedOpenings(
        measurement_id=measurement_id,
        recipient_key_id=wrapped.recipient_key_id,
        ephemeral_public_key=wrapped.ephemeral_public_key_b64,
        wrapped_key=wrapped.wrapped_key_b64,
        ciphertext=b64url_encode(sink.getvalue()),
    )


def open_openings(
    sealed: SealedOpenings, *, private_key: X25519PrivateKey, agreement_id: uuid.UUID
) -> LabOpenings:
    """Decrypt sealed openings with the supplier's X25519 private key.

    Raises:
        DatasetIntegrityError: another key, agreement or measurement id, or tampered bytes.

    Example: see the module docstring.
    """
    wrapped = WrappedDataKey.from_wire(
        recipient_key_id=sealed.recipient_key_id,
        ephemeral_public_key=sealed.ephemeral_public_key,
        wrapped_key=sealed.wrapped_key,
        algorithm=sealed.algorithm,
    )
    data_key = unwrap_data_key(
        wrapped, private_key=private_key, room_id=agreement_id, dataset_id=sealed.measurement_id
    )
    try:
        ciphertext = b64url_decode(sealed.ciphertext)
    except EncodingError as exc:
        raise DatasetIntegrityError(f"the sealed openings are not base64url: {exc}") from exc
    sink = io.BytesIO()
    decrypt_stream(
        io.BytesIO(ciphertext), sink, key=data_key, room_id=agreement_id, dataset_id=sealed.measurement_id
    )
    return LabOpenings.model_validate_json(sink.getvalue())


def _target(context: LabMeasurementContext) -> MeasurementTarget:
    return MeasurementTarget(
        lab_id=context.lab_id,
        hub=context.hub,
        supplier_id=context.supplier_id,
        agreement_id=context.agreement_id,
        part_number=context.part_number,
        characteristic=context.characteristic,
        kpi=context.kpi,
        period=context.period,
        nonce=context.nonce,
    )


def measure_capability(
    values: FloatArray | Sequence[float | Decimal],
    *,
    context: LabMeasurementContext,
    lab_key: Any,
    lots: Sequence[str],
    measured_on: date,
    method: str,
    instrument: str,
    subgroup_size: int | None = None,
    subgroup_labels: Sequence[object] | None = None,
) -> tuple[SignedEnvelope, LabOpenings]:
    """The lab's signed measurement of a characteristic: values rounded to the characteristic's resolution, the
    aggregates committed, the envelope signed with ``lab_key``.

    Raises:
        KpiInputError: the context has no limits (not a characteristic), or too few values / bad subgroups.

    Example::

        envelope, openings = measure_capability(values, context=ctx, lab_key=key, lots=["L-117"],
                                                measured_on=date.today(), method="ISO 10360-2", instrument="CMM-2")
    """
    if context.lsl is None or context.usl is None or context.resolution is None:
        raise KpiInputError("a capability measurement needs the characteristic's LSL, USL and resolution")
    scaled = to_resolution(values, context.resolution)
    if len(scaled) < 2:
        raise KpiInputError(f"a capability measurement needs at least 2 values, got {len(scaled)}")
    sizes = subgroup_sizes(len(scaled), subgroup_size=subgroup_size, subgroup_labels=subgroup_labels)
    return measure_cpk(
        scaled,
        target=_target(context),
        lsl=context.lsl,
        usl=context.usl,
        resolution=context.resolution,
        subgroups=sizes,
        lots=lots,
        measured_on=measured_on,
        method=method,
        instrument=instrument,
        lab_key=lab_key,
    )


def measure_reliability(
    *,
    hours: Decimal,
    failures: int,
    context: LabMeasurementContext,
    lab_key: Any,
    lots: Sequence[str],
    measured_on: date,
    method: str,
    instrument: str,
) -> tuple[SignedEnvelope, LabOpenings]:
    """A reliability lab's signed test: total test hours and failures committed.

    Example::

        envelope, openings = measure_reliability(hours=Decimal("120000"), failures=1, context=ctx, lab_key=key,
                                                 lots=["L-9"], measured_on=date.today(), method="endurance",
                                                 instrument="rig 4")
    """
    return measure_mtbf(
        hours=Decimal(hours),
        failures=failures,
        target=_target(context),
        lots=lots,
        measured_on=measured_on,
        method=method,
        instrument=instrument,
        lab_key=lab_key,
    )


def prove_from_lab(
    envelope: SignedEnvelope,
    openings: LabOpenings,
    *,
    threshold: Decimal,
    context: BindingContext,
    form: Literal["point", "chi2_lower"] = "point",
    confidence: Decimal | None = None,
) -> Attestation:
    """The supplier's T2 proof over the lab's commitments (CPK or MTBF, as the lab measured).

    Raises:
        WitnessDoesNotMeet: the lab's data do not meet the threshold.
        ValueError: the openings are not the lab's, or the context is not the one the lab measured for.

    Example::

        proof = prove_from_lab(envelope, openings, threshold=Decimal("1.33"), context=hub.kpi_reports.attestation_context(...))
    """
    if read_measurement(envelope).statement == mtbf.STATEMENT:
        return prove_mtbf_from_lab(
            envelope, openings, threshold=threshold, context=context, form=form, confidence=confidence
        )
    return prove_cpk_from_lab(envelope, openings, threshold=threshold, context=context)


def attach_lab(
    payload: KpiReportPayload, attestation: Attestation, envelope: SignedEnvelope
) -> KpiReportPayload:
    """The payload with a T2 proof (as :func:`~supplier_sdk.attest.attach`) and the lab's signed measurement.

    Example::

        payload = attach_lab(build_capability_report(...), proof, envelope)
    """
    attached = attach(payload, attestation)
    fields = attached.model_dump(mode="json")
    fields["lab_attestation"] = envelope.model_dump(mode="json")
    return KpiReportPayload.model_validate(fields)


def verify_t2(attestation: Attestation, envelope: SignedEnvelope) -> None:
    """Verify a T2 proof offline: the lab's signature (with the key the measurement carries), the binding to the
    measurement and the proof; raises ``ProofInvalid`` naming the check. Whether that key belongs to an
    accredited lab named in the agreement only the hub can tell.

    Example::

        verify_t2(read_proof("cpk-W48.json"), read_lab_attestation("lab-W48.json"))
    """
    verify_lab_proof(attestation, envelope)


def read_lab_attestation(path: str) -> SignedEnvelope:
    """A lab attestation file (the signed envelope, JSON).

    Raises:
        ValueError: unreadable, or not a signed envelope.

    Example::

        envelope = read_lab_attestation("lab-W48.json")
    """
    from pathlib import Path

    from pydantic import ValidationError

    try:
        return SignedEnvelope.model_validate_json(Path(path).read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read lab attestation {path}: {exc}") from exc
    except ValidationError as exc:
        raise ValueError(f"not a signed lab attestation: {exc.errors()[0]['msg']}") from exc


class Lab:
    """The lab's calls and the supplier's view of lab measurements (``client.lab``), on one requester.

    Example::

        for assignment in hub.lab.assignments():
            hub.lab.accept(assignment.agreement_id)
    """

    def __init__(self, requester: Requester, *, encryption_key: X25519PrivateKey | None = None) -> None:
        self._requester = requester
        self._encryption_key = encryption_key

    def assignments(self) -> list[LabAssignment]:
        """The agreements this lab is named in (with the terms it measures), every page of them.

        Example: ``[a.title for a in hub.lab.assignments()]``
        """
        return [LabAssignment.model_validate(a) for a in self._requester.pages("/v1/lab/assignments")]

    def accept(self, agreement_id: uuid.UUID | str) -> LabAssignment:
        """Accept this lab's part of an agreement.

        Example: ``hub.lab.accept(agreement_id).status == "accepted"``
        """
        path = f"/v1/lab/assignments/{uuid.UUID(str(agreement_id))}/accept"
        return LabAssignment.model_validate(self._requester.request("POST", path))

    def measurement_context(
        self,
        agreement_id: uuid.UUID | str,
        *,
        kpi: str,
        part_number: str,
        period: str,
        characteristic: str | None = None,
    ) -> LabMeasurementContext:
        """What a measurement for one period must be bound to (and the supplier's X25519 key).

        Example: ``ctx = hub.lab.measurement_context(agreement_id, kpi="cpk", part_number="SH-1", period="2026-W48", characteristic="DIA-01")``
        """
        params = {"kpi": kpi, "part_number": part_number, "period": period}
        if characteristic is not None:
            params["characteristic"] = characteristic
        path = f"/v1/lab/assignments/{uuid.UUID(str(agreement_id))}/measurement-context"
        return LabMeasurementContext.model_validate(self._requester.request("GET", path, params=params))

    def issue(
        self, envelope: SignedEnvelope, openings: LabOpenings, *, context: LabMeasurementContext
    ) -> LabMeasurementRecord:
        """Send a signed measurement to the hub with its openings sealed to the supplier's key.

        Raises:
            KpiInputError: the supplier has registered no X25519 key.

        Example: ``record = hub.lab.issue(envelope, openings, context=ctx)``
        """
        if context.supplier_key is None:
            raise KpiInputError(
                "the supplier has no X25519 key registered: hand the openings over another way"
            )
        sealed = seal_openings(openings, recipient=context.supplier_key, agreement_id=context.agreement_id)
        body = {
            "envelope": envelope.model_dump(mode="json"),
            "sealed_openings": sealed.model_dump(mode="json"),
        }
        return LabMeasurementRecord.model_validate(
            self._requester.request("POST", "/v1/lab/measurements", json=body)
        )

    def measurements(
        self, *, agreement_id: uuid.UUID | str | None = None, period: str | None = None
    ) -> list[LabMeasurementRecord]:
        """Measurements addressed to this supplier (or issued by this lab), every page of them.

        Example: ``[m.digest for m in hub.lab.measurements(period="2026-W48")]``
        """
        params = {"agreement_id": None if agreement_id is None else str(agreement_id), "period": period}
        return [
            LabMeasurementRecord.model_validate(m)
            for m in self._requester.pages("/v1/lab-measurements", params=params)
        ]

    def openings(self, record: LabMeasurementRecord) -> LabOpenings:
        """Open a measurement's sealed openings with this client's X25519 key.

        Raises:
            KpiInputError: the client has no encryption key.

        Example: ``openings = hub.lab.openings(record)``
        """
        if self._encryption_key is None:
            raise KpiInputError("opening a lab's measurement needs the client's X25519 encryption_key")
        return open_openings(
            record.sealed_openings, private_key=self._encryption_key, agreement_id=record.agreement_id
        )


__all__ = [
    "Lab",
    "attach_lab",
    "measure_capability",
    "measure_reliability",
    "open_openings",
    "prove_from_lab",
    "read_lab_attestation",
    "seal_openings",
    "verify_t2",
]
