"""The public face of KPI-ZK v1: prove ``CPK ≥ t`` / ``MTBF ≥ M`` as an :class:`Attestation`, verify one or many.

An attestation (the proof file) names its statement, carries the public inputs by name (the statement's and
the binding context's), the Pedersen commitments (base64url 48-byte points) and the proof; it never contains
a measurement. Verification rebuilds the statement from the public inputs (re-checking every derived input),
replays the transcript, and checks every equation in one multi-scalar multiplication; a batch of
attestations is checked in one multi-scalar multiplication with random weights, falling back to one-by-one
checks only to name the culprits when the batch fails. Failures raise
:class:`~protocol.zk.errors.ProofInvalid` whose ``check`` names what failed (``"range proof"``,
``"square relation"``, ``"context binding"``, ``"public input threshold"``, ``"point encoding"``, ...).

Example:
    >>> from decimal import Decimal
    >>> ctx = BindingContext(hub="hub", supplier="acme", key_id="k1", agreement="ag", characteristic="bore",
    ...                      period="2026-W48", kpi="cpk", nonce="n0")
    >>> values = [Decimal(v) for v in ("10.01", "9.99", "10.00", "10.02", "9.98", "10.00")]
    >>> att = prove_cpk_at_least(values, lsl=Decimal("9.90"), usl=Decimal("10.10"), resolution=Decimal("0.01"),
    ...                          threshold=Decimal("1.33"), subgroups=None, context=ctx)
    >>> verify_attestation(att, expected=ctx)
    >>> try:
    ...     verify_attestation(att, expected=ctx.model_copy(update={"period": "2026-W49"}))
    ... except ProofInvalid as exc:
    ...     exc.check
    'context binding'
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import EncodingError
from protocol.models.common import WireModel
from protocol.zk.equations import Equation, all_hold, combined_holds, first_failing, random_weights
from protocol.zk.errors import InvalidPoint, ProofInvalid, WitnessDoesNotMeet
from protocol.zk.generators import generators
from protocol.zk.group import GroupBackend, default_backend
from protocol.zk.group.base import Point
from protocol.zk.pedersen import Opening, VectorOpening
from protocol.zk.statements import cpk, mtbf
from protocol.zk.statements.context import CONTEXT_FIELDS, BindingContext, statement_transcript
from protocol.zk.statements.cpk import CpkStatement, scaled
from protocol.zk.statements.mtbf import MAX_R_BITS, MtbfStatement
from protocol.zk.statements.relations import prove_relations, relation_equations

VERSION = "KPI-ZK/1"
"""The attestation format version.

Example:
    >>> VERSION
    'KPI-ZK/1'
"""

LAB_FIELD = "lab_attestation"
"""The public input of a tier-T2 proof that names (by digest) the lab measurement attestation it is made over.

Example:
    >>> LAB_FIELD
    'lab_attestation'
"""

DEFAULT_HOURS_RESOLUTION = Decimal("0.001")
"""Hours per unit of the committed test time T when the caller does not choose one.

Example:
    >>> DEFAULT_HOURS_RESOLUTION
    Decimal('0.001')
"""


class Attestation(WireModel):
    """A KPI-ZK v1 proof file: statement, public inputs, commitments and proof — never a measurement.

    Example:
        >>> att = Attestation(statement="mtbf_at_least", public={"n": 1}, commitments={}, proof={})
        >>> att.version
        'KPI-ZK/1'
    """

    version: Literal["KPI-ZK/1"] = "KPI-ZK/1"
    statement: Literal["cpk_at_least", "mtbf_at_least"]
    public: dict[str, str | int]
    commitments: dict[str, str]
    proof: dict[str, Any]

    def context(self) -> BindingContext:
        """The binding context recorded in the public inputs; ``ProofInvalid`` when a field is missing.

        Example:
            >>> Attestation(statement="mtbf_at_least", public={}, commitments={}, proof={}).context()
            Traceback (most recent call last):
            ...
            protocol.zk.errors.ProofInvalid: the attestation's context field hub is missing
        """
        fields: dict[str, str] = {}
        for name in CONTEXT_FIELDS:
            value = self.public.get(name)
            if not isinstance(value, str):
                raise ProofInvalid(
                    f"the attestation's context field {name} is missing", check="context binding"
                )
            fields[name] = value
        return BindingContext(**fields)

    def statement_public(self) -> dict[str, str | int]:
        """The public inputs without the binding-context fields.

        Example:
            >>> Attestation(statement="mtbf_at_least", public={"hub": "h", "form": "point"}, commitments={},
            ...             proof={}).statement_public()
            {'form': 'point'}
        """
        return {k: v for k, v in self.public.items() if k not in CONTEXT_FIELDS and k != LAB_FIELD}

    def lab_digest(self) -> str | None:
        """The digest of the lab attestation a tier-T2 proof is made over; ``None`` for a T1 proof.

        Example:
            >>> Attestation(statement="mtbf_at_least", public={LAB_FIELD: "abc"}, commitments={},
            ...             proof={}).lab_digest()
            'abc'
        """
        value = self.public.get(LAB_FIELD)
        if value is not None and not isinstance(value, str):
            raise ProofInvalid(
                f"public input {LAB_FIELD} is a digest (a string)", check=f"public input {LAB_FIELD}"
            )
        return value


Statement = CpkStatement | MtbfStatement
"""The statement an attestation proves: :class:`CpkStatement` or :class:`MtbfStatement`.

Example:
    >>> isinstance(MtbfStatement(threshold=Decimal(1), resolution=Decimal(1), form="point", confidence=None,
    ...                          r_max=None), CpkStatement | MtbfStatement)
    True
"""


def parse_statement(att: Attestation) -> Statement:
    """The statement an attestation claims, rebuilt and checked from its public inputs (what the hub compares
    with the agreement: ``threshold``, ``n``, limits).

    Example:
        >>> parse_statement(Attestation(statement="mtbf_at_least", public={}, commitments={}, proof={}))
        Traceback (most recent call last):
        ...
        protocol.zk.errors.ProofInvalid: public input form is 'point' or 'chi2_lower'
    """
    public = att.statement_public()
    if att.statement == cpk.STATEMENT:
        return CpkStatement.from_public(public)
    return MtbfStatement.from_public(public)


def _attest(
    name: str,
    statement: Statement,
    openings: dict[str, Opening],
    context: BindingContext,
    backend: GroupBackend | None,
    vectors: dict[str, VectorOpening] | None = None,
    lab: str | None = None,
) -> Attestation:
    group = backend or default_backend()
    gens = generators(0, group)
    points = {key: opening.commit(gens) for key, opening in openings.items()}
    points.update({key: vector.commit(gens) for key, vector in (vectors or {}).items()})
    encoded = {key: group.encode(point) for key, point in points.items()}
    public = statement.public()
    transcript = statement_transcript(name, context, public, encoded, lab=lab)
    proof = prove_relations(transcript, gens, statement.relations(), openings, points, vectors)
    return Attestation(
        statement=name,
        public={**public, **context.model_dump(), **({} if lab is None else {LAB_FIELD: lab})},
        commitments={key: b64url_encode(data) for key, data in sorted(encoded.items())},
        proof=proof,
    )


def prove_cpk_at_least(
    values: Sequence[Decimal],
    *,
    lsl: Decimal,
    usl: Decimal,
    resolution: Decimal,
    threshold: Decimal,
    subgroups: Sequence[int] | None,
    context: BindingContext,
    backend: GroupBackend | None = None,
) -> Attestation:
    """Prove that ``values`` have capability ≥ ``threshold`` (overall sigma when ``subgroups`` is None, i.e.
    Ppk; pooled within-subgroup sigma over consecutive subgroups of the given sizes otherwise).

    Raises ``ValueError`` when a value or the tolerance is not a multiple of ``resolution`` or the inputs do
    not form a statement, and :class:`WitnessDoesNotMeet` when the data does not meet the threshold.

    Example:
        >>> ctx = BindingContext(hub="h", supplier="s", key_id="k", agreement="a", characteristic="c",
        ...                      period="2026-W48", kpi="cpk", nonce="n")
        >>> prove_cpk_at_least([Decimal("9.95"), Decimal("10.05")], lsl=Decimal("9.9"), usl=Decimal("10.1"),
        ...                    resolution=Decimal("0.01"), threshold=Decimal("1.33"), subgroups=None, context=ctx)
        Traceback (most recent call last):
        ...
        protocol.zk.errors.WitnessDoesNotMeet: the data does not meet CPK >= 1.33 (overall sigma)
    """
    if any(isinstance(x, float) for x in (*values, lsl, usl, resolution, threshold)):
        raise TypeError(
            "measurements, limits and threshold are Decimals: a binary float has no exact decimal value"
        )
    ys = [scaled(Decimal(x) - lsl, resolution, "a measurement - LSL") for x in values]
    statement = CpkStatement(
        n=len(ys),
        lsl=lsl,
        usl=usl,
        resolution=resolution,
        threshold=threshold,
        subgroups=None if subgroups is None else tuple(subgroups),
    )
    if not statement.meets(ys):
        raise WitnessDoesNotMeet(f"the data does not meet CPK >= {threshold} ({statement.form} sigma)")
    openings = statement.openings(ys)
    return _attest(cpk.STATEMENT, statement, openings, context, backend, statement.vector_openings(ys))


def prove_mtbf_at_least(
    *,
    hours: Decimal,
    failures: int,
    threshold: Decimal,
    form: Literal["point", "chi2_lower"],
    confidence: Decimal | None,
    context: BindingContext,
    backend: GroupBackend | None = None,
    resolution: Decimal = DEFAULT_HOURS_RESOLUTION,
    r_max: int | None = None,
) -> Attestation:
    """Prove MTBF ≥ ``threshold`` hours from total test ``hours`` and ``failures``.

    ``form="point"``: T ≥ M·max(r, 1) (no failure needs T ≥ M). ``form="chi2_lower"``: the time-terminated
    lower bound 2T/χ²(C; 2r+2) ≥ M at ``confidence`` C, through a public line above the quantile for r ≤ ``r_max``
    (default: the octave [2^(k-1), 2^k - 1] holding ``failures``, [0, 15] for up to 15 failures, which is all
    the proof reveals about r; an explicit ``r_max`` = 2^k - 1 proves over [0, r_max] instead, looser). T is
    committed rounded down to ``resolution``.

    Example:
        >>> ctx = BindingContext(hub="h", supplier="s", key_id="k", agreement="a", period="2026-11",
        ...                      kpi="mtbf", nonce="n")
        >>> att = prove_mtbf_at_least(hours=Decimal(120000), failures=1, threshold=Decimal(50000),
        ...                           form="chi2_lower", confidence=Decimal("0.6"), context=ctx)
        >>> verify_attestation(att)
        >>> att.public["r_max"]
        15
    """
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
        raise ValueError("failures is a non-negative integer")
    r_min = 0
    if form == "chi2_lower" and r_max is None:
        k = max(4, failures.bit_length())
        if k > MAX_R_BITS:
            raise ValueError(f"the chi-square form supports at most {2**MAX_R_BITS - 1} failures")
        r_max, r_min = (1 << k) - 1, 0 if k == 4 else 1 << (k - 1)
    statement = MtbfStatement(
        threshold=threshold, resolution=resolution, form=form, confidence=confidence, r_max=r_max, r_min=r_min
    )
    ratio = Fraction(Decimal(hours)) / Fraction(resolution)
    hours_scaled = ratio.numerator // ratio.denominator
    if not statement.meets(hours_scaled=hours_scaled, failures=failures):
        raise WitnessDoesNotMeet(f"the test does not meet MTBF >= {threshold} h ({form})")
    openings = statement.openings(hours_scaled=hours_scaled, failures=failures)
    return _attest(mtbf.STATEMENT, statement, dict(openings), context, backend)


def prove_from_openings(
    statement: Statement,
    openings: dict[str, Opening],
    *,
    context: BindingContext,
    vectors: dict[str, VectorOpening] | None = None,
    lab: str | None = None,
    backend: GroupBackend | None = None,
) -> Attestation:
    """Prove ``statement`` over commitments whose openings the caller gives (every commitment the statement
    names; a lab's openings plus the prover's own for the rest) instead of fresh ones; ``lab`` is the digest of
    the lab attestation the proof is bound to (tier T2, :mod:`protocol.zk.lab`). The caller checks the values
    meet the statement: a proof over values that do not would not verify.

    Example:
        >>> st = MtbfStatement(threshold=Decimal(10), resolution=Decimal(1), form="point", confidence=None,
        ...                    r_max=None)
        >>> ctx = BindingContext(hub="h", supplier="s", key_id="k", agreement="a", period="2026-11",
        ...                      kpi="mtbf", nonce="n")
        >>> att = prove_from_openings(st, {"T": Opening(50, 7), "r": Opening(1, 9)}, context=ctx, lab="d")
        >>> verify_attestation(att), att.lab_digest()
        (None, 'd')
    """
    name = cpk.STATEMENT if isinstance(statement, CpkStatement) else mtbf.STATEMENT
    return _attest(name, statement, openings, context, backend, vectors, lab)


def _equations(att: Attestation, expected: BindingContext | None, group: GroupBackend) -> list[Equation]:
    """Every equation of one attestation; ``ProofInvalid`` for anything checked before the group equations."""
    if att.version != VERSION:
        raise ProofInvalid("unknown attestation version", check="version")
    context = att.context()
    if expected is not None and context != expected:
        raise ProofInvalid("the attestation is bound to another context", check="context binding")
    statement = parse_statement(att)
    names = statement.commitment_names() if isinstance(statement, CpkStatement) else ["T", "r"]
    if sorted(att.commitments) != sorted(names):
        raise ProofInvalid(f"the commitments are {', '.join(names)}", check="commitments")
    encoded: dict[str, bytes] = {}
    points: dict[str, Point] = {}
    for name in names:
        try:
            encoded[name] = b64url_decode(att.commitments[name])
            points[name] = group.decode(encoded[name])
        except (EncodingError, InvalidPoint) as exc:
            raise ProofInvalid(
                f"commitment {name} is not a valid point: {exc}", check="point encoding"
            ) from exc
    try:
        transcript = statement_transcript(
            att.statement, context, att.statement_public(), encoded, lab=att.lab_digest()
        )
    except TypeError as exc:  # a public input that is neither an int nor a str (only without validation)
        raise ProofInvalid(str(exc), check="public input") from exc
    return relation_equations(transcript, generators(0, group), statement.relations(), points, att.proof)


def verify_attestation(
    att: Attestation, *, expected: BindingContext | None = None, backend: GroupBackend | None = None
) -> None:
    """Verify one attestation (and, if given, that it is bound to ``expected``); raise ``ProofInvalid``.

    Example:
        >>> att = Attestation(statement="cpk_at_least", public={}, commitments={}, proof={})
        >>> try:
        ...     verify_attestation(att)
        ... except ProofInvalid as exc:
        ...     exc.check
        'context binding'
    """
    group = backend or default_backend()
    equations = _equations(att, expected, group)
    if not all_hold(group, equations):
        failed = first_failing(group, equations)
        raise ProofInvalid(
            "the proof does not verify", check=failed.name if failed is not None else "proof equations"
        )


def verify_attestations(
    atts: Sequence[Attestation], backend: GroupBackend | None = None
) -> list[ProofInvalid | None]:
    """Verify many attestations in one multi-scalar multiplication with random weights.

    Returns one entry per attestation: ``None`` when it verifies, else the ``ProofInvalid`` naming the failed
    check. When the combined check fails, each attestation is re-checked on its own to find the culprits.

    Example:
        >>> verify_attestations([])
        []
    """
    group = backend or default_backend()
    results: list[ProofInvalid | None] = [None] * len(atts)
    prepared: list[tuple[int, list[Equation]]] = []
    for index, att in enumerate(atts):
        try:
            prepared.append((index, _equations(att, None, group)))
        except ProofInvalid as exc:
            results[index] = exc
    equations = [eq for _, eqs in prepared for eq in eqs]
    if not equations or combined_holds(group, equations, random_weights(len(equations))):
        return results
    for index, eqs in prepared:
        if not all_hold(group, eqs):
            failed = first_failing(group, eqs)
            results[index] = ProofInvalid(
                "the proof does not verify", check=failed.name if failed is not None else "proof equations"
            )
    return results


__all__ = [
    "DEFAULT_HOURS_RESOLUTION",
    "LAB_FIELD",
    "VERSION",
    "Attestation",
    "BindingContext",
    "Statement",
    "parse_statement",
    "prove_cpk_at_least",
    "prove_from_openings",
    "prove_mtbf_at_least",
    "verify_attestation",
    "verify_attestations",
]
