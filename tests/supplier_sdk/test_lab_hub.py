"""Tier T2 end to end over a real socket: the lab measures and issues with the CLI, the supplier opens the sealed
openings, proves over the lab's commitments (CLI), verifies offline, submits (SDK); the OEM reads "proven by".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from typer.testing import CliRunner

from protocol.encoding import b64url_encode
from protocol.models.common import OrgKind
from protocol.models.kpi import KpiClaim, KpiReportPayload
from protocol.zk.attestation import Attestation
from supplier_sdk.cli import app
from supplier_sdk.lab import attach_lab, read_lab_attestation
from tests.supplier_sdk.test_client_support import Network, past_weeks, running_network

pytestmark = pytest.mark.e2e

GOOD = np.round(np.random.default_rng(41).normal(25.0, 0.003, 125), 3)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_lab") as network:
        yield network


def env_for(network: Network, party: object, key_file: Path) -> dict[str, str]:
    return {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": party.client_id,  # type: ignore[attr-defined]
        "QUALINK_KEY_FILE": str(key_file),
    }


def test_a_lab_measures_the_supplier_proves_from_it_and_the_oem_reads_proven_by_the_lab(
    network: Network, tmp_path: Path
) -> None:
    today = date.today()
    lab = network.register(OrgKind.LAB, f"Nordic Metrology {today:%j}{id(tmp_path) % 1000}")
    network.client(network.operator).request(
        "POST",
        f"/v1/labs/{lab.org_id}/accreditations",
        json={"scheme": "ISO/IEC 17025", "number": "SWEDAC 1234", "scope": "dimensional metrology",
              "valid_from": (today - timedelta(days=200)).isoformat(),
              "valid_until": (today + timedelta(days=200)).isoformat()},
    )  # fmt: skip
    supplier = network.register(OrgKind.SUPPLIER)
    characteristic = {"code": "DIA-01", "part_number": "SH-4410", "unit": "mm", "lsl": "24.980",
                      "usl": "25.020", "lab_id": str(lab.org_id)}  # fmt: skip
    agreement = network.agree(
        supplier,
        characteristics=[characteristic],
        kpis=[{"kpi": "cpk", "threshold": "1.33", "disclosure": "threshold"}],
    )
    enc = X25519PrivateKey.generate()
    hub = network.client(supplier, encryption_key=enc)
    hub.keys.register_signing_key()
    hub.request(
        "POST",
        "/v1/keys",
        json={"use": "enc", "public_key": b64url_encode(enc.public_key().public_bytes_raw())},
    )
    lab_hub = network.client(lab)
    lab_hub.keys.register_signing_key()
    assert lab_hub.lab.accept(agreement.id).status == "accepted"

    week = past_weeks(1)[0]
    lab_env = env_for(network, lab, lab.write_key(tmp_path))
    runner = CliRunner()
    ctx = tmp_path / "lab-ctx.json"
    result = runner.invoke(app, ["lab", "context", "--agreement", str(agreement.id), "--kpi", "cpk", "--part",
                                 "SH-4410", "--period", week, "--characteristic", "DIA-01", "--out", str(ctx)],
                           env=lab_env)  # fmt: skip
    assert result.exit_code == 0, result.output
    data = tmp_path / "dia.csv"
    data.write_text("diameter\n" + "".join(f"{v:.3f}\n" for v in GOOD))
    measured, sealed = tmp_path / "lab-W.json", tmp_path / "sealed-W.json"
    result = runner.invoke(app, ["lab", "attest", "cpk", "--data", str(data), "--column", "diameter",
                                 "--context", str(ctx), "--lab-key", str(lab.write_key(tmp_path)), "--lot", "L-117",
                                 "--measured-on", (today - timedelta(days=1)).isoformat(), "--method",
                                 "ISO 10360-2 CMM", "--instrument", "CMM-2", "--out", str(measured),
                                 "--openings-out", str(sealed)], env=lab_env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "24.99" not in measured.read_text() and "25.00" not in sealed.read_text()
    )  # no value in either file
    result = runner.invoke(app, ["lab", "issue", "--attestation", str(measured), "--openings", str(sealed)],
                           env=lab_env)  # fmt: skip
    assert result.exit_code == 0, result.output

    # The supplier: the measurement addressed to it, the openings it alone can open, a proof over them.
    [record] = hub.lab.measurements(agreement_id=agreement.id)
    assert record.lab_name == lab.name
    (tmp_path / "from-hub.json").write_text(record.envelope.model_dump_json())
    (tmp_path / "sealed-from-hub.json").write_text(record.sealed_openings.model_dump_json())
    enc_file = tmp_path / "enc.key"
    enc_file.write_bytes(enc.private_bytes_raw())
    context = hub.kpi_reports.attestation_context(
        agreement.id, kpi="cpk", period=week, characteristic="DIA-01"
    )
    (tmp_path / "ctx.json").write_text(context.model_dump_json())
    proof_file = tmp_path / "cpk-W.json"
    result = runner.invoke(app, ["attest", "cpk", "--lab-attestation", str(tmp_path / "from-hub.json"),
                                 "--openings", str(tmp_path / "sealed-from-hub.json"), "--enc-key-file",
                                 str(enc_file), "--threshold", "1.33", "--context", str(tmp_path / "ctx.json"),
                                 "--out", str(proof_file)])  # fmt: skip
    assert result.exit_code == 0, result.output
    verified = runner.invoke(
        app, ["verify", str(proof_file), "--lab-attestation", str(tmp_path / "from-hub.json")]
    )
    assert verified.exit_code == 0 and "from the lab's signed measurement" in verified.stdout
    without = runner.invoke(app, ["verify", str(proof_file)])
    assert without.exit_code == 1 and "lab attestation" in without.stdout
    # Another lab's key cannot open the openings: the wrong X25519 key fails (exit 2, nothing written).
    other = tmp_path / "other.key"
    other.write_bytes(X25519PrivateKey.generate().private_bytes_raw())
    refused = runner.invoke(app, ["attest", "cpk", "--lab-attestation", str(tmp_path / "from-hub.json"),
                                  "--openings", str(tmp_path / "sealed-from-hub.json"), "--enc-key-file",
                                  str(other), "--threshold", "1.33", "--out", str(tmp_path / "never.json")])  # fmt: skip
    assert refused.exit_code == 2 and not (tmp_path / "never.json").exists()

    proof = Attestation.model_validate(json.loads(proof_file.read_bytes()))
    payload = KpiReportPayload(
        supplier_id=supplier.org_id,
        oem_id=agreement.oem_id,
        agreement_id=agreement.id,
        part_number="SH-4410",
        characteristic="DIA-01",
        period=week,
        kpi="cpk",
        claim=KpiClaim(meets=True, threshold="1.33", sample_size=125),
        sdk_version="test",
    )
    report = hub.kpi_reports.submit(
        attach_lab(payload, proof, read_lab_attestation(str(tmp_path / "from-hub.json")))
    )
    assert report.proven and report.proven_by is not None
    seen = network.client(network.oem).kpi_reports.get(report.id)
    assert (seen.meets, seen.proven, seen.value, seen.threshold) == (True, True, None, Decimal("1.33"))
    assert seen.proven_by is not None and seen.proven_by.lab_name == lab.name
    assert seen.proven_by.measured_on == today - timedelta(days=1)
