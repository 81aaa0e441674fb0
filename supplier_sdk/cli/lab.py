"""``supplier-sdk lab``: a lab's measurement attestations (KPI-ZK tier T2), made offline and issued to the hub.

Commands::

    lab context --agreement ID --kpi cpk|ppk|mtbf --part P --period W [--characteristic C] --out CTX.json
    lab attest cpk  --data FILE [--column NAME] [--subgroup-size N | --subgroup-column NAME] --context CTX.json
                    --lab-key FILE --lot L [--lot L2 ...] --measured-on DATE --method M --instrument I
                    --out MEASUREMENT.json --openings-out SEALED.json
    lab attest mtbf --hours H --failures R --context CTX.json --lab-key FILE --lot L --measured-on DATE
                    --method M --instrument I --out MEASUREMENT.json --openings-out SEALED.json
    lab issue --attestation MEASUREMENT.json --openings SEALED.json

``CTX.json`` is the hub's measurement context (``lab context``): the supplier, agreement, part, characteristic,
KPI, period, the hub's nonce for that period, the characteristic's limits and the supplier's X25519 key. The
measurement file is the signed envelope (commitments, never a value); the openings are written only sealed to
the supplier's key, so that neither the hub nor anyone else on the way can read them. The supplier proves with
``supplier-sdk attest cpk --lab-attestation MEASUREMENT.json --openings SEALED.json``.

Exit status: 0 when written (or issued), 2 for bad input (one ``error: ...`` line; nothing is written).

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> result = CliRunner().invoke(cli, ["lab", "attest", "mtbf", "--hours", "100", "--failures", "1",
    ...     "--context", "/nonexistent.json", "--lab-key", "/nonexistent.key", "--lot", "L1",
    ...     "--measured-on", "2026-11-20", "--method", "m", "--instrument", "i", "--out", "/tmp/m.json",
    ...     "--openings-out", "/tmp/o.json"])
    >>> result.exit_code, result.stderr.startswith("error: cannot read the context")
    (2, True)
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from protocol.encoding import canonical_bytes
from protocol.errors import InvalidKey
from protocol.models.labs import LabMeasurementContext, SealedOpenings
from protocol.signing import SignedEnvelope, load_private_key
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import (
    ClientIdOption,
    ColumnOption,
    HubOption,
    KeyFileOption,
    SubgroupColumnOption,
    SubgroupSizeOption,
)
from supplier_sdk.cli.report import KpiOption, describe_refusal, not_sent, open_client, resolve_config
from supplier_sdk.errors import HubError, HubUnreachable
from supplier_sdk.kpi import KpiInputError, read_measurements
from supplier_sdk.lab import measure_capability, measure_reliability, read_lab_attestation, seal_openings

app = typer.Typer(help="Lab measurement attestations (KPI-ZK T2): measure, commit, sign, seal, issue.")
attest_app = typer.Typer(help="Make a signed measurement attestation offline.")
app.add_typer(attest_app, name="attest")

LabContextOption = Annotated[Path, typer.Option("--context", help="The hub's measurement context (JSON).")]
LabKeyOption = Annotated[Path, typer.Option("--lab-key", help="The lab's Ed25519 private key file.")]
LotOption = Annotated[list[str], typer.Option("--lot", help="A lot measured (repeat for several).")]
MeasuredOnOption = Annotated[str, typer.Option("--measured-on", help="Measurement date, YYYY-MM-DD.")]
MethodOption = Annotated[str, typer.Option("--method", help="Measurement method, e.g. ISO 10360-2 CMM.")]
InstrumentOption = Annotated[str, typer.Option("--instrument", help="Instrument, e.g. CMM-2 (cal. 2026-06).")]
OutOption = Annotated[Path, typer.Option("--out", help="Where to write the signed measurement (JSON).")]
OpeningsOutOption = Annotated[
    Path, typer.Option("--openings-out", help="Where to write the openings, sealed to the supplier's key.")
]


def _json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        fail(f"cannot read the {what} {path}: {exc.strerror or exc}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"the {what} {path} is not JSON: {exc}")


def _context(path: Path) -> LabMeasurementContext:
    try:
        context = LabMeasurementContext.model_validate(_json(path, "context"))
    except ValidationError as exc:
        fail(f"the context {path} is not a measurement context: {exc.errors()[0]['msg']}")
    if context.supplier_key is None:
        fail("the supplier has no X25519 key registered: the openings cannot be sealed to it")
    return context


def _lab_key(path: Path) -> Any:
    try:
        return load_private_key(path.read_bytes())
    except OSError as exc:
        fail(f"cannot read the lab key {path}: {exc.strerror or exc}")
    except InvalidKey as exc:
        fail(f"the lab key {path} is not an Ed25519 private key: {exc}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--measured-on must be a date like 2026-11-20, not {text!r}")


def _write(envelope: SignedEnvelope, sealed: SealedOpenings, out: Path, openings_out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(canonical_bytes(envelope.model_dump(mode="json")))
    openings_out.write_bytes(canonical_bytes(sealed.model_dump(mode="json")))


def _seal_and_write(
    context: LabMeasurementContext, made: tuple[SignedEnvelope, Any], out: Path, openings_out: Path
) -> None:
    envelope, openings = made
    assert context.supplier_key is not None
    sealed = seal_openings(openings, recipient=context.supplier_key, agreement_id=context.agreement_id)
    _write(envelope, sealed, out, openings_out)
    typer.echo(
        f"signed {context.kpi.value} measurement for {context.period} → {out} (commitments only); "
        f"openings sealed to the supplier's key {context.supplier_key.key_id[:12]}… → {openings_out}"
    )


@attest_app.command("cpk")
def attest_cpk(
    data: Annotated[Path, typer.Option("--data", help="CSV of the measurements.")],
    context: LabContextOption,
    lab_key: LabKeyOption,
    lot: LotOption,
    measured_on: MeasuredOnOption,
    method: MethodOption,
    instrument: InstrumentOption,
    out: OutOption,
    openings_out: OpeningsOutOption,
    column: ColumnOption = None,
    subgroup_size: SubgroupSizeOption = None,
    subgroup_column: SubgroupColumnOption = None,
) -> None:
    """Commit to a characteristic's measurements and sign them as the lab (T2).

    Example: supplier-sdk lab attest cpk --data dia.csv --column value --subgroup-size 5 --context ctx.json
    --lab-key lab.key --lot L-117 --measured-on 2026-11-20 --method "ISO 10360-2" --instrument CMM-2
    --out lab-W48.json --openings-out sealed-W48.json
    """
    ctx, key, day = _context(context), _lab_key(lab_key), _day(measured_on)
    try:
        measured = read_measurements(data, column=column, subgroup_column=subgroup_column)
        made = measure_capability(
            measured.values,
            context=ctx,
            lab_key=key,
            lots=lot,
            measured_on=day,
            method=method,
            instrument=instrument,
            subgroup_size=subgroup_size,
            subgroup_labels=measured.labels,
        )
    except (KpiInputError, ValueError) as exc:
        fail(str(exc))
    _seal_and_write(ctx, made, out, openings_out)


@attest_app.command("mtbf")
def attest_mtbf(
    hours: Annotated[str, typer.Option("--hours", help="Total test hours the lab ran.")],
    failures: Annotated[int, typer.Option("--failures", help="Failures observed.")],
    context: LabContextOption,
    lab_key: LabKeyOption,
    lot: LotOption,
    measured_on: MeasuredOnOption,
    method: MethodOption,
    instrument: InstrumentOption,
    out: OutOption,
    openings_out: OpeningsOutOption,
) -> None:
    """Commit to a reliability test's hours and failures and sign them as the lab (T2).

    Example: supplier-sdk lab attest mtbf --hours 400000 --failures 2 --context ctx.json --lab-key lab.key
    --lot L-9 --measured-on 2026-11-20 --method "IEC 60068-2-6" --instrument "rig 4" --out lab-11.json
    --openings-out sealed-11.json
    """
    ctx, key, day = _context(context), _lab_key(lab_key), _day(measured_on)
    try:
        total = Decimal(hours)
        made = measure_reliability(
            hours=total,
            failures=failures,
            context=ctx,
            lab_key=key,
            lots=lot,
            measured_on=day,
            method=method,
            instrument=instrument,
        )
    except (InvalidOperation, ValueError) as exc:
        fail(f"bad test data: {exc}")
    _seal_and_write(ctx, made, out, openings_out)


@app.command("context")
def context_command(
    agreement_id: Annotated[str, typer.Option("--agreement", help="The supply agreement's id.")],
    kpi: Annotated[KpiOption, typer.Option("--kpi", help="cpk, ppk or mtbf.")],
    part_number: Annotated[str, typer.Option("--part", help="The part number measured.")],
    period: Annotated[str, typer.Option("--period", help="ISO week (2026-W48) or month (2026-11).")],
    out: Annotated[Path, typer.Option("--out", help="Write the context here.")],
    characteristic: Annotated[
        str | None, typer.Option("--characteristic", help="Characteristic code.")
    ] = None,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Fetch what a measurement for one period must be bound to (and the supplier's X25519 key).

    Example: supplier-sdk lab context --agreement 0193… --kpi cpk --part SH-1 --period 2026-W48
    --characteristic DIA-01 --out ctx.json
    """
    try:
        agreement = uuid.UUID(agreement_id)
    except ValueError:
        fail(f"--agreement must be an agreement id (a UUID), not {agreement_id!r}")
    config = resolve_config(hub=hub, client_id=client_id, key_file=key_file, outbox=None)
    with open_client(config) as client:
        try:
            context = client.lab.measurement_context(
                agreement,
                kpi=kpi.value,
                part_number=part_number,
                period=period,
                characteristic=characteristic,
            )
        except HubError as exc:
            if exc.unavailable:
                not_sent(str(exc))
            fail(f"hub refused: {describe_refusal(exc)}")
        except HubUnreachable as exc:
            not_sent(str(exc))
    out.write_text(json.dumps(context.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    typer.echo(f"measurement context for {kpi.value} {period} written to {out}")


@app.command("issue")
def issue_command(
    attestation: Annotated[Path, typer.Option("--attestation", help="The signed measurement (JSON).")],
    openings: Annotated[Path, typer.Option("--openings", help="The sealed openings (JSON).")],
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Send a signed measurement and its sealed openings to the hub, which relays them to the supplier.

    Example: supplier-sdk lab issue --attestation lab-W48.json --openings sealed-W48.json
    """
    try:
        envelope = read_lab_attestation(str(attestation))
        sealed = SealedOpenings.model_validate(_json(openings, "openings"))
    except (ValueError, ValidationError) as exc:
        fail(str(exc))
    config = resolve_config(hub=hub, client_id=client_id, key_file=key_file, outbox=None)
    body = {"envelope": envelope.model_dump(mode="json"), "sealed_openings": sealed.model_dump(mode="json")}
    with open_client(config) as client:
        try:
            record = client.request("POST", "/v1/lab/measurements", json=body)
        except HubError as exc:
            if exc.unavailable:
                not_sent(str(exc))
            fail(f"hub refused: {describe_refusal(exc)}")
        except HubUnreachable as exc:
            not_sent(str(exc))
    typer.echo(f"issued measurement {record['id']} (digest {record['digest'][:12]}…) to the supplier")


__all__ = ["app", "attest_cpk", "attest_mtbf", "context_command", "issue_command"]
