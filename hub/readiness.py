"""What stands between a configuration and a serving hub, each said in one line: the database cannot be reached,
has no schema, or its schema is behind the code. The command line, `hub config check` and the background jobs
answer with these lines instead of a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from hub import migrate
from hub.config import DEVELOPMENT_WARNING, Settings, unknown_environment_variables
from hub.db import make_engine

NO_SCHEMA = "the database has no schema: run `hub db upgrade`"
# SQLSTATE 42P01 undefined_table (PostgreSQL); SQLite says it in words.
_MISSING_TABLE_MARKERS = ("no such table", "undefinedtable")


def database_address(settings: Settings) -> str:
    """Where the database is, without its password: ``host:port`` or the SQLite file."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    port = url.port or {"postgresql": 5432, "mysql": 3306}.get(url.get_backend_name())
    return f"{url.host or 'localhost'}:{port}"


def first_line(exc: BaseException) -> str:
    """The driver's own message, first line, without SQLAlchemy's SQL text and background link."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def schema_problem(engine: Engine) -> str | None:
    """None when the schema is at the migrations' head (or newer, during a rolling upgrade), else why not.

    Raises SQLAlchemyError when the database cannot be reached."""
    current = migrate.current_revision(engine)
    head = migrate.head_revision()
    if current is None:
        return NO_SCHEMA
    if current != head and migrate.is_known_revision(current):
        return f"the database schema is at {current}, this hub needs {head}: run `hub db upgrade`"
    return None


def database_problem(engine: Engine, settings: Settings, *, need_schema: bool = True) -> str | None:
    """None when the database answers (and, if asked, is at head), else the one line that says why not."""
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        return f"cannot reach the database at {database_address(settings)}: {first_line(exc)}"
    if not need_schema:
        return None
    try:
        return schema_problem(engine)
    except SQLAlchemyError as exc:
        return f"cannot read the schema version at {database_address(settings)}: {first_line(exc)}"


def explain_database_error(exc: SQLAlchemyError, engine: Engine, settings: Settings) -> str:
    """One line for a database error a command ran into: the cause an operator can fix, when there is one."""
    return database_problem(engine, settings) or f"database error: {first_line(exc)}"


def looks_like_missing_schema(exc: BaseException) -> bool:
    """True for the error a query raises when its table does not exist (no migrations ran)."""
    text = f"{type(getattr(exc, 'orig', None)).__name__} {first_line(exc)}".lower()
    return any(marker in text for marker in _MISSING_TABLE_MARKERS)


@dataclass(frozen=True)
class Finding:
    """One line of `hub config check`: ``level`` is ok, warn (works, but look) or fail (will not serve)."""

    level: Literal["ok", "warn", "fail"]
    text: str


def check_configuration() -> list[Finding]:
    """Everything `hub serve` would trip on, found without starting anything: unknown HUB_ variables, invalid
    settings, unreadable keys, an unreachable database, a schema behind the code."""
    unknown = unknown_environment_variables()
    findings = [
        Finding("fail", f"unknown setting {', '.join(unknown)}")
        if unknown
        else Finding("ok", "every HUB_ variable is a known setting")
    ]
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            name = f"HUB_{where.upper()}: " if where else ""
            findings.append(Finding("fail", f"{name}{error['msg'].removeprefix('Value error, ')}"))
        return findings
    findings.append(Finding("ok", f"{settings.environment} mode, issuer {settings.issuer}"))
    if settings.environment == "development":
        findings.append(Finding("warn", DEVELOPMENT_WARNING))
    findings += _key_findings(settings)
    findings += _database_findings(settings)
    return findings


def _key_findings(settings: Settings) -> list[Finding]:
    try:
        settings.signing_key()
        previous = settings.previous_public_keys()
        settings.attestation_key()
    except ValueError as exc:  # cryptography's loaders raise ValueError (and subclasses) for bad PEM
        return [Finding("fail", f"keys: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")]
    source = "HUB_TOKEN_SIGNING_KEY" if settings.token_signing_key else "the development key"
    return [Finding("ok", f"token signing key from {source}, {len(previous)} previous public key(s)")]


def _database_findings(settings: Settings) -> list[Finding]:
    address = database_address(settings)
    try:
        engine = make_engine(settings)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        return [Finding("fail", f"HUB_DATABASE_URL: {first_line(exc)}")]
    try:
        unreachable = database_problem(engine, settings, need_schema=False)
        if unreachable:
            return [Finding("fail", unreachable)]
        findings = [Finding("ok", f"database at {address} answers")]
        schema = database_problem(engine, settings)
        findings.append(
            Finding("fail", schema)
            if schema
            else Finding("ok", f"schema at {migrate.current_revision(engine)}")
        )
        return findings
    finally:
        engine.dispose()
