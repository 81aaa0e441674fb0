"""``client.organizations``: the organization the client belongs to.

Example::

    with Client(base_url="https://hub.example", client_id="qlc_…", private_key=key) as hub:
        print(hub.organizations.me().name)
"""

from __future__ import annotations

from protocol.models.orgs import Organization
from supplier_sdk.requester import Requester

ME_PATH = "/v1/organizations/me"
"""The path of the caller's own organization.

Example:
    >>> ME_PATH
    '/v1/organizations/me'
"""


def own_organization(requester: Requester) -> Organization:
    """The organization ``requester``'s API client belongs to (for resources that need its id).

    Example: ``org_id = own_organization(requester).id``
    """
    return Organization.model_validate(requester.request("GET", ME_PATH))


class Organizations:
    """The caller's organization (``client.organizations``).

    Example: ``hub.organizations.me().kind``
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def me(self) -> Organization:
        """The organization this client belongs to.

        Example::

            print(hub.organizations.me().name)
        """
        return own_organization(self._requester)


__all__ = ["ME_PATH", "Organizations", "own_organization"]
