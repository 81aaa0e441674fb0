"""``oem.standings``: your suppliers' standings (delivery-priority tier and status) and every change's causes.

Each change names the rule and version that made it, a reason, and the KPI reports or missing periods behind
it. Needs ``standings:read``; a supplier you have no standing for is a :class:`~supplier_sdk.errors.NotFound`.

Example::

    for standing in oem.standings.list():
        print(standing.supplier_id, standing.tier, standing.status)
    print(oem.standings.history(supplier_id)[0].reason)
"""

from __future__ import annotations

import builtins
import uuid
from typing import TYPE_CHECKING

from protocol.models.rules import Standing, StandingChange
from supplier_sdk.oem.listing import Listing

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester

OEM_STANDINGS_PATH = "/v1/standings"
"""Where the hub keeps standings.

Example:
    >>> OEM_STANDINGS_PATH
    '/v1/standings'
"""


class SupplierStandings:
    """The standings of your suppliers (``oem.standings``).

    Example::

        blocked = [s for s in oem.standings.list() if s.status == "blocked"]
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(self, *, page_size: int = 100) -> Listing[Standing]:
        """Every supplier's standing, without history, every page by cursor.

        Example: ``tiers = {s.supplier_id: s.tier for s in oem.standings.list()}``
        """
        return Listing(self._requester, OEM_STANDINGS_PATH, Standing, page_size=page_size)

    def get(self, supplier_id: uuid.UUID | str) -> Standing:
        """One supplier's standing with its history, newest change first.

        Example: ``oem.standings.get(supplier_id).tier``
        """
        path = f"{OEM_STANDINGS_PATH}/{uuid.UUID(str(supplier_id))}"
        return Standing.model_validate(self._requester.request("GET", path))

    def history(self, supplier_id: uuid.UUID | str) -> builtins.list[StandingChange]:
        """The changes of one supplier's standing, newest first, each with its rule, reason and causes.

        Example: ``[c.to_tier for c in oem.standings.history(supplier_id)]``
        """
        return self.get(supplier_id).history


__all__ = ["OEM_STANDINGS_PATH", "SupplierStandings"]
