"""``supplier-sdk certificate``: certificates as verifiable credentials (IATF 16949, ISO 9001, ISO 14001, VDA 6.3).

Commands::

    certificate issue --standard S --number N --scope TEXT --supplier ID --site-id ID --site-name NAME
                      --valid-from DATE --valid-until DATE [--audit-score N --audit-grade A|B|C]
                      [--signing-key FILE] [--out FILE]                      (certifier)
    certificate list [--supplier ID]                                         (everyone: what you may see)
    certificate show ID [--out FILE]                                         (the credential to FILE)
    certificate share ID --oem ID  /  certificate unshare ID --oem ID        (supplier)
    certificate suspend|reinstate|withdraw ID [--reason TEXT]                (certifier)
    certificate verify FILE                                                  (offline, no hub)

Every command takes ``--json`` (one JSON object). The credential is signed with ``--signing-key`` or, by default,
the client's own key file (which the certifier registered as a signing key).

Exit status: 0 on success; 2 for bad input, a refused or forged credential (one ``error: ...`` line); 1 when the
hub could not be reached.

Example:
    >>> from typer.testing import CliRunner
    >>> from supplier_sdk.cli import app as cli
    >>> result = CliRunner().invoke(cli, ["certificate", "verify", "/nonexistent.json"])
    >>> result.exit_code, result.stderr.startswith("error: cannot read the credential")
    (2, True)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError

from protocol.credentials import CertificateClaims, CredentialInvalid
from protocol.errors import InvalidKey
from protocol.models.certificates import Certificate, CertificateAction
from protocol.signing import load_private_key
from supplier_sdk.certificates import Certificates, sign_certificate, verify_certificate
from supplier_sdk.cli.kpi import fail
from supplier_sdk.cli.options import ClientIdOption, HubOption, JsonOption, KeyFileOption
from supplier_sdk.cli.report import describe_refusal, not_sent, open_client, resolve_config
from supplier_sdk.errors import HubError, HubUnreachable

app = typer.Typer(help="Certificates as verifiable credentials: issue, share, manage, verify offline.")

T = TypeVar("T")
IdArgument = Annotated[str, typer.Argument(help="The certificate id.")]
OemOption = Annotated[str, typer.Option("--oem", help="The customer (OEM) organization id.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (shown to every entitled party).")]
OutFileOption = Annotated[Path | None, typer.Option("--out", help="Write the signed credential here.")]


def _uuid(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        fail(f"{what} must be an id (a UUID), not {text!r}")


def _day(text: str, option: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        fail(f"{option} must be a date like 2026-11-20, not {text!r}")


def _hub(
    call: Callable[[Certificates], T], *, hub: str | None, client_id: str | None, key_file: Path | None
) -> T:
    config = resolve_config(hub=hub, client_id=client_id, key_file=key_file, outbox=None)
    with open_client(config) as client:
        try:
            return call(client.certificates)
        except HubError as exc:
            if exc.unavailable:
                not_sent(str(exc))
            fail(f"hub refused: {describe_refusal(exc)}")
        except HubUnreachable as exc:
            not_sent(str(exc))


def _line(c: Certificate) -> str:
    audit = f" {c.audit_result.score}% grade {c.audit_result.grade}" if c.audit_result else ""
    return (
        f"{c.certificate_id}  {c.standard}{audit}  {c.number}  {c.site_name}  "
        f"{c.valid_from:%Y-%m-%d}..{c.valid_until:%Y-%m-%d}  {c.status.value}  by {c.certifier_name}"
    )


def _print(certificate: Certificate, as_json: bool) -> None:
    if as_json:
        typer.echo(certificate.model_dump_json(exclude={"credential"}))
    else:
        typer.echo(_line(certificate))


def _read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except OSError as exc:
        fail(f"cannot read the credential {path}: {exc.strerror or exc}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"the credential {path} is not JSON: {exc}")
    if not isinstance(value, dict):
        fail(f"the credential {path} is not a JSON object")
    return value


def _refuse(exc: CredentialInvalid) -> NoReturn:
    fail(f"credential check '{exc.check}' failed: {exc}")


@app.command("issue")
def issue_command(
    standard: Annotated[str, typer.Option("--standard", help="IATF 16949, ISO 9001, ISO 14001 or VDA 6.3.")],
    number: Annotated[str, typer.Option("--number", help="The certificate number.")],
    scope: Annotated[str, typer.Option("--scope", help="What the certificate covers.")],
    supplier: Annotated[str, typer.Option("--supplier", help="The supplier organization id.")],
    site_id: Annotated[str, typer.Option("--site-id", help="The site's id (e.g. its DUNS or plant code).")],
    site_name: Annotated[str, typer.Option("--site-name", help="The site's name.")],
    valid_from: Annotated[str, typer.Option("--valid-from", help="First valid day, YYYY-MM-DD.")],
    valid_until: Annotated[str, typer.Option("--valid-until", help="Expiry day, YYYY-MM-DD.")],
    audit_score: Annotated[int | None, typer.Option("--audit-score", help="VDA 6.3: score in %.")] = None,
    audit_grade: Annotated[str | None, typer.Option("--audit-grade", help="VDA 6.3: A, B or C.")] = None,
    signing_key: Annotated[
        Path | None, typer.Option("--signing-key", help="Ed25519 key (default: key file).")
    ] = None,
    out: OutFileOption = None,
    as_json: JsonOption = False,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Sign a certificate as a verifiable credential and issue it through the hub (certifier).

    Example: supplier-sdk certificate issue --standard "IATF 16949" --number IATF-0412 --scope "brake calipers"
    --supplier 0193… --site-id gy-1 --site-name "Győr" --valid-from 2026-01-01 --valid-until 2029-01-01
    """
    audit = (
        None if audit_score is None and audit_grade is None else {"score": audit_score, "grade": audit_grade}
    )
    try:
        claims = CertificateClaims.model_validate(
            {
                "standard": standard,
                "number": number,
                "scope": scope,
                "supplier_id": _uuid(supplier, "--supplier"),
                "site_id": site_id,
                "site_name": site_name,
                "valid_from": _day(valid_from, "--valid-from"),
                "valid_until": _day(valid_until, "--valid-until"),
                "audit_result": audit,
            }
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in error['loc']) or 'certificate'}: {error['msg']}")
    config = resolve_config(hub=hub, client_id=client_id, key_file=key_file, outbox=None)
    path = signing_key or config.key_file
    if path is None:
        fail("give --signing-key or a key file (QUALINK_KEY_FILE)")
    try:
        key = load_private_key(path.read_bytes())
    except (OSError, InvalidKey) as exc:
        fail(f"cannot use the signing key {path}: {exc}")
    credential = sign_certificate(claims, key)
    if out is not None:
        out.write_text(json.dumps(credential, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    issued = _hub(lambda c: c.issue(credential), hub=hub, client_id=client_id, key_file=key_file)
    _print(issued, as_json)


@app.command("list")
def list_command(
    supplier: Annotated[str | None, typer.Option("--supplier", help="Only this supplier's.")] = None,
    as_json: JsonOption = False,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """The certificates you issued (certifier), hold (supplier) or that were shared with you (OEM)."""
    supplier_id = None if supplier is None else _uuid(supplier, "--supplier")
    found = _hub(lambda c: c.list(supplier_id=supplier_id), hub=hub, client_id=client_id, key_file=key_file)
    if as_json:
        typer.echo(json.dumps({"items": [c.model_dump(mode="json", exclude={"credential"}) for c in found]}))
        return
    for certificate in found:
        typer.echo(_line(certificate))


@app.command("show")
def show_command(
    certificate_id: IdArgument,
    out: OutFileOption = None,
    as_json: JsonOption = False,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """One certificate; ``--out`` writes its signed credential, to verify offline or pass on."""
    wanted = _uuid(certificate_id, "the certificate id")
    found = _hub(lambda c: c.get(wanted), hub=hub, client_id=client_id, key_file=key_file)
    if out is not None and found.credential is not None:
        out.write_text(json.dumps(found.credential, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print(found, as_json)


def _share(certificate_id: str, oem: str, shared: bool, as_json: bool, **connection: Any) -> None:
    wanted, oem_id = _uuid(certificate_id, "the certificate id"), _uuid(oem, "--oem")
    _print(_hub(lambda c: c.share(wanted, oem_id, shared=shared), **connection), as_json)


@app.command("share")
def share_command(
    certificate_id: IdArgument,
    oem: OemOption,
    as_json: JsonOption = False,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Share your certificate with a customer (supplier)."""
    _share(certificate_id, oem, True, as_json, hub=hub, client_id=client_id, key_file=key_file)


@app.command("unshare")
def unshare_command(
    certificate_id: IdArgument,
    oem: OemOption,
    as_json: JsonOption = False,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Stop sharing your certificate with a customer (supplier)."""
    _share(certificate_id, oem, False, as_json, hub=hub, client_id=client_id, key_file=key_file)


def _status(
    action: CertificateAction, certificate_id: str, reason: str, as_json: bool, **connection: Any
) -> None:
    wanted = _uuid(certificate_id, "the certificate id")
    _print(_hub(lambda c: c.change_status(wanted, action, reason=reason), **connection), as_json)


@app.command("suspend")
def suspend_command(
    certificate_id: IdArgument,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Suspend your certificate (certifier); every entitled party learns it."""
    _status("suspend", certificate_id, reason, as_json, hub=hub, client_id=client_id, key_file=key_file)


@app.command("reinstate")
def reinstate_command(
    certificate_id: IdArgument,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Reinstate your suspended certificate (certifier)."""
    _status("reinstate", certificate_id, reason, as_json, hub=hub, client_id=client_id, key_file=key_file)


@app.command("withdraw")
def withdraw_command(
    certificate_id: IdArgument,
    reason: ReasonOption = "",
    as_json: JsonOption = False,
    hub: HubOption = None,
    client_id: ClientIdOption = None,
    key_file: KeyFileOption = None,
) -> None:
    """Withdraw your certificate for good (certifier); every entitled party learns it."""
    _status("withdraw", certificate_id, reason, as_json, hub=hub, client_id=client_id, key_file=key_file)


@app.command("verify")
def verify_command(
    credential: Annotated[Path, typer.Argument(help="The credential JSON (certificate show --out).")],
    as_json: JsonOption = False,
) -> None:
    """Verify a certificate credential offline: the eddsa-jcs-2022 proof, the issuer's did:key, its fields.

    The status (suspended, withdrawn) is the hub's to tell: verification says who signed what, and when.
    """
    document = _read(credential)
    try:
        claims = verify_certificate(document)
    except CredentialInvalid as exc:
        _refuse(exc)
    if as_json:
        typer.echo(
            json.dumps({"valid": True, "issuer": document["issuer"], **claims.model_dump(mode="json")})
        )
        return
    typer.echo(
        f"valid: {claims.standard} {claims.number} for {claims.site_name}, "
        f"{claims.valid_from:%Y-%m-%d}..{claims.valid_until:%Y-%m-%d}, issued by {document['issuer']}"
    )


__all__ = [
    "app",
    "issue_command",
    "list_command",
    "reinstate_command",
    "share_command",
    "show_command",
    "suspend_command",
    "unshare_command",
    "verify_command",
    "withdraw_command",
]
