"""KPI-ZK attestations from local data: prove "CPK ≥ t" or "MTBF ≥ M" without sending a measurement.

These wrap the provers of :mod:`protocol.zk.attestation` (the very code the hub verifies with) and read data
the way ``supplier-sdk kpi capability`` does:

- :func:`attest_capability` commits to the aggregates of a characteristic's measurements (Σy, Σy², (Σy)², and
  the per-subgroup sums for the pooled within-subgroup sigma) and proves CPK ≥ t. Values are first rounded to
  the characteristic's ``resolution`` (the proof works on integers in that unit). Subgroups of consecutive
  values (``subgroup_size``) or consecutive equal labels (``subgroup_labels``) select the pooled
  within-subgroup sigma; without subgroups the overall sigma is used (that is Ppk, which is how PPK is proven,
  and a conservative stand-in for CPK of individual values);
- :func:`attest_mtbf` commits to the total test time and failure count and proves MTBF ≥ M, as the point
  estimate T/r or (``form="chi2_lower"``) the chi-square lower bound at ``confidence``;
- :func:`attach` puts an attestation into a report payload (``proof``, ``commitments`` in name order and the
  ``hub_nonce``); :func:`attest_report` builds the proof a report's claim needs, from the same data;
- :func:`verify_file` checks a proof file as the hub would check the proof (without the hub's context checks).

A proof is bound to a :class:`~protocol.zk.attestation.BindingContext`: hub, supplier and key id, agreement,
characteristic, period, KPI and the hub's nonce for that period (``client.kpi_reports.attestation_context``). For offline
use :func:`load_context` fills what a ``--context`` file leaves out from :data:`OFFLINE_CONTEXT`.

A proof file holds the statement, its public inputs (threshold, limits, resolution, n, subgroup sizes, the
binding context), the commitments and the proof; never a measurement nor the KPI's value.

Example:
    >>> import numpy as np
    >>> values = np.round(np.random.default_rng(1).normal(25.0, 0.003, 50), 3)
    >>> context = load_context(None, kpi="cpk")
    >>> proof = attest_capability(values, lsl=Decimal("24.98"), usl=Decimal("25.02"),
    ...                           resolution=Decimal("0.001"), threshold=Decimal("1.33"), context=context)
    >>> proof.statement, proof.public["threshold"], verify_file(proof) is proof
    ('cpk_at_least', '1.33', True)
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from protocol.models.agreements import Agreement, Characteristic
from protocol.models.common import DisclosureMode, KpiName
from protocol.models.kpi import KpiReportPayload
from protocol.zk.attestation import (
    Attestation,
    BindingContext,
    prove_cpk_at_least,
    prove_mtbf_at_least,
    verify_attestation,
)
from protocol.zk.errors import ProofInvalid, WitnessDoesNotMeet
from supplier_sdk.errors import AgreementMismatch
from supplier_sdk.kpi import KpiInputError
from supplier_sdk.kpi.subgroups import FloatArray, split_subgroups
from supplier_sdk.reports import ZERO_FAILURE_CONFIDENCE

STATEMENTS: dict[KpiName, str] = {
    KpiName.CPK: "cpk_at_least",
    KpiName.PPK: "cpk_at_least",
    KpiName.MTBF: "mtbf_at_least",
}
"""The KPI-ZK statement that proves each KPI meets its threshold (PPM has none).

Example:
    >>> STATEMENTS[KpiName.MTBF]
    'mtbf_at_least'
"""

PROVING_MODES = (DisclosureMode.THRESHOLD, DisclosureMode.VALUE_AND_PROOF)
"""The disclosure modes under which a report that meets its threshold carries a proof.

Example:
    >>> DisclosureMode.THRESHOLD in PROVING_MODES, DisclosureMode.VALUE in PROVING_MODES
    (True, False)
"""

OFFLINE_CONTEXT: dict[str, str] = {
    "hub": "offline",
    "supplier": "offline",
    "key_id": "offline",
    "agreement": "offline",
    "characteristic": "",
    "period": "offline",
    "kpi": "",
    "nonce": "offline",
}
"""The binding fields a ``--context`` file may leave out, for proofs made and checked offline.

``kpi`` defaults to the statement's KPI (``cpk`` or ``mtbf``). A proof made under these defaults verifies
offline (``supplier-sdk verify``) but no hub accepts it: a hub expects its own id, your organization and key,
the agreement, the period and its nonce (``GET /v1/agreements/{id}/attestation-context`` returns exactly these
fields, as a file ``--context`` reads).

Example:
    >>> OFFLINE_CONTEXT["hub"], OFFLINE_CONTEXT["nonce"]
    ('offline', 'offline')
"""


def load_context(
    source: str | Path | dict[str, Any] | None, *, kpi: str, characteristic: str | None = None
) -> BindingContext:
    """A binding context from a JSON file (or a dict), with :data:`OFFLINE_CONTEXT` for what it leaves out.

    Args:
        source: a path to a JSON object, the object itself, or ``None`` for all defaults.
        kpi: the KPI when the source does not name one (``cpk``, ``ppk`` or ``mtbf``).
        characteristic: the characteristic when the source does not name one.

    Raises:
        ValueError: the file cannot be read, is not a JSON object, or has unknown or non-string fields.

    Example:
        >>> load_context({"period": "2026-W48"}, kpi="cpk").period
        '2026-W48'
    """
    given: Any = source
    if isinstance(source, str | Path):
        try:
            given = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"context file {source}: {exc}") from exc
    given = {} if given is None else given
    if not isinstance(given, dict):
        raise ValueError("a binding context must be a JSON object")
    unknown = sorted(set(given) - set(OFFLINE_CONTEXT))
    if unknown:
        raise ValueError(f"unknown binding context field(s): {', '.join(unknown)}")
    fields = {**OFFLINE_CONTEXT, "kpi": kpi, "characteristic": characteristic or "", **given}
    try:
        return BindingContext.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"binding context {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


def _decimal(value: Decimal | float | int | str, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise KpiInputError(f"{name} must be a decimal number, not {value!r}") from exc
    if not number.is_finite():
        raise KpiInputError(f"{name} must be finite, not {value!r}")
    return number


def to_resolution(values: FloatArray | Sequence[float | Decimal], resolution: Decimal) -> list[Decimal]:
    """Measurements as decimals rounded (half to even) to the measurement resolution, as the proof needs them.

    Example:
        >>> to_resolution([25.0012, 24.9996], Decimal("0.001"))
        [Decimal('25.001'), Decimal('25.000')]
    """
    if resolution <= 0:
        raise KpiInputError(f"resolution must be positive, not {resolution}")
    out = []
    for index, value in enumerate(values):
        number = _decimal(value if isinstance(value, Decimal) else repr(float(value)), f"value {index + 1}")
        steps = (number / resolution).to_integral_value(ROUND_HALF_EVEN)
        out.append((steps * resolution).quantize(resolution))
    return out


def subgroup_sizes(
    count: int, *, subgroup_size: int | None = None, subgroup_labels: Sequence[object] | None = None
) -> list[int] | None:
    """Sizes of consecutive subgroups, or ``None`` for individual values (the overall sigma is proven).

    Example:
        >>> subgroup_sizes(6, subgroup_size=3), subgroup_sizes(3, subgroup_labels=["a", "a", "b"]), subgroup_sizes(4)
        ([3, 3], [2, 1], None)
    """
    if subgroup_size is None and subgroup_labels is None:
        return None
    sizes = [
        int(s)
        for s in split_subgroups(
            [0.0] * count, subgroup_size=subgroup_size, subgroup_labels=subgroup_labels
        ).sizes
    ]
    return None if all(size == 1 for size in sizes) else sizes


def attest_capability(
    values: FloatArray | Sequence[float | Decimal],
    *,
    lsl: Decimal,
    usl: Decimal,
    resolution: Decimal,
    threshold: Decimal,
    context: BindingContext,
    subgroup_size: int | None = None,
    subgroup_labels: Sequence[object] | None = None,
    backend: Any = None,
) -> Attestation:
    """Prove CPK ≥ ``threshold`` (``cpk_at_least``) over the measurements, without revealing them.

    Raises:
        WitnessDoesNotMeet: the (rounded) data do not meet the threshold: no proof exists.
        KpiInputError: fewer than two values, bad subgroups, limits or resolution.

    Example::

        proof = attest_capability(values, lsl=Decimal("24.98"), usl=Decimal("25.02"), resolution=Decimal("0.001"),
                                  threshold=Decimal("1.33"), subgroup_size=5, context=hub.kpi_reports.attestation_context(...))
    """
    if lsl >= usl:
        raise KpiInputError(f"LSL ({lsl}) must be below USL ({usl})")
    scaled = to_resolution(values, resolution)
    if len(scaled) < 2:
        raise KpiInputError(f"a capability proof needs at least 2 values, got {len(scaled)}")
    sizes = subgroup_sizes(len(scaled), subgroup_size=subgroup_size, subgroup_labels=subgroup_labels)
    return prove_cpk_at_least(
        scaled,
        lsl=lsl,
        usl=usl,
        resolution=resolution,
        threshold=threshold,
        subgroups=sizes,
        context=context,
        backend=backend,
    )


def attest_mtbf(
    *,
    hours: Decimal | float | str,
    failures: int,
    threshold: Decimal,
    context: BindingContext,
    form: Literal["point", "chi2_lower"] = "point",
    confidence: Decimal | None = None,
    backend: Any = None,
) -> Attestation:
    """Prove MTBF ≥ ``threshold`` hours (``mtbf_at_least``) from a test's total hours and failures.

    ``form="point"`` proves T ≥ M·max(r, 1) (the point estimate T/r; T ≥ M without failures);
    ``"chi2_lower"`` proves the chi-square lower bound at ``confidence`` (e.g. ``Decimal("0.6")``) reaches M.

    Raises:
        WitnessDoesNotMeet: the test does not demonstrate the threshold.
        KpiInputError: non-positive hours, a negative failure count, or a confidence outside (0, 1).

    Example::

        proof = attest_mtbf(hours="120000", failures=1, threshold=Decimal("50000"), context=context)
    """
    total = _decimal(hours, "hours")
    if total <= 0:
        raise KpiInputError(f"hours must be positive, not {hours}")
    if isinstance(failures, bool) or failures < 0:
        raise KpiInputError(f"failures must be a whole number ≥ 0, not {failures!r}")
    if form == "chi2_lower" and (confidence is None or not 0 < confidence < 1):
        raise KpiInputError("the chi2_lower form needs a confidence between 0 and 1")
    return prove_mtbf_at_least(
        hours=total,
        failures=failures,
        threshold=threshold,
        form=form,
        confidence=confidence if form == "chi2_lower" else None,
        context=context,
        backend=backend,
    )


def read_proof(source: str | Path | Attestation | dict[str, Any]) -> Attestation:
    """A proof file (JSON) as an :class:`~protocol.zk.attestation.Attestation`.

    Raises:
        ValueError: the file cannot be read, or is not a KPI-ZK/1 attestation (the message names the field).

    Example::

        attestation = read_proof("cpk-2026-W48.json")
    """
    if isinstance(source, Attestation):
        return source
    try:
        if isinstance(source, dict):
            return Attestation.model_validate(source)
        return Attestation.model_validate_json(Path(source).read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read proof file {source}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"not a KPI-ZK/1 proof: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


def verify_file(source: str | Path | Attestation | dict[str, Any], *, backend: Any = None) -> Attestation:
    """Verify a proof the way the hub's last check does; return it, or raise ``ProofInvalid`` naming the check.

    The hub also checks that the threshold and limits are the agreement's and that the context is its own;
    here the proof is checked against the context written in it.

    Example::

        try:
            verify_file("proof.json")
        except ProofInvalid as exc:
            print("invalid:", exc.check)
    """
    attestation = read_proof(source)
    verify_attestation(attestation, backend=backend)
    return attestation


_HUB_NONCE = re.compile(r"[A-Za-z0-9_-]{43}")  # what a hub issues: 32 HMAC bytes, base64url


def attach(payload: KpiReportPayload, attestation: Attestation) -> KpiReportPayload:
    """The payload with the attestation as ``proof``, its commitments (in name order) and the hub nonce.

    Example::

        payload = attach(build_capability_report(...), proof)
        hub.kpi_reports.submit(payload)
    """
    commitments = [attestation.commitments[name] for name in sorted(attestation.commitments)]
    nonce = attestation.context().nonce
    fields = payload.model_dump(mode="json")
    fields.update(
        proof=attestation.model_dump(mode="json"),
        commitments=commitments,
        hub_nonce=nonce if _HUB_NONCE.fullmatch(nonce) else None,  # an offline nonce is no hub's
    )
    return KpiReportPayload.model_validate(fields)


def needs_proof(agreement: Agreement, payload: KpiReportPayload) -> bool:
    """Whether the agreement asks this report for a proof: a 'meets' claim under ``threshold`` or
    ``value+proof`` disclosure, for a KPI that KPI-ZK can prove.

    Example::

        if needs_proof(agreement, payload):
            payload = attest_report(payload, agreement=agreement, context=..., values=diameters)
    """
    term = next((t for t in agreement.kpis if t.kpi is payload.kpi), None)
    return (
        term is not None
        and term.disclosure in PROVING_MODES
        and payload.claim.meets
        and payload.kpi in STATEMENTS
    )


def _spec(agreement: Agreement, code: str | None) -> Characteristic:
    spec = next((c for c in agreement.characteristics if c.code == code), None)
    if spec is None:
        raise AgreementMismatch(f"agreement {agreement.id} has no characteristic {code!r}")
    if spec.lsl is None or spec.usl is None:
        raise AgreementMismatch(
            f"characteristic {spec.code} has a one-sided specification; KPI-ZK v1 proves two-sided CPK only"
        )
    return spec


def attest_report(
    payload: KpiReportPayload,
    *,
    agreement: Agreement,
    context: BindingContext,
    values: FloatArray | Sequence[float | Decimal] | None = None,
    subgroup_size: int | None = None,
    subgroup_labels: Sequence[object] | None = None,
    hours: Decimal | float | str | None = None,
    failures: int | None = None,
    backend: Any = None,
) -> KpiReportPayload:
    """Prove the report's claim from the data it was built from, and attach the proof (:func:`attach`).

    The threshold, limits and resolution come from the agreement, as the hub will check them. CPK is proven
    with the pooled within-subgroup sigma when subgroups are given; PPK (and CPK of individual values) with the
    overall sigma; MTBF in the form and at the confidence the agreement's MTBF term fixes
    (``mtbf_proof_form``, ``confidence``), else with the point estimate, or for a test without failures the
    60 % chi-square bound the report claims (:data:`supplier_sdk.reports.ZERO_FAILURE_CONFIDENCE`, also the
    confidence of a fixed chi-square form without one). The hub refuses any other form or confidence.

    Raises:
        WitnessDoesNotMeet: the data do not meet the threshold (the claim should then say so, with no proof).
        AgreementMismatch: the KPI cannot be proven here (PPM, a one-sided specification).

    Example::

        context = hub.kpi_reports.attestation_context(agreement.id, kpi="cpk", period="2026-W48", characteristic="DIA-01")
        payload = attest_report(payload, agreement=agreement, context=context, values=diameters, subgroup_size=5)
    """
    threshold = payload.claim.threshold
    if payload.kpi is KpiName.MTBF:
        if hours is None or failures is None:
            raise KpiInputError("an MTBF proof needs the test's hours and failures")
        term = next((t for t in agreement.kpis if t.kpi is KpiName.MTBF), None)
        form = term.mtbf_proof_form if term is not None else None
        if form is None:
            form = "chi2_lower" if failures == 0 else "point"
        confidence = None
        if form == "chi2_lower":
            fixed = term.confidence if term is not None else None
            confidence = fixed if fixed is not None else Decimal(str(ZERO_FAILURE_CONFIDENCE))
        attestation = attest_mtbf(
            hours=hours,
            failures=failures,
            threshold=threshold,
            form=form,
            confidence=confidence,
            context=context,
            backend=backend,
        )
        return attach(payload, attestation)
    if payload.kpi not in STATEMENTS:
        raise AgreementMismatch(f"KPI-ZK has no statement for {payload.kpi.value}")
    if values is None:
        raise KpiInputError(f"a {payload.kpi.value} proof needs the measurements")
    spec = _spec(agreement, payload.characteristic)
    assert spec.lsl is not None and spec.usl is not None
    grouped = payload.kpi is KpiName.CPK
    attestation = attest_capability(
        values,
        lsl=spec.lsl,
        usl=spec.usl,
        resolution=spec.resolution,
        threshold=threshold,
        context=context,
        subgroup_size=subgroup_size if grouped else None,
        subgroup_labels=subgroup_labels if grouped else None,
        backend=backend,
    )
    return attach(payload, attestation)


__all__ = [
    "OFFLINE_CONTEXT",
    "PROVING_MODES",
    "STATEMENTS",
    "Attestation",
    "BindingContext",
    "ProofInvalid",
    "WitnessDoesNotMeet",
    "attach",
    "attest_capability",
    "attest_mtbf",
    "attest_report",
    "load_context",
    "needs_proof",
    "read_proof",
    "subgroup_sizes",
    "to_resolution",
    "verify_file",
]
