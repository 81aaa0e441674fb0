"""Roles map to fixed scope sets, never beyond what the organization's kind may hold."""

from __future__ import annotations

import pytest

from hub.auth.scopes import SCOPES, default_scopes
from hub.people.roles import ROLE_SCOPES, Role, parse_role, scopes_for
from protocol.models.common import OrgKind


@pytest.mark.parametrize("kind", list(OrgKind))
@pytest.mark.parametrize("role", list(Role))
def test_a_person_never_gets_more_than_the_organization_may_have(role: Role, kind: OrgKind) -> None:
    scopes = scopes_for(role, kind)
    assert scopes <= set(default_scopes(kind))
    assert scopes <= ROLE_SCOPES[role]


def test_every_role_names_only_existing_scopes() -> None:
    for scopes in ROLE_SCOPES.values():
        assert scopes <= set(SCOPES)


def test_the_tiers_differ_where_they_should() -> None:
    assert "rules:admin" in scopes_for(Role.SQE, OrgKind.OEM)
    assert "rules:admin" not in scopes_for(Role.SQE, OrgKind.SUPPLIER)  # rules are an OEM's own
    assert "kpi:write" in scopes_for(Role.SQE, OrgKind.SUPPLIER)
    assert "containment:write" in scopes_for(Role.PLANT, OrgKind.OEM)
    assert "containment:write" not in scopes_for(Role.PURCHASING, OrgKind.OEM)
    viewer = scopes_for(Role.VIEWER, OrgKind.OEM)
    assert viewer and all(scope.endswith(":read") for scope in viewer)
    assert "operator:admin" not in scopes_for(Role.ADMIN, OrgKind.OEM)
    assert "operator:admin" in scopes_for(Role.ADMIN, OrgKind.OPERATOR)


def test_an_unknown_role_is_named() -> None:
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        parse_role("boss")
