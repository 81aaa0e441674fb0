"""Alembic environment: the URL comes from the hub's Settings (or a connection handed in by the caller)."""

from __future__ import annotations

import re

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from hub.config import get_settings
from hub.models import Base

config = context.config
target_metadata = Base.metadata
# A month's partition of a partitioned table (PostgreSQL, migration 9c4d2e7a1b65) is a table no model names: the
# retention job makes and drops them, so autogenerate and `alembic check` look at the partitioned parents only.
_PARTITION = re.compile(r"^(events|audit_entries|webhook_deliveries|period_outcomes)_(y\d{4}m\d{2}|default)$")


def _include_name(name: str | None, type_: str, _parent: object) -> bool:
    return not (type_ == "table" and name is not None and _PARTITION.match(name))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=get_settings().database_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(get_settings().database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
