"""The three-tier network every trace test module runs against: a hub of its own per module (named after the
module, so the CLI and SDK modules never share a database) and the genealogy of tiers.py imported into it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.supplier_sdk.test_client_support import Network, running_network
from tests.supplier_sdk.trace.tiers import Tiers, build_tiers


@pytest.fixture(scope="module")
def network(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    label = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")  # trace_cli, trace_e2e
    with running_network(tmp_path_factory.mktemp("hub"), label) as network:
        yield network


@pytest.fixture(scope="module")
def tiers(network: Network, tmp_path_factory: pytest.TempPathFactory) -> Tiers:
    return build_tiers(network, tmp_path_factory.mktemp("genealogy"))
