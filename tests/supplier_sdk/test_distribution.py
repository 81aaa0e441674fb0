"""qualink-sdk, the supplier's install without the hub stack (sdk/pyproject.toml).

The wheel is built here from a copy of only supplier_sdk/, protocol/ and sdk/ (so it needs nothing of the hub),
then read: its files, its Requires-Dist and its commands. Its requirements are the full distribution's own lines,
and every import of supplier_sdk and protocol is of the standard library, of themselves or of what the wheel
requires (lazy imports, inside a function, may come from an extra). That a fresh venv really installs and runs it
is measured by tests/bench/test_sdk_install_bench.py (it downloads from the package index).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("supplier_sdk", "protocol")
SDK_REQUIRES = {
    "httpx",
    "py-ecc",
    "py-arkworks-bls12381",  # where a wheel exists (a platform marker, not an extra)
    "pydantic",
    "cryptography",
    "joserfc",
    "rfc8785",
    "rich",
    "typer",
    "click",
    "scipy",
    "numpy",
    "openpyxl",
}
HUB_STACK = {
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "authlib",
    "psycopg",
    "pydantic-settings",
    "jinja2",
}


def _project(path: Path) -> dict[str, object]:
    project: dict[str, object] = tomllib.loads(path.read_text())["project"]
    return project


SDK = _project(ROOT / "sdk" / "pyproject.toml")
FULL = _project(ROOT / "pyproject.toml")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    stage = tmp_path_factory.mktemp("sdk-stage")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    for name in (*PACKAGES, "sdk"):
        shutil.copytree(ROOT / name, stage / name, ignore=ignore)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(stage / "sdk"), "-w", str(stage)],
        check=True,
        cwd=stage,
        timeout=300,
    )
    [built] = stage.glob("qualink_sdk-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def _metadata(wheel: zipfile.ZipFile) -> list[Requirement]:
    text = wheel.read(f"qualink_sdk-{SDK['version']}.dist-info/METADATA").decode()
    return [Requirement(line) for line in Parser().parsestr(text).get_all("Requires-Dist") or []]


def test_the_wheel_carries_supplier_sdk_and_protocol_and_nothing_else(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    tops = {name.split("/")[0] for name in names}
    assert tops == {*PACKAGES, f"qualink_sdk-{SDK['version']}.dist-info"}
    sources = {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".json")
    }
    assert sources - names == set(), "files of the sources missing from the wheel"
    assert any(name.startswith("protocol/schemas/") for name in names)


def test_the_wheel_requires_only_what_the_sdk_needs(wheel: zipfile.ZipFile) -> None:
    required = _metadata(wheel)

    def of_extra(requirement: Requirement) -> bool:
        return requirement.marker is not None and "extra ==" in str(requirement.marker)

    base = {canonicalize_name(r.name) for r in required if not of_extra(r)}
    assert base == {canonicalize_name(name) for name in SDK_REQUIRES}
    assert not base & {canonicalize_name(name) for name in HUB_STACK}
    extras = {str(r.marker) for r in required if of_extra(r)}
    assert extras == {f'extra == "{name}"' for name in ("agent-sql", "agent-stream", "fast", "arkworks")}


def test_the_wheel_offers_the_supplier_sdk_command_only(wheel: zipfile.ZipFile) -> None:
    text = wheel.read(f"qualink_sdk-{SDK['version']}.dist-info/entry_points.txt").decode()
    assert text.split() == ["[console_scripts]", "supplier-sdk", "=", "supplier_sdk.cli:main"]


def test_requirements_and_version_are_the_full_distributions_own() -> None:
    assert SDK["version"] == FULL["version"]
    assert SDK["requires-python"] == FULL["requires-python"]
    full_lines = {line.split("#")[0].strip() for line in FULL["dependencies"]}  # type: ignore[attr-defined]
    for lines in FULL["optional-dependencies"].values():  # type: ignore[attr-defined]
        full_lines |= set(lines)
    sdk_lines = set(SDK["dependencies"])  # type: ignore[call-overload]
    for lines in SDK["optional-dependencies"].values():  # type: ignore[attr-defined]
        sdk_lines |= set(lines)
    assert sdk_lines - full_lines == set(), (
        "a requirement of qualink-sdk the full distribution pins otherwise"
    )


# --- what supplier_sdk and protocol import ------------------------------------------------------------------


def _imports(tree: ast.AST) -> Iterator[tuple[str, bool]]:
    """(top-level module, lazy?) of each import; lazy = inside a function or guarded by ``except ImportError``."""

    def walk(node: ast.AST, lazy: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                yield from ((alias.name.split(".")[0], lazy) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module.split(".")[0], lazy
            elif (
                isinstance(child, ast.Call)
                and getattr(child.func, "attr", getattr(child.func, "id", None)) == "import_module"
                and child.args
                and isinstance(child.args[0], ast.Constant)
                and isinstance(child.args[0].value, str)
            ):
                yield child.args[0].value.split(".")[0], True
            guarded = isinstance(child, ast.Try) and any(
                getattr(h.type, "id", None) in ("ImportError", "ModuleNotFoundError") for h in child.handlers
            )
            is_function = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from walk(child, lazy or guarded or is_function)

    yield from walk(tree, False)


def _closure(names: set[str]) -> set[str]:
    """The distributions ``names`` bring along, as installed here (typer brings click, pydantic its core …)."""
    seen: set[str] = set()
    todo = [canonicalize_name(name) for name in names]
    environment = {**default_environment(), "extra": ""}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            lines = requires(name) or []
        except PackageNotFoundError:
            continue
        for line in lines:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                todo.append(canonicalize_name(requirement.name))
    return seen


def test_supplier_sdk_and_protocol_import_only_their_declared_dependencies() -> None:
    base = _closure({Requirement(line).name for line in SDK["dependencies"]})  # type: ignore[attr-defined]
    extras = {
        canonicalize_name(Requirement(line).name)
        for lines in SDK["optional-dependencies"].values()  # type: ignore[attr-defined]
        for line in lines
    }
    providers = packages_distributions()
    stray = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module, lazy in _imports(ast.parse(path.read_text(), str(path))):
                if module in sys.stdlib_module_names or module in PACKAGES or module == "__future__":
                    continue
                dists = {canonicalize_name(d) for d in providers.get(module, [module])}
                if dists & base or (lazy and dists & extras):
                    continue
                stray.append(f"{path.relative_to(ROOT)}: {module} ({'lazy' if lazy else 'at import'})")
    assert stray == [], "imports outside qualink-sdk's requirements:\n" + "\n".join(stray)
