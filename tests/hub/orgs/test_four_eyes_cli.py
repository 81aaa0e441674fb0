"""`hub org four-eyes --org NAME on|off`: the operator turns an organization's four-eyes on rule changes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.models import AuditEntry, Organization, OrganizationSettings
from tests.hub.conftest import hub, one_line


def test_on_and_off_are_kept_and_audited(cli_read: Session) -> None:
    assert hub("org", "create", "--name", "Aurora", "--kind", "oem").exit_code == 0
    turned = hub("org", "four-eyes", "--org", "Aurora", "on")
    assert turned.exit_code == 0, turned.output
    assert "four-eyes on for Aurora" in one_line(turned.stdout)
    org = cli_read.scalars(select(Organization).where(Organization.name == "Aurora")).one()
    assert cli_read.get(OrganizationSettings, org.id).four_eyes is True  # type: ignore[union-attr]
    assert hub("org", "four-eyes", "--org", str(org.id), "off").exit_code == 0
    cli_read.expire_all()
    assert cli_read.get(OrganizationSettings, org.id).four_eyes is False  # type: ignore[union-attr]
    actions = cli_read.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_id == str(org.id)).order_by(AuditEntry.at)
    ).all()
    assert actions[-2:] == ["organization.four_eyes.on", "organization.four_eyes.off"]


def test_a_wrong_state_or_organization_is_one_clear_line_and_changes_nothing(cli_read: Session) -> None:
    assert hub("org", "create", "--name", "Borealis", "--kind", "oem").exit_code == 0
    wrong = hub("org", "four-eyes", "--org", "Borealis", "maybe")
    assert wrong.exit_code == 2 and "say on or off, not 'maybe'" in one_line(wrong.output)
    missing = hub("org", "four-eyes", "--org", "Nowhere", "on")
    assert missing.exit_code == 2 and "no organization 'Nowhere'" in one_line(missing.output)
    assert cli_read.scalars(select(OrganizationSettings)).all() == []
