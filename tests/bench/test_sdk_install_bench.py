"""How big a supplier's install is: qualink-sdk (sdk/) against the full qualink distribution, each in a fresh venv.

Needs the package index (every requirement is downloaded or taken from pip's cache), so it is a benchmark, run on
demand: ``pytest tests/bench/test_sdk_install_bench.py --override-ini addopts= -p no:cacheprovider -s``. It builds
the qualink-sdk wheel from a copy of only supplier_sdk/, protocol/ and sdk/, installs it with its requirements in
a venv without system site-packages, runs ``supplier-sdk --help`` and a capability computation there, imports
every module of supplier_sdk and protocol, and shows that ``import hub`` fails; then installs the full
distribution (non-editable) in another fresh venv. The figures go into README ("Installing the supplier side").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HUB_STACK = {"fastapi", "uvicorn", "sqlalchemy", "alembic", "authlib", "psycopg", "starlette", "jinja2"}

pytestmark = pytest.mark.bench


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=1200)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _venv(path: Path) -> Path:
    _run(sys.executable, "-m", "venv", path)
    return path / "bin"


def _site_packages(bin_dir: Path) -> tuple[int, int]:
    """(bytes on disk, distributions) of a venv's site-packages."""
    site = Path(
        _run(bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip()
    )
    size = int(_run("du", "-sb", site).split()[0])
    listed = json.loads(_run(bin_dir / "pip", "list", "--format", "json", "--exclude", "pip"))
    return size, len(listed)


def test_sdk_install_is_small_and_has_no_hub(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "*.egg-info")
    for name in ("supplier_sdk", "protocol", "sdk"):
        shutil.copytree(ROOT / name, stage / name, ignore=ignore)
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", stage / "sdk", "-w", stage)
    [wheel] = stage.glob("qualink_sdk-*.whl")

    sdk = _venv(tmp_path / "sdk-venv")
    _run(sdk / "pip", "install", "--quiet", wheel)
    assert "Qualink supplier SDK" in _run(sdk / "supplier-sdk", "--help")
    data = tmp_path / "diameter.csv"
    data.write_text("diameter\n" + "\n".join(f"{10 + (i % 7 - 3) * 0.01:.3f}" for i in range(50)) + "\n")
    result = json.loads(
        _run(
            sdk / "supplier-sdk",
            "kpi",
            "capability",
            "--data",
            data,
            "--lsl",
            "9.9",
            "--usl",
            "10.1",
            "--json",
        )
    )
    assert result["cpk"] > 1.33, result
    walk = (
        "import importlib, pkgutil, supplier_sdk, protocol\n"
        "for package in (supplier_sdk, protocol):\n"
        "    for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        if not info.name.endswith('.__main__'):  # that one runs the CLI\n"
        "            importlib.import_module(info.name)\n"
    )
    _run(sdk / "python", "-c", walk, cwd=tmp_path)
    no_hub = subprocess.run(
        [sdk / "python", "-c", "import hub"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert no_hub.returncode == 1 and "ModuleNotFoundError: No module named 'hub'" in no_hub.stderr
    names = {d["name"].lower() for d in json.loads(_run(sdk / "pip", "list", "--format", "json"))}
    assert not names & HUB_STACK, names & HUB_STACK
    sdk_bytes, sdk_dists = _site_packages(sdk)

    full = _venv(tmp_path / "full-venv")
    _run(full / "pip", "install", "--quiet", ROOT)
    full_bytes, full_dists = _site_packages(full)

    load = os.getloadavg()[0]
    print(
        f"\nqualink-sdk: {sdk_bytes / 2**20:.0f} MiB in {sdk_dists} distributions; "
        f"qualink (full): {full_bytes / 2**20:.0f} MiB in {full_dists} distributions; load {load:.2f}"
    )
    assert sdk_bytes < full_bytes and sdk_dists < full_dists
