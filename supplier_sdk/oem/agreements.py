"""``oem.agreements``: supply agreements an OEM proposes to its suppliers (``/v1/agreements``).

The OEM proposes the terms (parts, characteristics, KPI thresholds and disclosure modes, period); the supplier
named in them accepts or declines; either party may terminate. To change the terms of an agreement the OEM
proposes a successor with the new terms (:meth:`Agreements.amend`) and, once the supplier accepted it, the old
one is terminated: the hub keeps each agreement's terms as they were when reports were made under them.
Needs ``agreements:write`` to propose, ``agreements:read`` to read; another organization's agreement is a
:class:`~supplier_sdk.errors.NotFound`.

Example::

    agreement = oem.agreements.propose(AgreementCreate(supplier_id=supplier_id, title="Drive shaft", ...))
    for active in oem.agreements.list(status="active"):
        print(active.title, active.supplier_id)
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from protocol.models.agreements import Agreement, AgreementCreate, AgreementDecision
from protocol.models.common import AgreementStatus
from supplier_sdk.oem.listing import Listing

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester

AGREEMENTS_PATH = "/v1/agreements"
"""Where the hub keeps supply agreements.

Example:
    >>> AGREEMENTS_PATH
    '/v1/agreements'
"""


def _id(value: uuid.UUID | str) -> uuid.UUID:
    return uuid.UUID(str(value))


class Agreements:
    """The agreements of one OEM client's organization (``oem.agreements``).

    Example::

        proposed = oem.agreements.propose(terms, idempotency_key="agreement-drive-shaft-2027")
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def propose(
        self, terms: AgreementCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> Agreement:
        """Propose ``terms`` to the supplier they name; the agreement is ``proposed`` until it decides.

        Args:
            terms: the agreement's terms (validated here first: a bad field raises pydantic's error).
            idempotency_key: the POST's ``Idempotency-Key``; the same key and terms return the first answer,
                so a retry (yours or the client's) never proposes twice. Default a fresh UUID4.

        Raises:
            InvalidRequest: terms the hub refuses (``fields`` names them), e.g. an unknown supplier.

        Example: ``agreement = oem.agreements.propose(terms, idempotency_key="drive-shaft-2027")``
        """
        body = AgreementCreate.model_validate(terms).model_dump(mode="json", exclude_none=True)
        answer = self._requester.request("POST", AGREEMENTS_PATH, json=body, idempotency_key=idempotency_key)
        return Agreement.model_validate(answer)

    def amend(
        self,
        agreement_id: uuid.UUID | str,
        *,
        idempotency_key: str | None = None,
        **changes: Any,
    ) -> Agreement:
        """Propose a successor to an agreement with ``changes`` to its terms (the hub keeps terms immutable).

        The successor carries every term of the current agreement but those in ``changes`` and is
        ``proposed``; terminate the old one (:meth:`terminate`) once the supplier accepted the new one.

        Raises:
            NotFound: not an agreement of yours. InvalidRequest: a changed term the hub refuses.

        Example::

            raised = oem.agreements.amend(agreement.id, title="Drive shaft 2027",
                                          kpis=[{"kpi": "cpk", "threshold": "1.67", "disclosure": "value"}])
        """
        current = self.get(agreement_id)
        fields = set(AgreementCreate.model_fields)
        terms = {**current.model_dump(mode="json", include=fields), **changes}
        return self.propose(AgreementCreate.model_validate(terms), idempotency_key=idempotency_key)

    def terminate(self, agreement_id: uuid.UUID | str, *, reason: str = "") -> Agreement:
        """End a proposed or active agreement, with a reason the supplier sees.

        Example: ``oem.agreements.terminate(old.id, reason="superseded by the 2027 terms")``
        """
        body = AgreementDecision(reason=reason).model_dump(mode="json")
        path = f"{AGREEMENTS_PATH}/{_id(agreement_id)}/terminate"
        return Agreement.model_validate(self._requester.request("POST", path, json=body))

    def get(self, agreement_id: uuid.UUID | str) -> Agreement:
        """One agreement (:class:`~supplier_sdk.errors.NotFound` if it is not your organization's).

        Example: ``print(oem.agreements.get(agreement_id).status)``
        """
        return Agreement.model_validate(
            self._requester.request("GET", f"{AGREEMENTS_PATH}/{_id(agreement_id)}")
        )

    def list(
        self,
        *,
        status: AgreementStatus | str | None = None,
        supplier_id: uuid.UUID | str | None = None,
        page_size: int = 100,
    ) -> Listing[Agreement]:
        """Your agreements, oldest first, optionally by status or supplier, every page by cursor.

        Example: ``proposed = oem.agreements.list(status="proposed").all()``
        """
        params = {
            "status": None if status is None else AgreementStatus(status).value,
            "counterparty": None if supplier_id is None else str(_id(supplier_id)),
        }
        return Listing(self._requester, AGREEMENTS_PATH, Agreement, params=params, page_size=page_size)


__all__ = ["AGREEMENTS_PATH", "Agreements"]
