"""Alembic migrations: the only way the hub's schema is made, on SQLite and PostgreSQL alike."""
