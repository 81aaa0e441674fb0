"""An organization's own choices (today: four-eyes on rule changes); a missing row means every default."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.models import OrganizationSettings
from hub.models.base import utcnow


def four_eyes(session: Session, *, org_id: uuid.UUID) -> bool:
    """Whether activating or changing an active rule of ``org_id`` needs a second person's approval."""
    row = session.get(OrganizationSettings, org_id)
    return bool(row and row.four_eyes)


def set_four_eyes(
    session: Session, *, actor: str, actor_org_id: uuid.UUID | None, org_id: uuid.UUID, on: bool
) -> OrganizationSettings:
    """Turn four-eyes on or off for ``org_id``; audited under ``actor``. Approvals already pending stay."""
    # Locked: two admins toggling at once leave one row and two audit entries in the order they happened.
    row = session.get(OrganizationSettings, org_id, with_for_update=True)
    if row is None:
        row = OrganizationSettings(organization_id=org_id, four_eyes=on, updated_at=utcnow())
        session.add(row)
    else:
        row.four_eyes, row.updated_at = on, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_org_id=actor_org_id,
        action="organization.four_eyes." + ("on" if on else "off"),
        subject_type="organization",
        subject_id=org_id,
        data={"four_eyes": on},
    )
    return row
