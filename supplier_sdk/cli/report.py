"""``supplier-sdk report``: build a KPI report from local data, sign it and send it to the hub.

Command::

    report submit --agreement ID --kpi cpk|ppk|ppm|mtbf --period 2026-W48
                  [--characteristic CODE] --data FILE [--column NAME]
                  [--subgroup-size N | --subgroup-column NAME] [--sigma pooled|rbar|sbar|mr]
                  [--part PART --hours T --failures R]          (mtbf, instead of --data)
                  [--proof PROOF.json]
                  [--json] [--hub URL] [--client-id ID] [--key-file FILE] [--outbox FILE]

When the agreement's disclosure mode for the KPI asks for a proof (``threshold``, ``value+proof``) and the claim
is "meets", the report carries a KPI-ZK attestation made here from the same data, bound to the context the hub
gives for that period (``GET /v1/agreements/{id}/attestation-context``); a report queued in the outbox keeps it.
``--proof`` attaches a proof made beforehand instead (``supplier-sdk attest context`` then ``attest cpk|mtbf``,
possibly on another machine): then the report can be built and queued while the hub is unreachable.

The hub and credentials come from ``--hub`` / ``--client-id`` / ``--key-file`` or ``QUALINK_HUB_URL`` /
``QUALINK_CLIENT_ID`` / ``QUALINK_KEY_FILE`` (see :mod:`supplier_sdk.config`). The agreement is fetched from the
hub, and a copy kept in the outbox file, so that a report can still be built while the hub is unreachable.

Exit status:

- **0**: the hub accepted the report, or could not be reached and the report was **queued** in the outbox
  (the output says so; ``supplier-sdk outbox flush`` sends it later);
- **2**: bad input (options, data file, configuration, a report the agreement does not cover) or a report the
  hub refused, as one ``error: ...`` line on stderr naming the hub's error and detail;
- **1**: the hub could not be reached and nothing could be queued (the agreement was never fetched here).

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> args = ["report", "submit", "--agreement", "x", "--kpi", "cpk", "--period", "2026-W48"]
    >>> result = CliRunner().invoke(cli, args)
    >>> result.exit_code, result.stderr
    (2, "error: --agreement must be an agreement id (a UUID), not 'x'\\n")
"""

from __future__ import annotations

import json
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from protocol.errors import InvalidPeriod
from protocol.models.agreements import Agreement
from protocol.models.kpi import KpiReport, KpiReportPayload
from protocol.periods import parse_period
from supplier_sdk.attest import WitnessDoesNotMeet, attach, attest_report, needs_proof, read_proof
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import (
    ClientIdOption,
    ColumnOption,
    HubOption,
    JsonOption,
    KeyFileOption,
    OutboxOption,
    SigmaMethodOption,
    SigmaOption,
    SubgroupColumnOption,
    SubgroupSizeOption,
)
from supplier_sdk.cli.profiles import selected_profile
from supplier_sdk.client import Client
from supplier_sdk.config import SdkConfig, load_config
from supplier_sdk.errors import AgreementMismatch, ConfigError, HubError, HubUnreachable, QualinkError
from supplier_sdk.kpi import KpiInputError, Measurements, read_measurements
from supplier_sdk.outbox import Outbox, QueuedReport
from supplier_sdk.reports import build_capability_report, build_mtbf_report, build_ppm_report

app = typer.Typer(
    name="report",
    help="Build, sign and send KPI reports; queue them in the outbox while the hub is unreachable.",
    no_args_is_help=True,
)

EXIT_NOT_SENT = 1
"""Exit status when the hub could not be reached and nothing could be queued.

Example:
    >>> EXIT_NOT_SENT
    1
"""


class KpiOption(StrEnum):
    """The KPIs ``--kpi`` accepts.

    Example:
        >>> [option.value for option in KpiOption]
        ['cpk', 'ppk', 'ppm', 'mtbf']
    """

    cpk = "cpk"
    ppk = "ppk"
    ppm = "ppm"
    mtbf = "mtbf"


def resolve_config(
    *, hub: str | None, client_id: str | None, key_file: Path | None, outbox: Path | None
) -> SdkConfig:
    """Resolve the settings from the options and the environment; a problem ends the command with status 2.

    Example:
        >>> resolve_config(hub=None, client_id=None, key_file=None, outbox=Path("/tmp/o.db")).outbox_path.name
        'o.db'
    """
    try:
        return load_config(
            hub=hub, client_id=client_id, key_file=key_file, outbox=outbox, profile=selected_profile()
        )
    except ConfigError as exc:
        fail(str(exc))


def open_client(config: SdkConfig) -> Client:
    """The hub client for ``config``; missing settings or an unreadable key end the command with status 2.

    Example::

        with open_client(resolve_config(hub=None, client_id=None, key_file=None, outbox=None)) as hub:
            ...
    """
    try:
        return config.client()
    except ConfigError as exc:
        fail(str(exc))


def open_outbox(config: SdkConfig) -> Outbox:
    """The outbox for ``config``; an unusable file ends the command with status 2.

    Example::

        outbox = open_outbox(resolve_config(hub=None, client_id=None, key_file=None, outbox=None))
    """
    try:
        return config.outbox()
    except ConfigError as exc:
        fail(str(exc))


def describe_refusal(error: HubError) -> str:
    """One line for a hub refusal: its error name, detail and request id.

    Example:
        >>> describe_refusal(HubError(http_status=409, error="DuplicateReport", detail="exists", request_id="r1"))
        'DuplicateReport: exists (HTTP 409, request r1)'
    """
    return str(error)


def not_sent(message: str) -> NoReturn:
    """Print ``error: <message>`` on stderr and exit with status 1 (nothing was sent or queued).

    Example:
        >>> try:
        ...     not_sent("hub unreachable")  # stderr: error: hub unreachable
        ... except typer.Exit as stop:
        ...     print(stop.exit_code)
        1
    """
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(code=EXIT_NOT_SENT)


def _check_options(
    kpi: KpiOption,
    *,
    characteristic: str | None,
    data: Path | None,
    column: str | None,
    subgroup_size: int | None,
    subgroup_column: str | None,
    sigma: SigmaOption | None,
    part: str | None,
    hours: float | None,
    failures: int | None,
) -> None:
    if kpi is KpiOption.mtbf:
        if hours is None or failures is None:
            fail("--kpi mtbf needs --hours and --failures (total test hours and failures observed)")
        given = [
            name
            for name, value in (
                ("--data", data),
                ("--characteristic", characteristic),
                ("--column", column),
                ("--subgroup-size", subgroup_size),
                ("--subgroup-column", subgroup_column),
                ("--sigma", sigma),
            )
            if value is not None
        ]
        if given:
            fail(f"--kpi mtbf is reported per part from --hours and --failures; drop {', '.join(given)}")
        return
    if data is None:
        fail(f"--kpi {kpi.value} needs --data FILE with the measurements")
    extra = [
        name
        for name, value in (("--hours", hours), ("--failures", failures), ("--part", part))
        if value is not None
    ]
    if extra:
        fail(f"{', '.join(extra)} belong to --kpi mtbf, not {kpi.value}")
    if subgroup_size is not None and subgroup_column is not None:
        fail("give either --subgroup-size or --subgroup-column, not both")
    if kpi is KpiOption.ppm and (
        subgroup_size is not None or subgroup_column is not None or sigma is not None
    ):
        fail("--kpi ppm uses the overall normal model: drop --subgroup-size, --subgroup-column and --sigma")


def _agreement(hub: Client, outbox: Outbox, agreement_id: uuid.UUID) -> tuple[Agreement, QualinkError | None]:
    """The agreement from the hub (and kept in the outbox), or the kept copy when the hub is not available."""
    try:
        agreement = hub.agreements.get(agreement_id)
    except (HubUnreachable, HubError) as exc:
        if isinstance(exc, HubError) and not exc.unavailable:
            fail(f"cannot fetch agreement {agreement_id}: {describe_refusal(exc)}")
        cached = outbox.cached_agreement(agreement_id)
        if cached is None:
            not_sent(
                f"{exc}; agreement {agreement_id} was never fetched on this machine, so no report can be built"
            )
        typer.echo(
            f"hub not available; using agreement {agreement_id} as fetched at {cached[1]:%Y-%m-%d %H:%M} UTC",
            err=True,
        )
        return cached[0], exc
    outbox.remember_agreement(agreement)
    return agreement, None


def _characteristic_code(agreement: Agreement, given: str | None) -> str:
    if given is not None:
        return given
    codes = [c.code for c in agreement.characteristics]
    if len(codes) != 1:
        fail(
            f"the agreement has several characteristics ({', '.join(codes)}): choose one with --characteristic"
        )
    return codes[0]


def _claim_text(payload: KpiReportPayload) -> str:
    claim = payload.claim
    what = payload.characteristic or payload.part_number
    verdict = "meets" if claim.meets else "does NOT meet"
    value = "" if claim.value is None else f"{format(claim.value, 'f')} "
    proven = " (proven in zero knowledge)" if payload.proof is not None else ""
    return (
        f"{payload.kpi.value} {value}{verdict} {format(claim.threshold, 'f')}{proven} for {what} "
        f"in {payload.period}"
    )


def _prove(
    client: Client,
    agreement: Agreement,
    payload: KpiReportPayload,
    *,
    measurements: Measurements | None,
    subgroup_size: int | None,
    hours: float | None,
    failures: int | None,
) -> KpiReportPayload:
    """Attach the KPI-ZK proof the agreement asks for, bound to the hub's context for this period."""
    try:
        context = client.kpi_reports.attestation_context(
            agreement.id, kpi=payload.kpi, period=payload.period, characteristic=payload.characteristic
        )
    except (HubUnreachable, HubError) as exc:
        if isinstance(exc, HubError) and not exc.unavailable:
            fail(f"cannot fetch the attestation context: {describe_refusal(exc)}")
        not_sent(f"{exc}; the agreement asks for a KPI-ZK proof, whose context (the hub nonce) needs the hub")
    try:
        return attest_report(
            payload,
            agreement=agreement,
            context=context,
            values=None if measurements is None else measurements.values,
            subgroup_size=subgroup_size,
            subgroup_labels=None if measurements is None else measurements.labels,
            hours=None if hours is None else repr(hours),
            failures=failures,
        )
    except WitnessDoesNotMeet as exc:
        fail(f"the data do not meet the threshold in the proof's terms, so no proof exists: {exc}")
    except ValueError as exc:  # AgreementMismatch, KpiInputError, inputs that form no statement
        fail(str(exc))


def _print_result(result: KpiReport | QueuedReport, payload: KpiReportPayload, *, as_json: bool) -> None:
    if isinstance(result, QueuedReport):
        if as_json:
            body: dict[str, Any] = {
                "status": "queued",
                "outbox": str(result.outbox_path),
                "entry": result.entry.summary(),
                "reason": result.reason,
            }
            typer.echo(json.dumps(body))
            return
        typer.echo(f"hub not available: {result.reason}")
        typer.echo(
            f"queued: {_claim_text(payload)} as entry {result.entry.id} in {result.outbox_path}; "
            "send it with `supplier-sdk outbox flush`"
        )
        return
    if as_json:
        typer.echo(json.dumps({"status": "accepted", "report": result.model_dump(mode="json")}))
        return
    typer.echo(f"accepted: {_claim_text(payload)} (report {result.id})")


def _build(
    agreement: Agreement,
    kpi: KpiOption,
    period: str,
    *,
    characteristic: str | None,
    measurements: Measurements | None,
    subgroup_size: int | None,
    sigma: SigmaOption | None,
    part: str | None,
    hours: float | None,
    failures: int | None,
) -> KpiReportPayload:
    try:
        if kpi is KpiOption.mtbf:
            assert hours is not None and failures is not None  # _check_options made sure
            return build_mtbf_report(
                agreement=agreement, period=period, hours=hours, failures=failures, part_number=part
            )
        assert measurements is not None
        code = _characteristic_code(agreement, characteristic)
        if kpi is KpiOption.ppm:
            return build_ppm_report(
                agreement=agreement, characteristic=code, period=period, values=measurements.values
            )
        return build_capability_report(
            agreement=agreement,
            characteristic=code,
            period=period,
            kpi=kpi.value,
            values=measurements.values,
            subgroup_size=subgroup_size,
            subgroup_labels=measurements.labels,
            sigma=None if sigma is None else sigma.value,
        )
    except (AgreementMismatch, KpiInputError) as exc:
        fail(str(exc))


@app.command("submit")
def submit_command(
    agreement_id: Annotated[str, typer.Option("--agreement", help="The supply agreement's id.")],
    kpi: Annotated[KpiOption, typer.Option("--kpi", help="The KPI to report.")],
    period: Annotated[str, typer.Option("--period", help="ISO week (2026-W48) or month (2026-11).")],
    characteristic: Annotated[
        str | None,
        typer.Option("--characteristic", help="Characteristic code (default: the agreement's only one)."),
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="CSV of measurements (cpk, ppk, ppm).")] = None,
    column: ColumnOption = None,
    subgroup_size: SubgroupSizeOption = None,
    subgroup_column: SubgroupColumnOption = None,
    sigma: SigmaMethodOption = None,
    part: Annotated[
        str | None, typer.Option("--part", help="Part number (mtbf; default the agreement's only part).")
    ] = None,
    hours: Annotated[
        float | None, typer.Option("--hours", help="Total accumulated test hours (mtbf).")
    ] = None,
    failures: Annotated[int | None, typer.Option("--failures", help="Failures observed (mtbf).")] = None,
    proof: Annotated[
        Path | None, typer.Option("--proof", help="A KPI-ZK proof made beforehand (supplier-sdk attest).")
    ] = None,
    as_json: JsonOption = False,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
    outbox: OutboxOption = None,
) -> None:
    """Compute a KPI from local data, sign it and send the claim to the hub (queued if the hub is unreachable).

    Example: supplier-sdk report submit --agreement 0193… --kpi cpk --period 2026-W48 --data dia.csv
    --subgroup-size 5
    """
    try:
        agreement_uuid = uuid.UUID(agreement_id)
    except ValueError:
        fail(f"--agreement must be an agreement id (a UUID), not {agreement_id!r}")
    try:
        period = str(parse_period(period))
    except InvalidPeriod as exc:
        fail(str(exc))
    _check_options(
        kpi,
        characteristic=characteristic,
        data=data,
        column=column,
        subgroup_size=subgroup_size,
        subgroup_column=subgroup_column,
        sigma=sigma,
        part=part,
        hours=hours,
        failures=failures,
    )
    config = resolve_config(hub=hub, client_id=client_id, key_file=key_file, outbox=outbox)
    measurements = None
    if data is not None:
        try:
            measurements = read_measurements(data, column=column, subgroup_column=subgroup_column)
        except KpiInputError as exc:
            fail(str(exc))
    box = open_outbox(config)
    with open_client(config) as client:
        agreement, unavailable = _agreement(client, box, agreement_uuid)
        payload = _build(
            agreement,
            kpi,
            period,
            characteristic=characteristic,
            measurements=measurements,
            subgroup_size=subgroup_size,
            sigma=sigma,
            part=part,
            hours=hours,
            failures=failures,
        )
        if proof is not None:
            try:
                payload = attach(payload, read_proof(proof))
            except ValueError as exc:
                fail(str(exc))
        elif needs_proof(agreement, payload):
            if unavailable is not None:
                not_sent(f"{unavailable}; the agreement asks for a KPI-ZK proof, whose context needs the hub")
            payload = _prove(
                client,
                agreement,
                payload,
                measurements=measurements,
                subgroup_size=subgroup_size,
                hours=hours,
                failures=failures,
            )
        try:
            if unavailable is not None:  # no need to wait through the retries a second time
                result: KpiReport | QueuedReport = box.enqueue(
                    payload,
                    idempotency_key=str(uuid.uuid4()),
                    hub_url=client.base_url,
                    reason=str(unavailable),
                )
            else:
                result = client.kpi_reports.submit(payload, outbox=box)
        except HubError as exc:
            fail(f"hub refused the report: {describe_refusal(exc)}")
    _print_result(result, payload, as_json=as_json)


__all__ = [
    "EXIT_NOT_SENT",
    "KpiOption",
    "app",
    "describe_refusal",
    "not_sent",
    "open_client",
    "open_outbox",
    "resolve_config",
    "submit_command",
]
