"""The agent's TOML configuration: the hub, the supplier's time zone, data sources and mappings.

``deploy/agent/agent.example.toml`` documents every key. :func:`load_agent_config` parses the file with
``tomllib`` and checks it; every problem is an :class:`AgentConfigError` naming the file, the line of the
offending key (found by :mod:`supplier_sdk.agent.lines`) and the key's path, e.g.
``agent.toml:14: mappings[1].kpi: 'cpx' is not one of cpk, ppk, ppm``.

Example:
    >>> text = '''
    ... [agent]
    ... time_zone = "Europe/Berlin"
    ... [sources.exports]
    ... kind = "folder"
    ... path = "/srv/exports"
    ... time_column = "time"
    ... [[mappings]]
    ... name = "dia"
    ... agreement = "01930000-0000-7000-8000-000000000001"
    ... characteristic = "DIA-01"
    ... kpi = "cpk"
    ... source = "exports"
    ... value_column = "diameter"
    ... '''
    >>> config = parse_agent_config(text, name="agent.toml")
    >>> config.time_zone.key, config.mappings[0].source.kind
    ('Europe/Berlin', 'folder')
    >>> parse_agent_config(text.replace('"cpk"', '"cpx"'), name="agent.toml")
    Traceback (most recent call last):
    ...
    supplier_sdk.agent.config.AgentConfigError: agent.toml:12: mappings[0].kpi: 'cpx' is not one of cpk, ppk, ppm
"""

from __future__ import annotations

import tomllib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from supplier_sdk.agent.lines import KeyPath, key_lines, line_of
from supplier_sdk.errors import ConfigError

KPIS = ("cpk", "ppk", "ppm")
"""The KPIs the agent computes from measurements (MTBF comes from life tests: use ``report submit``)."""

SOURCE_KINDS = ("folder", "sql", "command", "nats", "kafka")
STREAM_KINDS = ("nats", "kafka")
STREAM_FORMATS = ("json", "csv")


class AgentConfigError(ConfigError):
    """The agent's configuration file is unreadable or wrong; the message names the file, line and key."""


@dataclass(frozen=True)
class SourceConfig:
    """One data source: ``folder`` (CSV/XLSX files), ``sql`` (a query), ``command`` (CSV on stdout), or a stream
    of measurement messages: ``nats`` (a JetStream subject) or ``kafka`` (a topic), read by a durable consumer
    (``durable``: the JetStream consumer's name, the Kafka group id) as JSON objects or CSV lines (``format``)."""

    name: str
    kind: str
    path: Path | None = None
    pattern: str = "*.csv"
    url: str | None = None
    query: str | None = None
    command: tuple[str, ...] = ()
    timeout_seconds: float = 60.0
    delimiter: str | None = None
    decimal: str = "."
    time_column: str | None = None
    time_format: str | None = None
    sheet: str | None = None
    subject: str | None = None
    topic: str | None = None
    durable: str | None = None
    format: str = "json"
    columns: tuple[str, ...] = ()
    wait_seconds: float = 2.0
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def is_stream(self) -> bool:
        return self.kind in STREAM_KINDS


@dataclass(frozen=True)
class Mapping:
    """An agreement's characteristic and KPI, fed by a source's columns."""

    name: str
    agreement_id: uuid.UUID
    kpi: str
    characteristic: str | None
    source: SourceConfig
    value_column: str
    subgroup_column: str | None = None
    subgroup_size: int | None = None


@dataclass(frozen=True)
class AgentConfig:
    """The whole file: where state, status and outbox live, the hub, and the mappings."""

    time_zone: ZoneInfo
    state_file: Path
    status_file: Path
    poll_seconds: float
    backfill: int
    close_delay_minutes: int
    hub: dict[str, str] = field(default_factory=dict)
    sources: dict[str, SourceConfig] = field(default_factory=dict)
    mappings: tuple[Mapping, ...] = ()


class _Checker:
    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self.lines = key_lines(text)

    def fail(self, path: KeyPath, message: str) -> AgentConfigError:
        line = line_of(self.lines, path)
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return AgentConfigError(f"{self.name}:{line or 1}: {where + ': ' if where else ''}{message}")

    def table(
        self, raw: Any, path: KeyPath, known: set[str], required: frozenset[str] | set[str] = frozenset()
    ) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(path, "must be a table")
        for key in raw:
            if key not in known:
                raise self.fail((*path, key), f"unknown key (known: {', '.join(sorted(known))})")
        for key in sorted(required - set(raw)):
            raise self.fail(path, f"missing key {key!r}")
        return raw

    def text(self, raw: dict[str, Any], path: KeyPath, key: str, default: str | None = None) -> str | None:
        value = raw.get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.fail((*path, key), "must be a non-empty string")
        return value

    def number(self, raw: dict[str, Any], path: KeyPath, key: str, default: float, minimum: float) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.fail((*path, key), f"must be a number ≥ {minimum:g}")
        return float(value)


_AGENT_KEYS = {"time_zone", "state_file", "status_file", "poll_seconds", "backfill", "close_delay_minutes"}
_HUB_KEYS = {"url", "client_id", "key_file", "outbox"}
_SOURCE_KEYS = {
    "kind", "path", "pattern", "url", "query", "command", "timeout_seconds",
    "delimiter", "decimal", "time_column", "time_format", "sheet",
    "subject", "topic", "durable", "format", "columns", "wait_seconds", "settings",
}  # fmt: skip
_MAPPING_KEYS = {
    "name", "agreement", "characteristic", "kpi", "source", "value_column", "subgroup_column", "subgroup_size",
}  # fmt: skip


def _source(check: _Checker, name: str, raw: Any, base: Path) -> SourceConfig:
    path: KeyPath = ("sources", name)
    raw = check.table(raw, path, _SOURCE_KEYS, {"kind"})
    kind = raw["kind"]
    if kind not in SOURCE_KINDS:
        raise check.fail((*path, "kind"), f"{kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    needs = {
        "folder": ("path", "time_column"), "sql": ("url", "query"), "command": ("command",),
        "nats": ("url", "subject", "durable", "time_column"), "kafka": ("url", "topic", "durable", "time_column"),
    }[kind]  # fmt: skip
    for key in needs:
        if key not in raw:
            raise check.fail(path, f"a {kind} source needs {key!r}")
    command = raw.get("command", [])
    if kind == "command" and (
        not isinstance(command, list) or not command or not all(isinstance(a, str) for a in command)
    ):
        raise check.fail(
            (*path, "command"), "must be a non-empty array of strings (the program and its arguments)"
        )
    decimal = check.text(raw, path, "decimal", ".")
    if decimal not in (".", ","):
        raise check.fail((*path, "decimal"), "must be '.' or ','")
    delimiter = check.text(raw, path, "delimiter")
    if delimiter is not None and delimiter not in (",", ";", "\t", "|"):
        raise check.fail((*path, "delimiter"), "must be one of ',', ';', '|' or a tab")
    folder = check.text(raw, path, "path")
    stream = _stream_keys(check, path, raw, kind)
    return SourceConfig(
        name=name,
        kind=kind,
        path=None if folder is None else (base / Path(folder).expanduser()),
        pattern=check.text(raw, path, "pattern", "*.csv") or "*.csv",
        url=check.text(raw, path, "url"),
        query=check.text(raw, path, "query"),
        command=tuple(command),
        timeout_seconds=check.number(raw, path, "timeout_seconds", 60.0, 1.0),
        delimiter=delimiter,
        decimal=decimal or ".",
        time_column=check.text(raw, path, "time_column"),
        time_format=check.text(raw, path, "time_format"),
        sheet=check.text(raw, path, "sheet"),
        **stream,
    )


def _stream_keys(check: _Checker, path: KeyPath, raw: dict[str, Any], kind: str) -> dict[str, Any]:
    """The keys of a ``nats`` or ``kafka`` source (refused on other kinds, where they would mean nothing)."""
    keys = ("subject", "topic", "durable", "format", "columns", "wait_seconds", "settings")
    if kind not in STREAM_KINDS:
        for key in keys:
            if key in raw:
                raise check.fail((*path, key), f"only a nats or kafka source has {key!r}")
        return {}
    other = "topic" if kind == "nats" else "subject"
    if other in raw:
        raise check.fail(
            (*path, other), f"a {kind} source reads {'a subject' if kind == 'nats' else 'a topic'}"
        )
    fmt = check.text(raw, path, "format", "json") or "json"
    if fmt not in STREAM_FORMATS:
        raise check.fail((*path, "format"), f"{fmt!r} is not one of {', '.join(STREAM_FORMATS)}")
    columns = raw.get("columns", [])
    if not isinstance(columns, list) or not all(isinstance(c, str) and c.strip() for c in columns):
        raise check.fail((*path, "columns"), "must be an array of column names")
    if fmt == "csv" and not columns:
        raise check.fail(path, "a stream of CSV lines needs 'columns' (the names of the fields of a line)")
    durable = check.text(raw, path, "durable") or ""
    if kind == "nats" and not all(c.isalnum() or c in "-_" for c in durable):
        raise check.fail((*path, "durable"), "a JetStream consumer name: letters, digits, '-' and '_'")
    settings = raw.get("settings", {})
    if kind == "nats" and "settings" in raw:
        raise check.fail((*path, "settings"), "only a kafka source has librdkafka settings")
    if not isinstance(settings, dict) or not all(isinstance(v, str | int | bool) for v in settings.values()):
        raise check.fail((*path, "settings"), "must be a table of librdkafka settings (strings, numbers)")
    return {
        "subject": check.text(raw, path, "subject"),
        "topic": check.text(raw, path, "topic"),
        "durable": durable,
        "format": fmt,
        "columns": tuple(c.strip() for c in columns),
        "wait_seconds": check.number(raw, path, "wait_seconds", 2.0, 0.1),
        "settings": tuple(
            (str(k), str(v).lower() if isinstance(v, bool) else str(v)) for k, v in settings.items()
        ),
    }


def _mapping(
    check: _Checker, index: int, raw: Any, sources: dict[str, SourceConfig], seen: set[str]
) -> Mapping:
    path: KeyPath = ("mappings", index)
    raw = check.table(raw, path, _MAPPING_KEYS, {"name", "agreement", "kpi", "source", "value_column"})
    name = check.text(raw, path, "name") or ""
    if name in seen:
        raise check.fail((*path, "name"), f"mapping {name!r} is named twice")
    seen.add(name)
    try:
        agreement = uuid.UUID(str(raw["agreement"]))
    except ValueError:
        raise check.fail(
            (*path, "agreement"), f"{raw['agreement']!r} is not an agreement id (a UUID)"
        ) from None
    kpi = raw["kpi"]
    if kpi not in KPIS:
        raise check.fail((*path, "kpi"), f"{kpi!r} is not one of {', '.join(KPIS)}")
    source = raw["source"]
    if source not in sources:
        known = ", ".join(sorted(sources)) or "none defined"
        raise check.fail((*path, "source"), f"no source {source!r} (sources: {known})")
    size = raw.get("subgroup_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 2):
        raise check.fail((*path, "subgroup_size"), "must be an integer ≥ 2")
    if size is not None and "subgroup_column" in raw:
        raise check.fail((*path, "subgroup_size"), "give subgroup_size or subgroup_column, not both")
    return Mapping(
        name=name,
        agreement_id=agreement,
        kpi=kpi,
        characteristic=check.text(raw, path, "characteristic"),
        source=sources[source],
        value_column=check.text(raw, path, "value_column") or "",
        subgroup_column=check.text(raw, path, "subgroup_column"),
        subgroup_size=size,
    )


def parse_agent_config(text: str, *, name: str = "agent.toml", base: Path | None = None) -> AgentConfig:
    """Parse and check a configuration text; relative paths are taken from ``base`` (default the cwd).

    Raises:
        AgentConfigError: a TOML syntax error (tomllib's line), or a wrong, unknown or missing key (its line).
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AgentConfigError(f"{name}: {exc}") from None
    check = _Checker(text, name)
    check.table(raw, (), {"agent", "hub", "sources", "mappings"}, {"mappings"})
    agent = check.table(raw.get("agent", {}), ("agent",), _AGENT_KEYS)
    zone = check.text(agent, ("agent",), "time_zone", "UTC") or "UTC"
    try:
        time_zone = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise check.fail(
            ("agent", "time_zone"), f"{zone!r} is not a known time zone (e.g. Europe/Berlin)"
        ) from None
    hub = check.table(raw.get("hub", {}), ("hub",), _HUB_KEYS)
    for key in hub:
        check.text(hub, ("hub",), key)
    root = base or Path.cwd()
    sources_raw = check.table(raw.get("sources", {}), ("sources",), set(raw.get("sources", {})))
    sources = {key: _source(check, key, value, root) for key, value in sources_raw.items()}
    if not isinstance(raw["mappings"], list) or not raw["mappings"]:
        raise check.fail(("mappings",), "needs at least one [[mappings]] table")
    seen: set[str] = set()
    mappings = tuple(_mapping(check, i, m, sources, seen) for i, m in enumerate(raw["mappings"]))
    return AgentConfig(
        time_zone=time_zone,
        state_file=root
        / Path(check.text(agent, ("agent",), "state_file", "agent-state.json") or "").expanduser(),
        status_file=root
        / Path(check.text(agent, ("agent",), "status_file", "agent-status.json") or "").expanduser(),
        poll_seconds=check.number(agent, ("agent",), "poll_seconds", 300.0, 1.0),
        backfill=int(check.number(agent, ("agent",), "backfill", 1, 1)),
        close_delay_minutes=int(check.number(agent, ("agent",), "close_delay_minutes", 0, 0)),
        hub={
            key: str(root / Path(value).expanduser()) if key in ("key_file", "outbox") else value
            for key, value in hub.items()
        },
        sources=sources,
        mappings=mappings,
    )


def load_agent_config(path: str | Path) -> AgentConfig:
    """Read and check the configuration file at ``path``; relative paths in it are taken from its folder.

    Raises:
        AgentConfigError: the file cannot be read, or :func:`parse_agent_config` refuses it.
    """
    source = Path(path).expanduser()
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentConfigError(f"cannot read the agent configuration {source}: {exc}") from None
    return parse_agent_config(text, name=str(source), base=source.parent.resolve())


__all__ = [
    "KPIS",
    "AgentConfig",
    "AgentConfigError",
    "Mapping",
    "SourceConfig",
    "load_agent_config",
    "parse_agent_config",
]
