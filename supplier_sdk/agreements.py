"""``client.agreements``: the supply agreements a supplier is party to; accept or decline a proposed one.

The OEM's side (propose, amend, terminate) is :mod:`supplier_sdk.oem.agreements`.

Example::

    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        for agreement in hub.agreements.list(status="proposed"):
            hub.agreements.accept(agreement.id, reason="terms agreed in the Q4 review")
"""

from __future__ import annotations

import builtins
import uuid
import warnings

from protocol.models.agreements import Agreement, AgreementDecision
from protocol.models.common import AgreementStatus
from supplier_sdk.deprecation import SdkDeprecationWarning
from supplier_sdk.requester import Requester

AGREEMENTS_PATH = "/v1/agreements"
"""The agreements' collection path.

Example:
    >>> AGREEMENTS_PATH
    '/v1/agreements'
"""


class Agreements:
    """The supply agreements of the client's organization (``client.agreements``).

    Example::

        active = hub.agreements.list(status="active")
        agreement = hub.agreements.get(active[0].id)
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def list(self, *, status: AgreementStatus | str | None = None) -> builtins.list[Agreement]:
        """The supply agreements this organization is party to (every page), optionally only those with ``status``.

        Args:
            status: ``proposed``, ``active``, ``declined`` or ``terminated``; ``None`` for all.

        Example::

            active = hub.agreements.list(status="active")
        """
        params = None if status is None else {"status": AgreementStatus(status).value}
        return [
            Agreement.model_validate(item) for item in self._requester.pages(AGREEMENTS_PATH, params=params)
        ]

    def __call__(self, *, status: AgreementStatus | str | None = None) -> builtins.list[Agreement]:
        # Client.agreements(...) was a method before it became this resource: it still answers for one release.
        warnings.warn(
            "Client.agreements(...) is deprecated and will be removed in the next release;"
            " use client.agreements.list(...)",
            SdkDeprecationWarning,
            stacklevel=2,
        )
        return self.list(status=status)

    def get(self, agreement_id: uuid.UUID | str) -> Agreement:
        """One agreement by id (:class:`~supplier_sdk.errors.NotFound` if it is not this organization's).

        Example::

            agreement = hub.agreements.get("01937c5e-…")
            print(agreement.kpis[0].threshold)
        """
        path = f"{AGREEMENTS_PATH}/{uuid.UUID(str(agreement_id))}"
        return Agreement.model_validate(self._requester.request("GET", path))

    def accept(self, agreement_id: uuid.UUID | str, *, reason: str = "") -> Agreement:
        """Accept a proposed agreement named to your organization; it becomes active.

        Raises:
            NotFound: not an agreement of yours. ConflictError: it is no longer proposed.

        Example: ``hub.agreements.accept("01937c5e-…", reason="terms agreed in the Q4 review")``
        """
        return self._decide(agreement_id, "accept", reason)

    def decline(self, agreement_id: uuid.UUID | str, *, reason: str = "") -> Agreement:
        """Decline a proposed agreement named to your organization, with a reason the OEM sees.

        Example: ``hub.agreements.decline("01937c5e-…", reason="capacity booked until Q3")``
        """
        return self._decide(agreement_id, "decline", reason)

    def _decide(self, agreement_id: uuid.UUID | str, decision: str, reason: str) -> Agreement:
        body = AgreementDecision(reason=reason).model_dump(mode="json")
        path = f"{AGREEMENTS_PATH}/{uuid.UUID(str(agreement_id))}/{decision}"
        return Agreement.model_validate(self._requester.request("POST", path, json=body))


__all__ = ["AGREEMENTS_PATH", "Agreements"]
