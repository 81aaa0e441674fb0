"""The OEM's client: :class:`OemClient`, resource objects on the SDK's one requester.

A sibling of the supplier's :class:`~supplier_sdk.client.Client` in the same package, so that both sides share
the token handling, retries, idempotency and errors of :mod:`supplier_sdk.requester` (see
:mod:`supplier_sdk.oem.client` for why and how). The resources:

- :mod:`supplier_sdk.oem.agreements`: ``oem.agreements`` (propose, amend, terminate, get, list);
- :mod:`supplier_sdk.oem.rules`: ``oem.rules`` (templates, create, update, activate, dry run, versions) and
  ``oem.rules.approvals`` (four-eyes: list, approve, reject);
- :mod:`supplier_sdk.oem.standings`: ``oem.standings`` (list, get, history);
- :mod:`supplier_sdk.oem.reports`: ``oem.kpi_reports`` (list, get) and ``oem.proofs`` (get, verify_offline);
- :mod:`supplier_sdk.oem.listing`: :class:`~supplier_sdk.oem.listing.Listing`, every page of a list by cursor;
- from the supplier side, unchanged: ``oem.trace``, ``oem.notifications``, ``oem.containment``, ``oem.rooms``,
  ``oem.webhooks``, ``oem.events.follow()``.

Example::

    from supplier_sdk.oem import OemClient

    with OemClient(base_url="https://hub.example", client_id="qlc_…", private_key=key) as oem:
        print([a.title for a in oem.agreements.list(status="active")])
"""

from supplier_sdk.oem.client import OemClient
from supplier_sdk.oem.listing import Listing

__all__ = ["Listing", "OemClient"]
