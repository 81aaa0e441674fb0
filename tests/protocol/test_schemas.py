"""The checked-in JSON Schemas match the models; regenerate them with ``python -m protocol.schemas``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from protocol.schemas import DIRECTORY, SCHEMA_DIALECT, generate, render, wire_models, write

REGENERATE = "run `python -m protocol.schemas` and commit protocol/schemas/*.json"

EXPECTED_MODELS = {
    "Agreement",
    "AgreementCreate",
    "AgreementDecision",
    "ApiClient",
    "Characteristic",
    "ErrorBody",
    "FieldError",
    "KpiClaim",
    "KpiReport",
    "KpiReportPayload",
    "KpiReportSubmit",
    "KpiTerm",
    "OrgKey",
    "OrgKeyRegister",
    "Organization",
    "OrganizationCreate",
    "PartRef",
    "SignedEnvelope",
    "TokenResponse",
}


def test_checked_in_schemas_are_current() -> None:
    expected = {f"{name}.json": render(schema) for name, schema in generate().items()}
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in DIRECTORY.glob("*.json")}
    missing = sorted(set(expected) - set(on_disk))
    extra = sorted(set(on_disk) - set(expected))
    stale = sorted(name for name in set(expected) & set(on_disk) if expected[name] != on_disk[name])
    problems = [
        f"{label}: {', '.join(names)}"
        for label, names in (("missing", missing), ("extra", extra), ("stale", stale))
        if names
    ]
    assert not problems, f"JSON Schemas out of date ({'; '.join(problems)}): {REGENERATE}"


def test_every_public_wire_model_has_a_schema() -> None:
    assert EXPECTED_MODELS.issubset(wire_models())
    assert "Page" not in wire_models()
    assert "WireModel" not in wire_models()


def test_schemas_are_json_schema_2020_12_without_doc_examples() -> None:
    for name, schema in generate().items():
        assert schema["$schema"] == SCHEMA_DIALECT
        assert schema["title"] == name
        assert ">>>" not in json.dumps(schema), name


def test_schemas_state_the_strict_rules() -> None:
    schemas = generate()
    payload = schemas["KpiReportPayload"]
    assert payload["additionalProperties"] is False
    assert payload["properties"]["period"]["pattern"] == r"^[0-9]{4}-(W[0-9]{2}|[0-9]{2})$"
    value_forms = payload["$defs"]["KpiClaim"]["properties"]["value"]["anyOf"]
    assert {"type": "number"} not in value_forms
    # A decimal string with the bound of the NUMERIC(20, 4) column it is kept in: 16 digits, 4 places.
    assert {"type": "string", "pattern": r"^-?0*[0-9]{1,16}(\.[0-9]{1,4})?$"} in value_forms
    largest = 10**16 - 1
    assert {"type": "integer", "minimum": -largest, "maximum": largest} in value_forms


def test_rendering_is_sorted_indented_and_ends_with_a_newline() -> None:
    text = render({"b": 1, "a": {"d": 2, "c": 3}})
    assert text == '{\n  "a": {\n    "c": 3,\n    "d": 2\n  },\n  "b": 1\n}\n'


def test_write_creates_replaces_and_prunes(tmp_path: Path) -> None:
    (tmp_path / "Retired.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "KpiClaim.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("kept\n", encoding="utf-8")
    written = write(tmp_path)
    names = {path.name for path in tmp_path.iterdir()}
    assert names == {f"{name}.json" for name in generate()} | {"notes.txt"}
    assert {path.name for path in written} == names - {"notes.txt"}
    assert (tmp_path / "KpiClaim.json").read_text(encoding="utf-8") == render(generate()["KpiClaim"])


def test_module_entry_point_writes_into_a_given_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "protocol.schemas", str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert result.stdout == f"wrote {len(generate())} schemas to {tmp_path}\n"
    assert (tmp_path / "SignedEnvelope.json").read_text(encoding="utf-8") == render(
        generate()["SignedEnvelope"]
    )
