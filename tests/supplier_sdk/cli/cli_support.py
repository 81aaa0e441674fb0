"""Running ``supplier-sdk`` against a real hub as one organization (no tests in here)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from supplier_sdk.cli import app
from tests.supplier_sdk.test_client_support import Network, Party


def environment(network: Network, party: Party, folder: Path) -> dict[str, str]:
    """The ``QUALINK_*`` variables for ``party``; no config file, so no profile of the machine's user counts."""
    return {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": party.client_id,
        "QUALINK_KEY_FILE": str(party.write_key(folder)),
        "QUALINK_CONFIG": str(folder / "absent-config.toml"),
    }


def cli(env: dict[str, str], *args: str, status: int = 0) -> str:
    """``supplier-sdk ARGS`` with ``env``; its stdout when it succeeds, its stderr when ``status`` is not 0."""
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == status, (result.stdout, result.stderr)
    return result.stdout if status == 0 else result.stderr
