"""What the agent remembers (the state file), what it shows (the status file) and what it logs (JSON lines).

- The **state file** holds, per mapping, the periods settled (sent, queued, or answered for good) within the
  backfill window, and the content hashes of the folder files already read with the time range each covers.
  Older periods are pruned, so the file stays the same size however long the agent runs.
- The **status file** is for people and monitoring: the agent's health (``ok``, ``degraded`` when a mapping
  failed in the last pass, ``stopped``), when it last ran, and each mapping's last outcome.
- **Log lines** are one JSON object each on stderr: ``{"time", "level", "event", ...}``.

Both files are written whole to a temporary file and renamed over the old one: a reader never sees half a file.
Neither holds a measurement.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or ``None`` when there is no file yet.

    Raises:
        ValueError: the file exists but is not a JSON object.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return data


@dataclass
class AgentState:
    """Settled periods per mapping (``{mapping: {period: outcome}}``) and known files (``{sha256: [first, last]}``)."""

    settled: dict[str, dict[str, str]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> AgentState:
        data = read_json(path) or {}
        return cls(settled=dict(data.get("settled", {})), files=dict(data.get("files", {})))

    def save(self, path: Path) -> None:
        write_json(path, {"settled": self.settled, "files": self.files})

    def is_settled(self, mapping: str, period: str) -> bool:
        return period in self.settled.get(mapping, {})

    def settle(self, mapping: str, period: str, outcome: str, keep: set[str]) -> None:
        """Record the period's outcome, dropping periods no longer in the backfill window (``keep``)."""
        periods = {p: o for p, o in self.settled.get(mapping, {}).items() if p in keep}
        periods[period] = outcome
        self.settled[mapping] = periods


@dataclass
class MappingStatus:
    """A mapping's last outcome, as ``agent status`` shows it."""

    mapping: str
    period: str | None
    outcome: str
    reason: str | None = None
    rows: int | None = None
    at: str = ""


def write_status(
    path: Path, *, health: str, now: datetime, mappings: dict[str, MappingStatus], pid: int
) -> None:
    """Write the status file: health, time, process id and each mapping's last outcome."""
    write_json(
        path,
        {
            "health": health,
            "updated_at": now.astimezone(UTC).isoformat(),
            "pid": pid,
            "mappings": {name: asdict(status) for name, status in mappings.items()},
        },
    )


def last_statuses(path: Path) -> dict[str, MappingStatus]:
    """Each mapping's last outcome from an earlier status file (none when there is none, or it is unreadable)."""
    try:
        data = read_json(path) or {}
        return {name: MappingStatus(**fields) for name, fields in data.get("mappings", {}).items()}
    except (ValueError, TypeError):
        return {}


def log_event(event: str, *, level: str = "info", stream: TextIO | None = None, **fields: Any) -> None:
    """Write one structured log line: ``{"time": ..., "level": ..., "event": ..., **fields}``."""
    line = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": level,
        "event": event,
        **fields,
    }
    out = stream or sys.stderr
    out.write(json.dumps(line, default=str) + "\n")
    out.flush()


__all__ = [
    "AgentState",
    "MappingStatus",
    "last_statuses",
    "log_event",
    "read_json",
    "write_json",
    "write_status",
]
