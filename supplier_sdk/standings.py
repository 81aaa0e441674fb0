"""``client.standings``: your organization's standing at each OEM, with every change and its causes.

The hub keeps one standing per supplier and OEM: a delivery-priority tier (A best, D worst) and a status
(approved, probation, blocked). Each change records the rule and rule version that made it, a reason, and its
causes (the KPI reports or missing periods behind it), as the hub gives them. Needs ``standings:read``.

Example::

    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        for standing in hub.standings.mine():
            print(standing.oem_id, standing.tier, standing.status, len(standing.history))
"""

from __future__ import annotations

import builtins
import uuid
from typing import TYPE_CHECKING

from protocol.models.rules import Standing
from supplier_sdk.organizations import own_organization

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester

STANDINGS_PATH = "/v1/standings"
"""Where the hub keeps standings.

Example:
    >>> STANDINGS_PATH
    '/v1/standings'
"""


class Standings:
    """The standings of one client's organization (``client.standings``).

    Example::

        at_aurora = hub.standings.at(aurora_id)
        print(at_aurora.history[0].reason)
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(self) -> builtins.list[Standing]:
        """Your standing at each OEM, without history (one request per page).

        Example: ``tiers = {s.oem_id: s.tier for s in hub.standings.list()}``
        """
        return [Standing.model_validate(item) for item in self._requester.pages(STANDINGS_PATH)]

    def at(self, oem_id: uuid.UUID | str, *, supplier_id: uuid.UUID | str | None = None) -> Standing:
        """Your standing at one OEM with its history, newest change first, each with its causes.

        Args:
            oem_id: the OEM.
            supplier_id: whose standing (default your own organization, which costs one request more).

        Raises:
            NotFound: no standing at that OEM.

        Example: ``hub.standings.at("0193…").history[0].causes``
        """
        supplier = supplier_id or own_organization(self._requester).id
        path = f"{STANDINGS_PATH}/{uuid.UUID(str(supplier))}"
        return Standing.model_validate(
            self._requester.request("GET", path, params={"oem_id": str(uuid.UUID(str(oem_id)))})
        )

    def mine(self, *, oem_id: uuid.UUID | str | None = None) -> builtins.list[Standing]:
        """Every standing of yours with its history (or only the one at ``oem_id``).

        Example: ``for standing in hub.standings.mine(): print(standing.tier)``
        """
        wanted = None if oem_id is None else uuid.UUID(str(oem_id))
        own = own_organization(self._requester).id
        found = [s for s in self.list() if wanted is None or s.oem_id == wanted]
        return [self.at(s.oem_id, supplier_id=own) for s in found]


__all__ = ["STANDINGS_PATH", "Standings"]
