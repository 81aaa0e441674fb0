"""JSON Schemas of the QX/1 wire models, generated from ``protocol.models`` and checked in beside this file.

One schema per public pydantic model of every ``protocol.models`` module and of ``protocol.signing``
(the names in each module's ``__all__``, less the ``WireModel`` base; generic models such as ``Page[T]``
have no schema of their own), named after the model: ``KpiReportPayload.json``. Schemas describe what a
receiver accepts (pydantic's validation mode), follow JSON Schema 2020-12, and leave the docstrings'
examples out of their descriptions. Regenerate them with::

    python -m protocol.schemas

Example:
    >>> schemas = generate()
    >>> schemas["KpiClaim"]["required"]
    ['meets', 'threshold']
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import protocol.models
from protocol.models.common import WireModel

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect every generated schema declares in ``$schema``.

Example:
    >>> generate()["ErrorBody"]["$schema"] == SCHEMA_DIALECT
    True
"""

DIRECTORY = Path(__file__).resolve().parent
"""Where the checked-in schemas live: this package's folder.

Example:
    >>> (DIRECTORY / "KpiReportPayload.json").name
    'KpiReportPayload.json'
"""


def wire_models() -> dict[str, type[BaseModel]]:
    """Return every public, concrete wire model of ``protocol.models`` and ``protocol.signing``, by name.

    Example:
        >>> models = wire_models()
        >>> "KpiReportSubmit" in models, "SignedEnvelope" in models, "Page" in models, "WireModel" in models
        (True, True, False, False)
    """
    names = [
        f"{protocol.models.__name__}.{info.name}" for info in pkgutil.iter_modules(protocol.models.__path__)
    ]
    found: dict[str, type[BaseModel]] = {}
    for module_name in [*names, "protocol.signing"]:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            candidate = getattr(module, name)
            if (
                not (isinstance(candidate, type) and issubclass(candidate, BaseModel))
                or candidate is WireModel
            ):
                continue
            if candidate.__pydantic_generic_metadata__["parameters"]:
                continue  # a generic such as Page[T]: only its parametrizations have a schema
            if found.setdefault(name, candidate) is not candidate:
                raise RuntimeError(f"two wire models are called {name}")
    return dict(sorted(found.items()))


def generate() -> dict[str, dict[str, Any]]:
    """Return one JSON Schema per wire model, keyed by model name.

    Example:
        >>> generate()["KpiReportSubmit"]["properties"]["envelope"]
        {'$ref': '#/$defs/SignedEnvelope'}
    """
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in wire_models().items():
        schema = _without_examples(model.model_json_schema(mode="validation"))
        schemas[name] = {"$schema": SCHEMA_DIALECT, **schema}
    return schemas


def render(schema: dict[str, Any]) -> str:
    """Return the checked-in text of a schema: sorted keys, two-space indent, a trailing newline.

    Example:
        >>> render({"type": "object", "$schema": SCHEMA_DIALECT}).splitlines()[1]
        '  "$schema": "https://json-schema.org/draft/2020-12/schema",'
    """
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(directory: str | Path = DIRECTORY) -> list[Path]:
    """Write ``<Name>.json`` for every wire model into ``directory`` and delete schema files of no model.

    Returns the paths written. Only files whose text changed are rewritten.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     "KpiReport.json" in {path.name for path in write(folder)}
        True
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    schemas = generate()
    for name, schema in schemas.items():
        path = target / f"{name}.json"
        text = render(schema)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in target.glob("*.json"):
        if stale.stem not in schemas:
            stale.unlink()
    return written


def _without_examples(node: Any) -> Any:
    """Drop the ``Example:`` part of docstring-derived descriptions, recursively."""
    if isinstance(node, dict):
        cleaned = {key: _without_examples(value) for key, value in node.items()}
        description = cleaned.get("description")
        if isinstance(description, str) and "Example" in description:
            head = description.split("\n\nExample", 1)[0].rstrip()
            cleaned["description"] = head
        return cleaned
    if isinstance(node, list):
        return [_without_examples(item) for item in node]
    return node


__all__ = ["DIRECTORY", "SCHEMA_DIALECT", "generate", "render", "wire_models", "write"]
