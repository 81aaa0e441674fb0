"""KPI-ZK tier T2, the supplier's side: prove the unchanged T1 statement over the commitments a lab signed.

The lab's openings give the data commitments (S1, S2 and S1sq or P and T; T and r for MTBF); the prover adds
fresh openings only for what depends on the threshold (Z and Zsq) and binds the proof to the measurement's
digest (public input ``lab_attestation``). See :mod:`protocol.zk.lab` for the lab's side and the verifier.

Example:
    >>> from datetime import date
    >>> import uuid
    >>> from protocol.signing import generate_signing_key
    >>> from protocol.zk.lab import MeasurementTarget, measure_mtbf, verify_lab_proof
    >>> ctx = BindingContext(hub="h", supplier=str(uuid.UUID(int=2)), key_id="k",
    ...                      agreement=str(uuid.UUID(int=3)), period="2026-11", kpi="mtbf", nonce="n")
    >>> envelope, openings = measure_mtbf(hours=Decimal(120000), failures=1, lots=["L1"],
    ...     target=MeasurementTarget.for_context(ctx, lab_id=uuid.UUID(int=1), part_number="A"),
    ...     measured_on=date(2026, 11, 20), method="endurance", instrument="rig", lab_key=generate_signing_key())
    >>> verify_lab_proof(prove_mtbf_from_lab(envelope, openings, threshold=Decimal(50000), context=ctx),
    ...                  envelope).kpi.value
    'mtbf'
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from protocol.encoding import b64url_decode
from protocol.errors import EncodingError
from protocol.models.labs import LabMeasurement
from protocol.signing import SignedEnvelope
from protocol.zk.attestation import Attestation, BindingContext, prove_from_openings
from protocol.zk.errors import InvalidPoint, WitnessDoesNotMeet
from protocol.zk.generators import generators
from protocol.zk.group import GroupBackend, default_backend
from protocol.zk.lab import (
    BINDING_FIELDS,
    LabOpenings,
    measured_for,
    measurement_digest,
    verify_measurement_signature,
)
from protocol.zk.pedersen import Opening
from protocol.zk.statements import cpk, mtbf
from protocol.zk.statements.cpk import CpkStatement
from protocol.zk.statements.mtbf import MAX_R_BITS, MtbfStatement


def _check_openings(
    measurement: LabMeasurement, openings: LabOpenings, envelope: SignedEnvelope, group: GroupBackend
) -> None:
    """The supplier's check before proving: the openings open exactly the commitments the lab signed."""
    if openings.digest != measurement_digest(envelope):
        raise ValueError("these openings belong to another lab attestation")
    gens = generators(0, group)
    for name, encoded in measurement.commitments.items():
        opened = openings.vector(name).commit(gens) if name == "P" else openings.opening(name).commit(gens)
        try:
            signed = group.decode(b64url_decode(encoded))
        except (EncodingError, InvalidPoint) as exc:
            raise ValueError(f"the lab's commitment {name} is not a point: {exc}") from exc
        if not group.eq(opened, signed):
            raise ValueError(f"the opening of {name} does not open the lab's commitment")


def _checked_context(measurement: LabMeasurement, context: BindingContext, check_context: bool) -> None:
    if not check_context:
        return
    theirs = measured_for(measurement)
    for field in BINDING_FIELDS:
        if getattr(context, field) != theirs[field]:
            raise ValueError(f"the lab measured for another {field} ({theirs[field]!r}) than the context's")


def prove_cpk_from_lab(
    envelope: SignedEnvelope,
    openings: LabOpenings,
    *,
    threshold: Decimal,
    context: BindingContext,
    backend: GroupBackend | None = None,
    check_context: bool = True,
) -> Attestation:
    """The supplier's T2 CPK proof: CPK ≥ ``threshold`` over exactly the commitments the lab signed.

    Raises ``ValueError`` when the openings do not open the lab's commitments or the context is not the
    measurement's (``check_context=False`` skips that, for tests of the verifier), and
    :class:`~protocol.zk.errors.WitnessDoesNotMeet` when the lab's data do not meet the threshold.

    Example (a full run is in the module docstring):
        >>> from protocol.signing import generate_signing_key
        >>> from protocol.zk.lab import _EXAMPLE, sign_measurement  # an unsigned example measurement
        >>> prove_cpk_from_lab(sign_measurement(_EXAMPLE, lab_key=generate_signing_key()),
        ...                    LabOpenings(digest="d", openings={}), threshold=Decimal(1), context=None,
        ...                    )  # type: ignore[arg-type]
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: the envelope's key_id is not the lab key it carries
    """
    group = backend or default_backend()
    measurement = verify_measurement_signature(envelope)
    if measurement.statement != cpk.STATEMENT:
        raise ValueError(f"the lab measured for {measurement.statement}, not cpk_at_least")
    _checked_context(measurement, context, check_context)
    _check_openings(measurement, openings, envelope, group)
    inputs = measurement.inputs
    subgroups = (
        None
        if inputs.get("sigma") == "overall"
        else tuple(int(k) for k in str(inputs["subgroups"]).split(","))
    )
    statement = CpkStatement(
        n=int(inputs["n"]),
        lsl=Decimal(str(inputs["lsl"])),
        usl=Decimal(str(inputs["usl"])),
        resolution=Decimal(str(inputs["resolution"])),
        threshold=threshold,
        subgroups=subgroups,
    )
    lab_names = [name for name in statement.data_names() if name != "P"]
    given = {name: openings.opening(name) for name in lab_names}
    values = statement.complete({name: o.value for name, o in given.items()})
    if not statement.meets_values(values):
        raise WitnessDoesNotMeet(
            f"the lab's measurements do not meet CPK >= {threshold} ({statement.form} sigma)"
        )
    given.update({name: Opening.fresh(values[name]) for name in ("Z", "Zsq")})
    vectors = {} if subgroups is None else {"P": openings.vector("P")}
    return prove_from_openings(
        statement, given, context=context, vectors=vectors, lab=measurement_digest(envelope), backend=group
    )


def prove_mtbf_from_lab(
    envelope: SignedEnvelope,
    openings: LabOpenings,
    *,
    threshold: Decimal,
    context: BindingContext,
    form: Literal["point", "chi2_lower"] = "point",
    confidence: Decimal | None = None,
    backend: GroupBackend | None = None,
    check_context: bool = True,
) -> Attestation:
    """The supplier's T2 MTBF proof: MTBF ≥ ``threshold`` hours over the lab's committed test hours and failures
    (point form, or the chi-square lower bound at ``confidence``).

    Example (a full run is in :func:`verify_lab_proof`):
        >>> from protocol.signing import generate_signing_key
        >>> from protocol.zk.lab import _EXAMPLE, sign_measurement  # an unsigned example measurement
        >>> prove_mtbf_from_lab(sign_measurement(_EXAMPLE, lab_key=generate_signing_key()),
        ...                     LabOpenings(digest="d", openings={}), threshold=Decimal(1), context=None,
        ...                     )  # type: ignore[arg-type]
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: the envelope's key_id is not the lab key it carries
    """
    group = backend or default_backend()
    measurement = verify_measurement_signature(envelope)
    if measurement.statement != mtbf.STATEMENT:
        raise ValueError(f"the lab measured for {measurement.statement}, not mtbf_at_least")
    _checked_context(measurement, context, check_context)
    _check_openings(measurement, openings, envelope, group)
    hours, failures = openings.opening("T"), openings.opening("r")
    r_max, r_min = None, 0
    if form == "chi2_lower":
        k = max(4, failures.value.bit_length())
        if k > MAX_R_BITS:
            raise ValueError(f"the chi-square form supports at most {2**MAX_R_BITS - 1} failures")
        r_max, r_min = (1 << k) - 1, 0 if k == 4 else 1 << (k - 1)
    statement = MtbfStatement(
        threshold=threshold,
        resolution=Decimal(str(measurement.inputs["resolution"])),
        form=form,
        confidence=confidence if form == "chi2_lower" else None,
        r_max=r_max,
        r_min=r_min,
    )
    if not statement.meets(hours_scaled=hours.value, failures=failures.value):
        raise WitnessDoesNotMeet(f"the lab's test does not meet MTBF >= {threshold} h ({form})")
    return prove_from_openings(
        statement,
        {"T": hours, "r": failures},
        context=context,
        lab=measurement_digest(envelope),
        backend=group,
    )


__all__ = ["prove_cpk_from_lab", "prove_mtbf_from_lab"]
