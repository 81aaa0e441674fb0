"""Every name the Client had before it became resources on a requester still works for one release, and warns.

Each old spelling is called against a real hub on a local socket: it must give what the new spelling gives, and
raise one :class:`~supplier_sdk.deprecation.SdkDeprecationWarning` (a ``DeprecationWarning``) that names the new
spelling and points at the caller's line (``stacklevel``). The SDK's own callers (CLI, agent, demo) use the new
names: the last test runs a CLI command and the outbox flush with every ``DeprecationWarning`` turned into an
error. Everywhere else in the suite pytest's ``filterwarnings`` (pyproject.toml) makes an old name an error, so
these tests catch the warnings themselves; one test checks that filter is in force.
"""

from __future__ import annotations

import importlib
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from protocol.models.kpi import KpiReportPayload
from supplier_sdk.client import Client
from supplier_sdk.deprecation import SdkDeprecationWarning
from supplier_sdk.errors import NotFound
from supplier_sdk.oem import OemClient
from supplier_sdk.outbox import Outbox
from supplier_sdk.reports import build_capability_report
from tests.supplier_sdk.test_client_support import (
    Network,
    Reporting,
    agreement_terms,
    closed_url,
    past_weeks,
    running_network,
)

pytestmark = pytest.mark.e2e

GOOD = np.round(np.random.default_rng(3).normal(25.0, 0.003, 50), 4)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("hub"), "sdk_deprecated") as network:
        yield network


@pytest.fixture
def reporting(network: Network) -> Reporting:
    return network.reporting()


def payload(reporting: Reporting, period: str) -> KpiReportPayload:
    return build_capability_report(
        agreement=reporting.agreement, characteristic="DIA-01", period=period, kpi="cpk", values=GOOD
    )


def old(call: Callable[[], Any], new_name: str, *, at_caller: bool = True) -> Any:
    """``call()`` under a check that it warns exactly once, naming ``new_name``, at this file's line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 1, [str(w.message) for w in caught]
    assert deprecations[0].category is SdkDeprecationWarning
    assert new_name in str(deprecations[0].message)
    assert "next release" in str(deprecations[0].message)
    if at_caller:  # stacklevel points at the caller, not the SDK (an import's warning points into importlib)
        assert deprecations[0].filename == __file__
    return result


def test_the_suite_refuses_an_old_name_outside_this_file(
    network: Network, reporting: Reporting, request: pytest.FixtureRequest
) -> None:
    hub = network.client(reporting.supplier)
    assert "error::supplier_sdk.deprecation.SdkDeprecationWarning" in request.config.getini("filterwarnings")
    if not request.config.pluginmanager.has_plugin("warnings"):  # -p no:warnings: pytest applies no filter
        return

    with pytest.raises(SdkDeprecationWarning, match=r"organizations\.me\(\)"):
        hub.organization()  # pyproject's filterwarnings: error::supplier_sdk.deprecation.SdkDeprecationWarning
    with pytest.warns(SdkDeprecationWarning, match="next release"):
        assert hub.organization() == hub.organizations.me()


def test_the_old_agreement_and_organization_names(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    agreement_id = reporting.agreement.id

    assert old(lambda: hub.organization(), "organizations.me()") == hub.organizations.me()
    assert old(lambda: hub.agreement(agreement_id), "agreements.get()") == hub.agreements.get(agreement_id)
    assert old(lambda: hub.agreements(status="active"), "agreements.list(") == hub.agreements.list(
        status="active"
    )
    assert old(lambda: hub.register_signing_key(), "keys.register_signing_key()") == reporting.key_id

    oem = network.client(network.oem)
    proposed = [
        oem.request("POST", "/v1/agreements", json=agreement_terms(reporting.supplier.org_id))
        for _ in range(2)
    ]
    accepted = old(lambda: hub.accept_agreement(proposed[0]["id"], reason="ok"), "agreements.accept()")
    declined = old(lambda: hub.decline_agreement(proposed[1]["id"], reason="no"), "agreements.decline()")
    assert (accepted.status.value, declined.status.value) == ("active", "declined")


def test_the_old_kpi_report_names(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    weeks = past_weeks(4)

    context = old(
        lambda: hub.attestation_context(
            reporting.agreement.id, kpi="cpk", period=weeks[0], characteristic="DIA-01"
        ),
        "kpi_reports.attestation_context()",
    )
    assert context == hub.kpi_reports.attestation_context(
        reporting.agreement.id, kpi="cpk", period=weeks[0], characteristic="DIA-01"
    )
    envelope = old(lambda: hub.sign_report(payload(reporting, weeks[0])), "kpi_reports.sign()")
    assert envelope.key_id == hub.signing_key_id
    first = old(
        lambda: hub.submit_envelope(envelope, idempotency_key=str(uuid.uuid4())),
        "kpi_reports.submit_envelope()",
    )
    second = old(lambda: hub.submit_report(payload(reporting, weeks[1])), "kpi_reports.submit()")
    [third] = old(
        lambda: hub.submit_batch([(payload(reporting, weeks[2]), str(uuid.uuid4()))]),
        "kpi_reports.submit_batch()",
    )
    assert third.status == 201 and third.report is not None

    assert old(lambda: hub.report(first.id), "kpi_reports.get()") == hub.kpi_reports.get(first.id)
    listed = old(lambda: list(hub.reports(agreement_id=reporting.agreement.id)), "kpi_reports.list()")
    assert {r.id for r in listed} == {first.id, second.id, third.report.id}


def test_the_old_trace_and_events_calls(network: Network, reporting: Reporting) -> None:
    hub = network.client(reporting.supplier)
    hub.kpi_reports.submit(payload(reporting, past_weeks(1)[0]))

    with pytest.raises(NotFound):
        old(lambda: hub.trace([f"no-such-lot-{uuid.uuid4().hex[:6]}"]), "client.trace.run(")
    events = old(lambda: list(hub.events(once=True)), "client.events.follow(")
    # the same stream from the start; the worker may have numbered another event (standing.changed) since
    later = [e.id for e in hub.events.follow(once=True)]
    assert events and later[: len(events)] == [e.id for e in events]

    oem = OemClient(client=network.client(network.oem))
    assert isinstance(old(lambda: list(oem.events(once=True)), "client.events.follow("), list)


def test_flushing_with_the_client_itself_still_works(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    down = Client(
        base_url=closed_url(), client_id=reporting.supplier.client_id, private_key=reporting.supplier.key
    )
    down.kpi_reports.submit(payload(reporting, past_weeks(1)[0]), outbox=outbox)
    down.close()

    result = old(lambda: outbox.flush(network.client(reporting.supplier)), "Outbox.flush(client.kpi_reports)")

    assert (result.sent, result.remaining) == (1, 0)


@pytest.mark.parametrize(
    ("old_module", "new_module"), [("outbox_entries", "entries"), ("outbox_claims", "claims")]
)
def test_the_old_outbox_modules_still_import(old_module: str, new_module: str) -> None:
    sys.modules.pop(f"supplier_sdk.{old_module}", None)

    module = old(
        lambda: importlib.import_module(f"supplier_sdk.{old_module}"),
        f"supplier_sdk.outbox.{new_module}",
        at_caller=False,
    )

    new = importlib.import_module(f"supplier_sdk.outbox.{new_module}")
    assert all(getattr(module, name) is getattr(new, name) for name in new.__all__)


def test_the_sdks_own_callers_use_the_new_names(
    network: Network, reporting: Reporting, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from supplier_sdk.cli import app

    key_file = reporting.supplier.write_key(tmp_path)
    env = {
        "QUALINK_HUB_URL": network.base_url,
        "QUALINK_CLIENT_ID": reporting.supplier.client_id,
        "QUALINK_KEY_FILE": str(key_file),
        "QUALINK_CONFIG": str(tmp_path / "no-config.toml"),
    }
    outbox = Outbox(tmp_path / "outbox.db")
    down = Client(
        base_url=closed_url(), client_id=reporting.supplier.client_id, private_key=reporting.supplier.key
    )
    down.kpi_reports.submit(payload(reporting, past_weeks(1)[0]), outbox=outbox)
    down.close()

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        for args in (
            ["agreements", "list", "--json"],
            ["agreements", "show", str(reporting.agreement.id), "--json"],
            ["outbox", "flush", "--outbox", str(outbox.path), "--json"],
        ):
            result = CliRunner().invoke(app, args, env=env)
            assert result.exit_code == 0, (args, result.output, result.exception)
    assert outbox.pending() == []
