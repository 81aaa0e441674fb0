from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.hub.notifications.chain import Chain, build_chain


@pytest.fixture
def chain(db: Session, client: TestClient) -> Chain:
    return build_chain(db, client)
