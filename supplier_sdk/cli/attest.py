"""``supplier-sdk attest`` and ``supplier-sdk verify``: KPI-ZK proofs made and checked offline.

Commands::

    attest cpk  --data FILE [--column NAME] --lsl X --usl Y --resolution R
                [--subgroup-size N | --subgroup-column NAME] --threshold T [--context FILE] --out PROOF.json
    attest mtbf --hours H --failures R --threshold M [--form point|chi2-lower --confidence C]
                [--context FILE] --out PROOF.json
    attest context --agreement ID --kpi cpk|ppk|mtbf --period P [--characteristic CODE] [--out CTX.json]
    verify PROOF.json

The data options are those of ``supplier-sdk kpi capability``. ``--context`` is a JSON object with the binding
fields (``hub``, ``supplier``, ``key_id``, ``agreement``, ``characteristic``, ``period``, ``kpi``, ``nonce``),
for instance the answer of ``GET /v1/agreements/{id}/attestation-context``; fields it leaves out take the
offline defaults of :data:`supplier_sdk.attest.OFFLINE_CONTEXT` (a hub accepts only its own context).
``attest context`` fetches that answer from the hub (credentials as for ``report submit``), so that the proof can
be made later on a machine without network, and sent with ``report submit --proof PROOF.json``. The proof file
holds the statement, its public inputs, commitments and proof; never a measurement.

Exit status: ``attest`` 0 when the proof is written, 2 for bad input **or data that do not meet the
threshold** (one ``error: ...`` line; no file is written); ``verify`` 0 and ``valid: ...`` for a valid proof,
1 and ``invalid: <check>: ...`` for an invalid one, 2 for a file that cannot be read.

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> result = CliRunner().invoke(cli, ["attest", "mtbf", "--hours", "100", "--failures", "1",
    ...                                   "--threshold", "5000", "--out", "/tmp/never-written.json"])
    >>> result.exit_code, result.stderr.startswith("error: the data do not meet the threshold")
    (2, True)
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from protocol.encoding import canonical_bytes
from supplier_sdk.attest import (
    Attestation,
    BindingContext,
    ProofInvalid,
    WitnessDoesNotMeet,
    attest_capability,
    attest_mtbf,
    load_context,
    read_proof,
    verify_file,
)
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import (
    ClientIdOption,
    ColumnOption,
    EncKeyFileOption,
    HubOption,
    KeyFileOption,
    SubgroupColumnOption,
    SubgroupSizeOption,
)
from supplier_sdk.cli.report import KpiOption, describe_refusal, not_sent, open_client, resolve_config
from supplier_sdk.errors import HubError, HubUnreachable
from supplier_sdk.kpi import read_measurements

app = typer.Typer(
    name="attest",
    help="Prove CPK ≥ t or MTBF ≥ M in zero knowledge, offline; the proof file holds no measurement.",
    no_args_is_help=True,
)

EXIT_INVALID = 1
"""``supplier-sdk verify`` exit status for a proof that does not verify.

Example:
    >>> EXIT_INVALID
    1
"""


class FormOption(StrEnum):
    """The MTBF statement's forms (``--form``): the point estimate T/r or the chi-square lower bound.

    Example:
        >>> [option.value for option in FormOption]
        ['point', 'chi2-lower']
    """

    point = "point"
    chi2_lower = "chi2-lower"


ContextOption = Annotated[
    Path | None,
    typer.Option(
        "--context", help="JSON binding context (hub's attestation-context answer); default offline."
    ),
]
OutOption = Annotated[Path, typer.Option("--out", help="Where to write the proof (JSON).")]
ThresholdOption = Annotated[
    str, typer.Option("--threshold", help="The threshold to prove (the agreement's).")
]


def _number(text: str, option: str, *, positive: bool = False, signed: bool = False) -> Decimal:
    """``text`` as a finite decimal: positive, or (``signed``) any sign, else at least zero."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        fail(f"{option} must be a decimal number, not {text!r}")
    if not number.is_finite() or (positive and number <= 0) or (not signed and number < 0):
        kind = "positive" if positive else "finite" if signed else "non-negative"
        fail(f"{option} must be a {kind} decimal number, not {text!r}")
    return number


def write_proof(attestation: Attestation, out: Path) -> int:
    """Write the proof as canonical JSON, atomically (a half-written proof file never exists); return its size.

    Example::

        size = write_proof(attestation, Path("proof.json"))
    """
    data = canonical_bytes(attestation.model_dump(mode="json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(data)


def _context(path: Path | None, kpi: str) -> BindingContext:
    try:
        return load_context(path, kpi=kpi)
    except ValueError as exc:
        fail(str(exc))


@contextmanager
def _proving(claim: str) -> Iterator[None]:
    """Exit 2 when the inputs form no statement or the data do not meet ``claim`` (no proof is written)."""
    try:
        yield
    # KpiInputError, or inputs that form no statement (limits off the resolution, ...)
    except ValueError as exc:
        fail(str(exc))
    except WitnessDoesNotMeet as exc:
        fail(f"the data do not meet the threshold {claim}: {exc}; no proof written")


LabAttestationOption = Annotated[
    Path | None,
    typer.Option("--lab-attestation", help="A lab's signed measurement: prove over its commitments (T2)."),
]
OpeningsOption = Annotated[
    Path | None, typer.Option("--openings", help="The lab's openings, sealed to your X25519 key (T2).")
]


def _from_lab(
    lab_attestation: Path,
    openings: Path | None,
    enc_key_file: Path | None,
    *,
    threshold: Decimal,
    context: Path | None,
    form: str = "point",
    confidence: Decimal | None = None,
) -> Attestation:
    """A T2 proof over a lab's measurement; without ``--context``, bound to the measurement's own binding."""
    from protocol.models.labs import SealedOpenings
    from protocol.zk.lab import read_measurement
    from supplier_sdk.lab import open_openings, prove_from_lab, read_lab_attestation
    from supplier_sdk.rooms.crypto import DatasetIntegrityError
    from supplier_sdk.rooms.keywrap import load_encryption_key

    if openings is None or enc_key_file is None:
        fail("--lab-attestation needs --openings (sealed to you) and --enc-key-file (your X25519 key)")
    try:
        envelope = read_lab_attestation(str(lab_attestation))
        measurement = read_measurement(envelope)
        sealed = SealedOpenings.model_validate_json(openings.read_bytes())
        secrets = open_openings(
            sealed,
            private_key=load_encryption_key(enc_key_file.read_bytes()),
            agreement_id=measurement.agreement_id,
        )
    except (OSError, ValueError, ProofInvalid, DatasetIntegrityError) as exc:
        fail(f"cannot use the lab's measurement: {exc}")
    binding = (
        _context(context, measurement.kpi.value)
        if context is not None
        else BindingContext(
            hub=measurement.hub,
            supplier=str(measurement.supplier_id),
            key_id="offline",
            agreement=str(measurement.agreement_id),
            characteristic=measurement.characteristic,
            period=measurement.period,
            kpi=measurement.kpi.value,
            nonce=measurement.nonce,
        )
    )
    with _proving(f"{measurement.kpi.value} ≥ {threshold} from the lab's measurement"):
        return prove_from_lab(
            envelope,
            secrets,
            threshold=threshold,
            context=binding,
            form="chi2_lower" if form == "chi2_lower" else "point",
            confidence=confidence,
        )


@app.command("cpk")
def cpk_command(
    threshold: ThresholdOption,
    out: OutOption,
    data: Annotated[Path | None, typer.Option("--data", help="CSV of measurements.")] = None,
    lsl: Annotated[str | None, typer.Option("--lsl", help="Lower specification limit.")] = None,
    usl: Annotated[str | None, typer.Option("--usl", help="Upper specification limit.")] = None,
    resolution: Annotated[
        str | None, typer.Option("--resolution", help="Measurement resolution, e.g. 0.001.")
    ] = None,
    column: ColumnOption = None,
    subgroup_size: SubgroupSizeOption = None,
    subgroup_column: SubgroupColumnOption = None,
    context: ContextOption = None,
    lab_attestation: LabAttestationOption = None,
    openings: OpeningsOption = None,
    enc_key_file: EncKeyFileOption = None,
) -> None:
    """Prove CPK ≥ T over a measurement file without revealing a value (pooled sigma with subgroups), or (T2,
    ``--lab-attestation``) over the commitments of a lab's signed measurement.

    Example: supplier-sdk attest cpk --data dia.csv --column value --lsl 24.98 --usl 25.02 --resolution 0.001
    --subgroup-size 5 --threshold 1.33 --context ctx.json --out cpk-W48.json;
    supplier-sdk attest cpk --lab-attestation lab-W48.json --openings sealed-W48.json --enc-key-file enc.key
    --threshold 1.33 --context ctx.json --out cpk-W48.json
    """
    if lab_attestation is not None:
        t = _number(threshold, "--threshold")
        proof = _from_lab(lab_attestation, openings, enc_key_file, threshold=t, context=context)
        size = write_proof(proof, out)
        typer.echo(
            f"proved CPK ≥ {t} over the lab's commitments ({proof.public.get('n')} values) → {out} "
            f"({size} bytes, no measurement inside)"
        )
        return
    if data is None or lsl is None or usl is None or resolution is None:
        fail("attest cpk needs --data, --lsl, --usl and --resolution (or --lab-attestation)")
    if subgroup_size is not None and subgroup_column is not None:
        fail("give either --subgroup-size or --subgroup-column, not both")
    low, high = _number(lsl, "--lsl", signed=True), _number(usl, "--usl", signed=True)
    step, t = _number(resolution, "--resolution", positive=True), _number(threshold, "--threshold")
    binding = _context(context, "cpk")
    with _proving(f"CPK ≥ {t}"):
        measured = read_measurements(data, column=column, subgroup_column=subgroup_column)
        attestation = attest_capability(
            measured.values,
            lsl=low,
            usl=high,
            resolution=step,
            threshold=t,
            context=binding,
            subgroup_size=subgroup_size,
            subgroup_labels=measured.labels,
        )
    size = write_proof(attestation, out)
    groups = str(attestation.public.get("subgroups") or "")
    about = f"{attestation.public.get('n')} values" + (
        f" in {groups.count(',') + 1} subgroups" if groups else ""
    )
    typer.echo(f"proved CPK ≥ {t} over {about} → {out} ({size} bytes, no measurement inside)")


@app.command("mtbf")
def mtbf_command(
    hours: Annotated[str, typer.Option("--hours", help="Total accumulated test hours.")],
    failures: Annotated[int, typer.Option("--failures", help="Failures observed.")],
    threshold: ThresholdOption,
    out: OutOption,
    form: Annotated[FormOption, typer.Option("--form", help="point (T/r) or chi2-lower.")] = FormOption.point,
    confidence: Annotated[
        str | None, typer.Option("--confidence", help="Confidence of the chi2-lower form, e.g. 0.6.")
    ] = None,
    context: ContextOption = None,
    lab_attestation: LabAttestationOption = None,
    openings: OpeningsOption = None,
    enc_key_file: EncKeyFileOption = None,
) -> None:
    """Prove MTBF ≥ M hours from a life test's hours and failures, without revealing them; or (T2,
    ``--lab-attestation``) from a reliability lab's signed test (``--hours``/``--failures`` are then ignored).

    Example: supplier-sdk attest mtbf --hours 120000 --failures 1 --threshold 50000 --out mtbf-2026-11.json
    """
    if lab_attestation is not None:
        m = _number(threshold, "--threshold")
        level = None if confidence is None else _number(confidence, "--confidence", positive=True)
        chosen = "point" if form is FormOption.point else "chi2_lower"
        proof = _from_lab(
            lab_attestation,
            openings,
            enc_key_file,
            threshold=m,
            context=context,
            form=chosen,
            confidence=level,
        )
        size = write_proof(proof, out)
        typer.echo(f"proved MTBF ≥ {m} h over the lab's commitments → {out} ({size} bytes)")
        return
    total, m = _number(hours, "--hours", positive=True), _number(threshold, "--threshold")
    if failures < 0:
        fail(f"--failures must be 0 or more, not {failures}")
    if form is FormOption.point and confidence is not None:
        fail("--confidence belongs to --form chi2-lower")
    level = None if confidence is None else _number(confidence, "--confidence", positive=True)
    if form is FormOption.chi2_lower and (level is None or level >= 1):
        fail("--form chi2-lower needs --confidence between 0 and 1")
    binding = _context(context, "mtbf")
    with _proving(f"MTBF ≥ {m} h"):
        attestation = attest_mtbf(
            hours=total,
            failures=failures,
            threshold=m,
            form="point" if form is FormOption.point else "chi2_lower",
            confidence=level,
            context=binding,
        )
    size = write_proof(attestation, out)
    typer.echo(f"proved MTBF ≥ {m} h ({form.value}) → {out} ({size} bytes, no test data inside)")


@app.command("context")
def context_command(
    agreement_id: Annotated[str, typer.Option("--agreement", help="The supply agreement's id.")],
    kpi: Annotated[KpiOption, typer.Option("--kpi", help="The KPI the proof is for (cpk, ppk, mtbf).")],
    period: Annotated[str, typer.Option("--period", help="ISO week (2026-W48) or month (2026-11).")],
    characteristic: Annotated[
        str | None, typer.Option("--characteristic", help="Characteristic code (cpk, ppk).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the context here (default: stdout).")
    ] = None,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Fetch the binding context (with the hub's nonce) a proof for this period must be made under.

    Example: supplier-sdk attest context --agreement 0193… --kpi cpk --period 2026-W48 --characteristic DIA-01
    --out ctx.json
    """
    try:
        agreement_uuid = uuid.UUID(agreement_id)
    except ValueError:
        fail(f"--agreement must be an agreement id (a UUID), not {agreement_id!r}")
    config = resolve_config(hub=hub, client_id=client_id, key_file=key_file, outbox=None)
    with open_client(config) as client:
        try:
            context = client.kpi_reports.attestation_context(
                agreement_uuid, kpi=kpi.value, period=period, characteristic=characteristic
            )
        except HubError as exc:
            if exc.unavailable:
                not_sent(str(exc))
            fail(f"hub refused: {describe_refusal(exc)}")
        except HubUnreachable as exc:
            not_sent(str(exc))
    text = json.dumps(context.model_dump(mode="json"), indent=2)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    typer.echo(f"context for {kpi.value} {period} written to {out} (nonce {context.nonce[:12]}…)")


def verify_command(
    proof: Annotated[Path, typer.Argument(help="The proof file (JSON).", show_default=False)],
    lab_attestation: LabAttestationOption = None,
) -> None:
    """Verify a KPI-ZK proof file: exit 0 and "valid", or exit 1 and the failed check. A T2 proof is checked
    with ``--lab-attestation``: the lab's signature, that the proof is over exactly its commitments, the proof.

    Example: supplier-sdk verify cpk-W48.json --lab-attestation lab-W48.json
    """
    try:
        raw = proof.read_bytes()
    except OSError as exc:
        fail(f"cannot read {proof}: {exc.strerror or exc}")
    try:
        attestation = read_proof(_as_dict(raw))
        if lab_attestation is not None:
            from supplier_sdk.lab import read_lab_attestation, verify_t2

            verify_t2(attestation, read_lab_attestation(str(lab_attestation)))
        elif attestation.lab_digest() is not None:
            raise ProofInvalid(
                "a proof over a lab's measurement (T2) is verified with --lab-attestation",
                check="lab attestation",
            )
        else:
            verify_file(attestation)
    except ValueError as exc:
        typer.echo(f"invalid: format: {exc}")
        raise typer.Exit(code=EXIT_INVALID) from None
    except ProofInvalid as exc:
        typer.echo(f"invalid: {exc.check}: {exc}")
        raise typer.Exit(code=EXIT_INVALID) from None
    public = attestation.public
    context = attestation.context()
    origin = "" if lab_attestation is None else ", from the lab's signed measurement"
    typer.echo(
        f"valid: {attestation.statement} threshold {public.get('threshold')} "
        f"(hub {context.hub}, supplier {context.supplier}, period {context.period}, kpi {context.kpi}{origin})"
    )


def _as_dict(raw: bytes) -> dict[str, Any]:
    try:
        loaded = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ValueError("a proof file is a JSON object")
    return loaded


__all__ = [
    "EXIT_INVALID",
    "FormOption",
    "app",
    "cpk_command",
    "mtbf_command",
    "verify_command",
    "write_proof",
]
