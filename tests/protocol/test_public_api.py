"""The public surface of ``protocol``: ``__all__``, documented names, runnable examples, pure imports."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import protocol

ROOT = Path(protocol.__file__).resolve().parent
FORBIDDEN = (
    "hub",
    "supplier_sdk",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "httpx",
    "psycopg",
)

# Names of the skeleton's model modules, written before the rule "every public name has an example".
SKELETON_WITHOUT_EXAMPLES = {
    "protocol.models.agreements": {"Agreement", "AgreementCreate", "AgreementDecision"},
    "protocol.models.common": {
        "AgreementStatus",
        "ClientAuthMethod",
        "Comparator",
        "DisclosureMode",
        "KeyStatus",
        "KeyUse",
        "KpiName",
        "OrgKind",
        "PeriodKind",
    },
    "protocol.models.errors": {"FieldError"},
    "protocol.models.orgs": {"ApiClient", "OrgKey", "Organization", "TokenResponse"},
}


def module_names() -> list[str]:
    names = ["protocol"]
    names += [info.name for info in pkgutil.walk_packages(protocol.__path__, "protocol.")]
    return sorted(names)


MODULES = module_names()


def load(name: str) -> ModuleType:
    return importlib.import_module(name)


def attribute_docstrings(module: ModuleType) -> dict[str, str]:
    """Docstrings written under module-level assignments (``NAME = ...`` followed by a string)."""
    tree = ast.parse(inspect.getsource(module))
    found: dict[str, str] = {}
    for node, following in zip(tree.body, tree.body[1:], strict=False):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = inspect.cleandoc(following.value.value)
    return found


def docstring_of(module: ModuleType, name: str) -> str | None:
    value = getattr(module, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        return inspect.getdoc(value)
    return attribute_docstrings(module).get(name)


def test_the_walk_finds_every_module() -> None:
    expected = {
        "protocol",
        "protocol.encoding",
        "protocol.errors",
        "protocol.models.agreements",
        "protocol.models.common",
        "protocol.models.errors",
        "protocol.models.kpi",
        "protocol.models.orgs",
        "protocol.models.pages",
        "protocol.periods",
        "protocol.schemas",
        "protocol.signing",
    }
    assert expected <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all_and_every_name_exists(name: str) -> None:
    module = load(name)
    assert module.__doc__, f"{name} has no module docstring"
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{name} has no __all__ list"
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    missing = [item for item in exported if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names what the module lacks: {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_is_documented_with_an_example(name: str) -> None:
    module = load(name)
    exempt = SKELETON_WITHOUT_EXAMPLES.get(name, set())
    undocumented, without_example = [], []
    for item in getattr(module, "__all__", []):
        doc = docstring_of(module, item)
        if not doc:
            undocumented.append(item)
        elif ">>>" not in doc and item not in exempt:
            without_example.append(item)
    assert not undocumented, f"{name}: no docstring for {undocumented}"
    assert not without_example, f"{name}: no example in the docstring of {without_example}"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = load(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = finder.find(module, name)
    parser = doctest.DocTestParser()
    for item, doc in attribute_docstrings(module).items():
        if ">>>" in doc:
            tests.append(parser.get_doctest(doc, dict(vars(module)), f"{name}.{item}", module.__file__, 0))
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in tests:
        runner.run(test, out=lambda _text: None)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples fail in {name}; run doctest"


def test_skeleton_exemptions_are_still_needed() -> None:
    # When someone adds the examples, the exemption must go too.
    for name, items in SKELETON_WITHOUT_EXAMPLES.items():
        module = load(name)
        for item in items:
            assert ">>>" not in (docstring_of(module, item) or ""), f"drop {name}.{item} from the exemptions"


def test_importing_protocol_loads_no_web_or_database_library() -> None:
    script = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    loaded = {module.split(".")[0] for module in json.loads(result.stdout)}
    assert not loaded & set(FORBIDDEN), f"importing protocol loads {sorted(loaded & set(FORBIDDEN))}"


def test_no_protocol_source_imports_a_forbidden_package() -> None:
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = [node.module.split(".")[0]]
            else:
                continue
            offenders += [f"{path.relative_to(ROOT.parent)}: {root}" for root in roots if root in FORBIDDEN]
    assert not offenders, offenders


def test_protocol_id() -> None:
    assert protocol.PROTOCOL_ID == "QX/1"
    assert protocol.__all__ == ["PROTOCOL_ID"]
