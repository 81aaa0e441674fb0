"""KPI-ZK tier T2: proofs over commitments an accredited lab signed, instead of commitments the supplier chose.

**The lab** measures a sample (it sees the raw data; the hub and the OEM never do), commits with fresh
blindings to the data aggregates the T1 statement commits to — CPK: S1, S2, S1sq (overall sigma) or P, S1, S2,
T (pooled; P the vector of subgroup sums), MTBF: T and r — and signs a
:class:`~protocol.models.labs.LabMeasurement` binding the commitments to the hub, supplier, agreement, part,
characteristic, KPI, period and the hub's per-period nonce, with n, the subgroup layout, limits and
resolution, the lots, the measurement date, method and instrument (:func:`measure_cpk`, :func:`measure_mtbf`,
:func:`sign_measurement`). The openings (:class:`LabOpenings`) go to the supplier only.

**The supplier** proves the unchanged T1 statement with the lab's openings for those commitments and fresh
ones for the threshold-dependent rest (Z and Zsq), and absorbs the measurement's :func:`measurement_digest`
into the transcript (public input ``lab_attestation``), so the proof cannot be moved to another measurement
(:mod:`protocol.zk.lab_prove`).

**The verifier** checks the lab's signature, that the proof names this measurement and is bound to its
context and inputs, that the proof's commitments are the ones the lab signed (:func:`check_lab_binding`),
then the unchanged proof equations (:func:`verify_lab_proof`). Which lab may sign, with which key, and whether
it was accredited on ``measured_on`` is the hub's business (it knows the agreement and the keys).

Example:
    >>> from datetime import date
    >>> from protocol.signing import generate_signing_key
    >>> import uuid
    >>> lab_key = generate_signing_key()
    >>> ctx = BindingContext(hub="hub", supplier=str(uuid.UUID(int=2)), key_id="k1", agreement=str(uuid.UUID(int=3)),
    ...                      characteristic="DIA", period="2026-W48", kpi="cpk", nonce="n0")
    >>> where = MeasurementTarget.for_context(ctx, lab_id=uuid.UUID(int=1), part_number="SH-1")
    >>> values = [Decimal(v) for v in ("10.01", "9.99", "10.00", "10.02", "9.98", "10.00")]
    >>> from protocol.zk.lab_prove import prove_cpk_from_lab
    >>> envelope, openings = measure_cpk(values, target=where, lsl=Decimal("9.90"), usl=Decimal("10.10"),
    ...     resolution=Decimal("0.01"), subgroups=None, lots=["L-7"], measured_on=date(2026, 11, 27),
    ...     method="ISO 10360 CMM", instrument="CMM-2", lab_key=lab_key)
    >>> att = prove_cpk_from_lab(envelope, openings, threshold=Decimal("1.33"), context=ctx)
    >>> verify_lab_proof(att, envelope).lab_id == uuid.UUID(int=1)
    True
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from pydantic import Field, ValidationError

from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import EncodingError, InvalidKey, SignatureInvalid
from protocol.models.common import KpiName, WireModel
from protocol.models.labs import LAB_MEASUREMENT_TYPE, LabMeasurement
from protocol.signing import (
    SignedEnvelope,
    key_id_for,
    public_key_raw,
    sign_envelope,
    signing_input,
    verify_envelope,
)
from protocol.zk.attestation import (
    DEFAULT_HOURS_RESOLUTION,
    Attestation,
    BindingContext,
    verify_attestation,
)
from protocol.zk.errors import ProofInvalid
from protocol.zk.generators import generators
from protocol.zk.group import GroupBackend, default_backend
from protocol.zk.pedersen import Opening, VectorOpening
from protocol.zk.statements import cpk, mtbf
from protocol.zk.statements.cpk import CpkStatement, decimal_text, scaled

MTBF_DATA_NAMES = ("T", "r")
"""The commitments a reliability lab signs for ``mtbf_at_least``: test time T (in units of the resolution)
and failures r.

Example:
    >>> MTBF_DATA_NAMES
    ('T', 'r')
"""

BINDING_FIELDS = ("hub", "supplier", "agreement", "characteristic", "period", "kpi", "nonce")
"""The context fields of a proof that must equal the lab measurement's, in the order they are checked.

Example:
    >>> BINDING_FIELDS[1]
    'supplier'
"""


class LabBindingMismatch(ProofInvalid):
    """The proof and the lab measurement disagree on ``field`` (a context field, a data input, the statement,
    or ``lab_attestation``: the proof names another measurement).

    Example:
        >>> LabBindingMismatch("x", field="period").check
        'lab binding period'
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, check=f"lab binding {field}")
        self.field = field


class LabCommitmentMismatch(ProofInvalid):
    """A commitment of the proof is not the one the lab signed (``name``), or the lab signed another set.

    Example:
        >>> LabCommitmentMismatch("x", name="S1").check
        'lab commitments'
    """

    def __init__(self, message: str, *, name: str) -> None:
        super().__init__(message, check="lab commitments")
        self.name = name


class LabOpenings(WireModel):
    """The secrets behind a measurement's commitments, for the supplier only (decimal integer texts).

    ``openings`` maps a name to ``[value, blinding]``; ``vectors`` maps ``P`` to ``[v₁, …, v_k, blinding]``.
    ``digest`` names the measurement they belong to (:func:`measurement_digest`).

    Example:
        >>> LabOpenings(digest="d", openings={"T": ["5", "7"]}).opening("T")
        Opening(value=5, blinding=7)
    """

    digest: str
    openings: dict[str, list[str]] = Field(max_length=8)
    vectors: dict[str, list[str]] = Field(default_factory=dict, max_length=1)

    def opening(self, name: str) -> Opening:
        """The opening of commitment ``name``; ``ValueError`` when it is missing or malformed.

        Example:
            >>> LabOpenings(digest="d", openings={}).opening("S1")
            Traceback (most recent call last):
            ...
            ValueError: the openings have no S1
        """
        pair = self.openings.get(name)
        if pair is None or len(pair) != 2:
            raise ValueError(f"the openings have no {name}")
        return Opening(int(pair[0]), int(pair[1]))

    def vector(self, name: str) -> VectorOpening:
        """The opening of vector commitment ``name`` (``P``).

        Example:
            >>> LabOpenings(digest="d", openings={}, vectors={"P": ["3", "4", "9"]}).vector("P").values
            (3, 4)
        """
        items = self.vectors.get(name)
        if items is None or len(items) < 2:
            raise ValueError(f"the openings have no vector {name}")
        return VectorOpening(tuple(int(v) for v in items[:-1]), int(items[-1]))


@dataclass(frozen=True)
class MeasurementTarget:
    """Who and what one measurement is for: the lab, hub, supplier, agreement, part, characteristic (empty for
    MTBF), KPI, period and the hub's nonce (from ``GET /v1/lab/assignments/{id}/measurement-context``).

    Example:
        >>> import uuid
        >>> MeasurementTarget(lab_id=uuid.UUID(int=1), hub="h", supplier_id=uuid.UUID(int=2),
        ...                   agreement_id=uuid.UUID(int=3), part_number="A", characteristic="", kpi=KpiName.MTBF,
        ...                   period="2026-11", nonce="n").kpi
        <KpiName.MTBF: 'mtbf'>
    """

    lab_id: UUID
    hub: str
    supplier_id: UUID
    agreement_id: UUID
    part_number: str
    characteristic: str
    kpi: KpiName
    period: str
    nonce: str

    @classmethod
    def for_context(cls, context: BindingContext, *, lab_id: UUID, part_number: str) -> MeasurementTarget:
        """The target matching a supplier's binding context (what a proof under ``context`` is bound to).

        Example:
            >>> import uuid
            >>> ctx = BindingContext(hub="h", supplier=str(uuid.UUID(int=2)), key_id="k",
            ...                      agreement=str(uuid.UUID(int=3)), period="2026-11", kpi="mtbf", nonce="n")
            >>> MeasurementTarget.for_context(ctx, lab_id=uuid.UUID(int=1), part_number="A").period
            '2026-11'
        """
        return cls(
            lab_id=lab_id,
            hub=context.hub,
            supplier_id=UUID(context.supplier),
            agreement_id=UUID(context.agreement),
            part_number=part_number,
            characteristic=context.characteristic,
            kpi=KpiName(context.kpi),
            period=context.period,
            nonce=context.nonce,
        )


_EXAMPLE = LabMeasurement(
    lab_id=UUID(int=1),
    lab_public_key="A" * 43,
    hub="h",
    supplier_id=UUID(int=2),
    agreement_id=UUID(int=3),
    part_number="A",
    kpi=KpiName.MTBF,
    period="2026-11",
    nonce="n",
    lots=["L"],
    measured_on=date(2026, 11, 1),
    method="m",
    instrument="i",
    statement="mtbf_at_least",
    inputs={"resolution": "0.001"},
    commitments={},
)  # for the examples only: it carries a key that did not sign it


def measurement_digest(envelope: SignedEnvelope) -> str:
    """The digest a T2 proof names: base64url SHA-256 of the envelope's signing input (everything signed).

    Example:
        >>> from protocol.signing import generate_signing_key
        >>> len(measurement_digest(sign_envelope({}, type="ping", private_key=generate_signing_key())))
        43
    """
    return b64url_encode(hashlib.sha256(signing_input(envelope)).digest())


def _envelope_and_openings(
    *,
    target: MeasurementTarget,
    statement: str,
    inputs: dict[str, int | str],
    openings: dict[str, Opening],
    vectors: dict[str, VectorOpening],
    lots: Sequence[str],
    measured_on: date,
    method: str,
    instrument: str,
    lab_key: object,
    signed_at: datetime | None,
    backend: GroupBackend | None,
) -> tuple[SignedEnvelope, LabOpenings]:
    group = backend or default_backend()
    gens = generators(0, group)
    points = {name: group.encode(o.commit(gens)) for name, o in openings.items()}
    points.update({name: group.encode(v.commit(gens)) for name, v in vectors.items()})
    measurement = LabMeasurement(
        lab_id=target.lab_id,
        lab_public_key=b64url_encode(public_key_raw(lab_key)),  # type: ignore[arg-type]
        hub=target.hub,
        supplier_id=target.supplier_id,
        agreement_id=target.agreement_id,
        part_number=target.part_number,
        characteristic=target.characteristic,
        kpi=target.kpi,
        period=target.period,
        nonce=target.nonce,
        lots=list(lots),
        measured_on=measured_on,
        method=method,
        instrument=instrument,
        statement=statement,
        inputs=inputs,
        commitments={name: b64url_encode(point) for name, point in sorted(points.items())},
    )
    envelope = sign_measurement(measurement, lab_key=lab_key, signed_at=signed_at)
    secrets = LabOpenings(
        digest=measurement_digest(envelope),
        openings={name: [str(o.value), str(o.blinding)] for name, o in openings.items()},
        vectors={name: [*(str(x) for x in v.values), str(v.blinding)] for name, v in vectors.items()},
    )
    return envelope, secrets


def sign_measurement(
    measurement: LabMeasurement, *, lab_key: object, signed_at: datetime | None = None
) -> SignedEnvelope:
    """Sign a measurement with the lab's Ed25519 key (envelope type ``lab-measurement``).

    Example:
        >>> from protocol.signing import generate_signing_key
        >>> sign_measurement(_EXAMPLE, lab_key=generate_signing_key()).type
        'lab-measurement'
    """
    return sign_envelope(measurement, type=LAB_MEASUREMENT_TYPE, private_key=lab_key, signed_at=signed_at)  # type: ignore[arg-type]


def measure_cpk(
    values: Sequence[Decimal],
    *,
    target: MeasurementTarget,
    lsl: Decimal,
    usl: Decimal,
    resolution: Decimal,
    subgroups: Sequence[int] | None,
    lots: Sequence[str],
    measured_on: date,
    method: str,
    instrument: str,
    lab_key: object,
    signed_at: datetime | None = None,
    backend: GroupBackend | None = None,
) -> tuple[SignedEnvelope, LabOpenings]:
    """The lab's side of a T2 CPK proof: commit to the aggregates of ``values`` and sign the measurement.

    Returns the signed envelope (for the supplier and the hub) and the openings (for the supplier only).
    Raises ``ValueError`` when a value or the tolerance is not a multiple of ``resolution`` or the layout does
    not form a statement (fewer than two values, subgroup sizes that do not add up).

    Example (a full run is in the module docstring):
        >>> measure_cpk([9.99, 10.01], target=None, lsl=Decimal(9), usl=Decimal(11), resolution=Decimal("0.01"),
        ...             subgroups=None, lots=["L"], measured_on=date(2026, 1, 1), method="m", instrument="i",
        ...             lab_key=None)  # type: ignore[arg-type]
        Traceback (most recent call last):
        ...
        TypeError: measurements and limits are Decimals: a binary float has no exact decimal value
    """
    if any(isinstance(x, float) for x in (*values, lsl, usl, resolution)):
        raise TypeError("measurements and limits are Decimals: a binary float has no exact decimal value")
    ys = [scaled(Decimal(x) - lsl, resolution, "a measurement - LSL") for x in values]
    # The data inputs do not depend on t; t = 1 only lets the statement check the layout and limits.
    layout = CpkStatement(
        n=len(ys),
        lsl=lsl,
        usl=usl,
        resolution=resolution,
        threshold=Decimal(1),
        subgroups=None if subgroups is None else tuple(subgroups),
    )
    witness = layout.witness(ys)
    openings = {name: Opening.fresh(witness[name]) for name in layout.data_names() if name != "P"}
    public = layout.public()
    inputs = {name: public[name] for name in ("n", "sigma", "subgroups", "lsl", "usl", "resolution")}
    return _envelope_and_openings(
        target=target,
        statement=cpk.STATEMENT,
        inputs=inputs,
        openings=openings,
        vectors=layout.vector_openings(ys),
        lots=lots,
        measured_on=measured_on,
        method=method,
        instrument=instrument,
        lab_key=lab_key,
        signed_at=signed_at,
        backend=backend,
    )


def measure_mtbf(
    *,
    hours: Decimal,
    failures: int,
    target: MeasurementTarget,
    lots: Sequence[str],
    measured_on: date,
    method: str,
    instrument: str,
    lab_key: object,
    resolution: Decimal = DEFAULT_HOURS_RESOLUTION,
    signed_at: datetime | None = None,
    backend: GroupBackend | None = None,
) -> tuple[SignedEnvelope, LabOpenings]:
    """A reliability lab's side of a T2 MTBF proof: commit to the test hours (rounded down to ``resolution``)
    and the failures of a test it ran, and sign the measurement.

    Example (a full run is in :func:`verify_lab_proof`):
        >>> measure_mtbf(hours=Decimal(1), failures=-1, target=None, lots=["L"], measured_on=date(2026, 1, 1),
        ...              method="m", instrument="i", lab_key=None)  # type: ignore[arg-type]
        Traceback (most recent call last):
        ...
        ValueError: failures is a non-negative integer
    """
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
        raise ValueError("failures is a non-negative integer")
    if not hours > 0 or not resolution > 0:
        raise ValueError("hours and resolution are positive")
    ratio = Fraction(Decimal(hours)) / Fraction(resolution)
    openings = {"T": Opening.fresh(ratio.numerator // ratio.denominator), "r": Opening.fresh(failures)}
    return _envelope_and_openings(
        target=target,
        statement=mtbf.STATEMENT,
        inputs={"resolution": decimal_text(resolution)},
        openings=openings,
        vectors={},
        lots=lots,
        measured_on=measured_on,
        method=method,
        instrument=instrument,
        lab_key=lab_key,
        signed_at=signed_at,
        backend=backend,
    )


def read_measurement(envelope: SignedEnvelope) -> LabMeasurement:
    """The envelope's :class:`~protocol.models.labs.LabMeasurement`; ``ProofInvalid`` (``check="lab
    attestation"``) for another envelope type or a malformed payload. The signature is not checked here.

    Example:
        >>> from protocol.signing import generate_signing_key
        >>> read_measurement(sign_envelope({}, type="ping", private_key=generate_signing_key()))
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: the lab attestation is a 'lab-measurement' envelope, not 'ping'
    """
    if envelope.type != LAB_MEASUREMENT_TYPE:
        raise ProofInvalid(
            f"the lab attestation is a {LAB_MEASUREMENT_TYPE!r} envelope, not {envelope.type!r}",
            check="lab attestation",
        )
    try:
        return LabMeasurement.model_validate(envelope.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ProofInvalid(f"lab attestation {where}: {first['msg']}", check="lab attestation") from exc


def verify_measurement_signature(envelope: SignedEnvelope) -> LabMeasurement:
    """Check the envelope is signed by the key it carries (``lab_public_key``, whose thumbprint is the
    envelope's ``key_id``); ``ProofInvalid`` with ``check="lab signature"`` otherwise. Whose key that is, is
    the hub's check.

    Example:
        >>> from protocol.signing import generate_signing_key
        >>> envelope = sign_measurement(_EXAMPLE, lab_key=generate_signing_key())
        >>> verify_measurement_signature(envelope)
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: the envelope's key_id is not the lab key it carries
    """
    measurement = read_measurement(envelope)
    try:
        raw = b64url_decode(measurement.lab_public_key)
        if key_id_for(raw) != envelope.key_id:
            raise ProofInvalid("the envelope's key_id is not the lab key it carries", check="lab signature")
        verify_envelope(envelope, raw, expected_type=LAB_MEASUREMENT_TYPE)
    except (EncodingError, InvalidKey, SignatureInvalid) as exc:
        raise ProofInvalid(f"the lab's signature does not verify: {exc}", check="lab signature") from exc
    return measurement


def data_names(statement: str, inputs: dict[str, int | str]) -> list[str]:
    """The commitment names a lab signs for ``statement`` with data ``inputs`` (sorted).

    Example:
        >>> data_names("cpk_at_least", {"sigma": "overall"}), data_names("mtbf_at_least", {})
        (['S1', 'S1sq', 'S2'], ['T', 'r'])
    """
    if statement == mtbf.STATEMENT:
        return list(MTBF_DATA_NAMES)
    return ["S1", "S1sq", "S2"] if inputs.get("sigma") == "overall" else ["P", "S1", "S2", "T"]


def measured_for(measurement: LabMeasurement) -> dict[str, str]:
    """The measurement's binding fields, as a proof's context writes them.

    Example:
        >>> measured_for(_EXAMPLE)["period"]
        '2026-11'
    """
    return {
        "hub": measurement.hub,
        "supplier": str(measurement.supplier_id),
        "agreement": str(measurement.agreement_id),
        "characteristic": measurement.characteristic,
        "period": measurement.period,
        "kpi": measurement.kpi.value,
        "nonce": measurement.nonce,
    }


def check_lab_binding(att: Attestation, envelope: SignedEnvelope) -> LabMeasurement:
    """Check a T2 proof against the lab measurement it claims (not the signature, not the equations).

    In order: the proof names this measurement (``lab_attestation``), proves its statement, is bound to its
    hub, supplier, agreement, characteristic, period, KPI and nonce, uses its data inputs (n, subgroups,
    limits, resolution), and its commitments to the data are exactly the lab's. Raises
    :class:`LabBindingMismatch` naming the field or :class:`LabCommitmentMismatch` naming the commitment.

    Example (a mismatch is shown in :func:`verify_lab_proof`):
        >>> from protocol.signing import generate_signing_key
        >>> att = Attestation(statement="mtbf_at_least", public={}, commitments={}, proof={})
        >>> check_lab_binding(att, sign_measurement(_EXAMPLE, lab_key=generate_signing_key())).field
        Traceback (most recent call last):
        ...
        protocol.zk.lab.LabBindingMismatch: the proof is not made over this lab attestation (lab_attestation)
    """
    measurement = read_measurement(envelope)
    digest = att.lab_digest()
    if digest is None or digest != measurement_digest(envelope):
        raise LabBindingMismatch(
            "the proof is not made over this lab attestation (lab_attestation)", field="lab_attestation"
        )
    if att.statement != measurement.statement:
        raise LabBindingMismatch(
            f"the lab measured for {measurement.statement}, the proof is {att.statement}", field="statement"
        )
    context = att.context()
    expected = measured_for(measurement)
    for field in BINDING_FIELDS:
        if getattr(context, field) != expected[field]:
            raise LabBindingMismatch(
                f"the proof is bound to another {field} than the lab's measurement", field=field
            )
    for name, value in sorted(measurement.inputs.items()):
        if att.public.get(name) != value:
            raise LabBindingMismatch(
                f"public input {name} is not the lab's ({value!r})", field=f"inputs.{name}"
            )
    names = data_names(measurement.statement, measurement.inputs)
    if sorted(measurement.commitments) != names:
        raise LabCommitmentMismatch(
            f"the lab commits to {', '.join(names)}", name=",".join(sorted(measurement.commitments))
        )
    for name in names:
        if att.commitments.get(name) != measurement.commitments[name]:
            raise LabCommitmentMismatch(f"commitment {name} is not the one the lab signed", name=name)
    return measurement


def verify_lab_proof(
    att: Attestation, envelope: SignedEnvelope, *, backend: GroupBackend | None = None
) -> LabMeasurement:
    """Verify a T2 proof offline: the lab's signature (by the key it carries), the binding to the measurement
    (:func:`check_lab_binding`), then the unchanged proof equations. Returns the measurement.

    Example:
        >>> from protocol.signing import generate_signing_key
        >>> import uuid
        >>> ctx = BindingContext(hub="h", supplier=str(uuid.UUID(int=2)), key_id="k",
        ...                      agreement=str(uuid.UUID(int=3)), period="2026-11", kpi="mtbf", nonce="n")
        >>> from protocol.zk.lab_prove import prove_mtbf_from_lab
        >>> target = MeasurementTarget.for_context(ctx, lab_id=uuid.UUID(int=1), part_number="A")
        >>> envelope, openings = measure_mtbf(hours=Decimal(120000), failures=1, target=target, lots=["L1"],
        ...     measured_on=date(2026, 11, 20), method="endurance", instrument="rig", lab_key=generate_signing_key())
        >>> att = prove_mtbf_from_lab(envelope, openings, threshold=Decimal(50000), context=ctx)
        >>> verify_lab_proof(att, envelope).statement
        'mtbf_at_least'
        >>> other = ctx.model_copy(update={"period": "2026-12"})
        >>> try:
        ...     check_lab_binding(prove_mtbf_from_lab(envelope, openings, threshold=Decimal(50000),
        ...                                           context=other, check_context=False), envelope)
        ... except LabBindingMismatch as exc:
        ...     exc.field
        'period'
    """
    verify_measurement_signature(envelope)
    measurement = check_lab_binding(att, envelope)
    verify_attestation(att, backend=backend)
    return measurement


__all__ = [
    "BINDING_FIELDS",
    "MTBF_DATA_NAMES",
    "LabBindingMismatch",
    "LabCommitmentMismatch",
    "LabOpenings",
    "MeasurementTarget",
    "check_lab_binding",
    "data_names",
    "measure_cpk",
    "measure_mtbf",
    "measured_for",
    "measurement_digest",
    "read_measurement",
    "sign_measurement",
    "verify_lab_proof",
    "verify_measurement_signature",
]
