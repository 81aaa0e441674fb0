"""Room members for tests that drive a real hub: an organization with its API client, Ed25519 signing key and
X25519 encryption key, both registered through the SDK (no tests in here)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Engine, select

from hub.db import make_engine
from hub.models import Base
from protocol.models.common import OrgKind
from supplier_sdk.client import Client
from supplier_sdk.rooms.client import Rooms
from supplier_sdk.rooms.keywrap import generate_encryption_key
from tests.supplier_sdk.test_client_support import Network, Party


@dataclass
class Member:
    """An organization that can take part in rooms: its party, client, rooms facade and X25519 key."""

    party: Party
    client: Client
    encryption_key: X25519PrivateKey

    @property
    def org_id(self) -> uuid.UUID:
        return self.party.org_id

    @property
    def rooms(self) -> Rooms:
        return self.client.rooms


def join_network(network: Network, kind: OrgKind, name: str, party: Party | None = None) -> Member:
    """Register (unless ``party`` is given) an organization and both its keys, through the SDK."""
    party = party or network.register(kind, f"{name} {uuid.uuid4().hex[:6]}")
    key = generate_encryption_key()
    client = network.client(party, encryption_key=key)
    client.keys.register_signing_key()
    client.rooms.register_encryption_key()
    return Member(party=party, client=client, encryption_key=key)


@contextmanager
def hub_engine(network: Network) -> Iterator[Engine]:
    engine = make_engine(network.hub.settings)
    try:
        yield engine
    finally:
        engine.dispose()


def table_rows(network: Network, table: str, **where: Any) -> list[dict[str, Any]]:
    """Rows of a hub table, straight from the database."""
    with hub_engine(network) as engine:
        model = Base.metadata.tables[table]
        query = select(model)
        for column, value in where.items():
            query = query.where(model.c[column] == value)
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]


def write_file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
