"""The shipped Caddyfile is valid Caddy 2 configuration and keeps the streaming routes' own limits."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "proxy" / "Caddyfile"
CADDY = shutil.which("caddy")


@pytest.mark.skipif(CADDY is None, reason="caddy is not installed (apt-get install caddy)")
def test_the_caddyfile_adapts_and_gives_uploads_their_own_body_limits(tmp_path: Path) -> None:
    assert CADDY is not None
    adapted = subprocess.run(
        [CADDY, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        check=True,
        env={"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)},
    )
    config = json.loads(adapted.stdout)
    text = json.dumps(config)
    limits = sorted({int(n) for n in re.findall(r'"max_size": (\d+)', text)})
    assert limits == [1024**2, 4 * 1024**3, 8 * 1024**3]
    server = next(iter(config["apps"]["http"]["servers"].values()))
    assert "read_timeout" not in server, "a whole-body read timeout would cut off large uploads"
    assert server["read_header_timeout"] == 10 * 10**9
