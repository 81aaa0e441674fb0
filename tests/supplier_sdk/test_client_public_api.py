"""The SDK's public surface: an explicit __all__, a docstring with an example on every public name, doctests."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import subprocess
import sys
from types import ModuleType

import pytest

import supplier_sdk

PUBLIC = {
    "PERMANENT_CONFLICTS",
    "ZERO_FAILURE_CONFIDENCE",
    "AgreementMismatch",
    "AuthenticationError",
    "Client",
    "ConfigError",
    "ConflictError",
    "FlushResult",
    "HubError",
    "HubUnreachable",
    "InvalidRequest",
    "NotFound",
    "Outbox",
    "OutboxEntry",
    "PermissionDenied",
    "QualinkError",
    "QueuedReport",
    "RateLimited",
    "RejectedEntry",
    "RetryPolicy",
    "SdkConfig",
    "SdkDeprecationWarning",
    "ServerError",
    "StreamEvent",
    "WebhookVerificationError",
    "__version__",
    "build_capability_report",
    "build_mtbf_report",
    "build_ppm_report",
    "error_from_response",
    "load_config",
}

MODULES = [
    "supplier_sdk",
    "supplier_sdk.errors",
    "supplier_sdk.deprecation",
    "supplier_sdk.client",
    "supplier_sdk.kpi_reports",
    "supplier_sdk.events",
    "supplier_sdk.outbox",
    "supplier_sdk.outbox.entries",
    "supplier_sdk.outbox.claims",
    "supplier_sdk.outbox.store",
    "supplier_sdk.outbox.flush",
    "supplier_sdk.outbox.sender",
    "supplier_sdk.requester",
    "supplier_sdk.signer",
    "supplier_sdk.organizations",
    "supplier_sdk.agreements",
    "supplier_sdk.retry",
    "supplier_sdk.tokens",
    "supplier_sdk.reports",
    "supplier_sdk.config",
    "supplier_sdk.cli.report",
    "supplier_sdk.cli.outbox",
    "supplier_sdk.cli.options",
    "supplier_sdk.cli.attest",
    "supplier_sdk.attest",
    "supplier_sdk.webhooks",
    "supplier_sdk.rooms.crypto",
    "supplier_sdk.rooms.keywrap",
    "supplier_sdk.rooms.manifest",
    "supplier_sdk.rooms.client",
    "supplier_sdk.rooms.transfer",
    "supplier_sdk.cli.room",
    "supplier_sdk.genealogy",
    "supplier_sdk.trace",
    "supplier_sdk.notifications",
    "supplier_sdk.cli.connection",
    "supplier_sdk.cli.genealogy",
    "supplier_sdk.cli.notifications",
    "supplier_sdk.profiles",
    "supplier_sdk.key_files",
    "supplier_sdk.org_keys",
    "supplier_sdk.standings",
    "supplier_sdk.webhook_subscriptions",
    "supplier_sdk.cli.agreements",
    "supplier_sdk.cli.keys",
    "supplier_sdk.cli.output",
    "supplier_sdk.cli.profiles",
    "supplier_sdk.cli.standing",
    "supplier_sdk.cli.webhooks",
    "supplier_sdk.oem",
    "supplier_sdk.oem.client",
    "supplier_sdk.oem.listing",
    "supplier_sdk.oem.agreements",
    "supplier_sdk.oem.rules",
    "supplier_sdk.oem.standings",
    "supplier_sdk.oem.reports",
]


def test_the_package_exports_exactly_its_public_names() -> None:
    assert set(supplier_sdk.__all__) == PUBLIC
    assert len(supplier_sdk.__all__) == len(PUBLIC)
    for name in supplier_sdk.__all__:
        assert hasattr(supplier_sdk, name), name


def test_star_import_gives_the_public_names_only() -> None:
    namespace: dict[str, object] = {}
    exec("from supplier_sdk import *", namespace)  # noqa: S102 - the point is what * brings in

    assert set(namespace) - {"__builtins__"} == PUBLIC


def _documented_constants(module: ModuleType) -> dict[str, str]:
    """Module-level assignments followed by a string literal: the docstring convention for constants."""
    tree = ast.parse(inspect.getsource(module))
    found = {}
    for node, following in zip(tree.body, tree.body[1:], strict=False):
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        documented = isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
        if isinstance(target, ast.Name) and documented and isinstance(following.value.value, str):  # type: ignore[attr-defined]
            found[target.id] = following.value.value  # type: ignore[attr-defined]
    return found


def _public_members(obj: type) -> list[tuple[str, object]]:
    members = []
    for name, member in vars(obj).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property | staticmethod | classmethod) or inspect.isfunction(member):
            members.append((name, member))
    return members


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_has_a_docstring_with_an_example(module_name: str) -> None:
    module = importlib.import_module(module_name)
    constants = _documented_constants(module)
    missing = []
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            doc = inspect.getdoc(value) or ""
            if "Example" not in doc:
                missing.append(name)
            if inspect.isclass(value) and value.__module__ == module.__name__:
                for member_name, member in _public_members(value):
                    target = member.fget if isinstance(member, property) else member
                    if "Example" not in (inspect.getdoc(target) or ""):
                        missing.append(f"{name}.{member_name}")
        elif isinstance(value, str | int | float | frozenset | type(None)) or name.isupper():
            defining = module if name in constants else None
            if defining is None:
                source = next(
                    (
                        importlib.import_module(m)
                        for m in MODULES
                        if name in _documented_constants(importlib.import_module(m))
                    ),
                    None,
                )
                defining = source
            if defining is None or "Example" not in _documented_constants(defining).get(name, ""):
                missing.append(name)
    assert missing == [], f"{module_name}: no docstring with an example for {missing}"


@pytest.mark.parametrize("module_name", MODULES)
def test_the_docstring_examples_run(module_name: str) -> None:
    module = importlib.import_module(module_name)

    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)

    assert result.failed == 0


def test_the_sdk_and_its_cli_load_without_the_hub() -> None:
    code = "import sys, supplier_sdk, supplier_sdk.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('hub', 'fastapi', 'sqlalchemy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"
