"""An OEM's rules: checked on save, versioned on every change, and looked up by the time a result belongs to.

A rule's identity (``Rule``) carries its name, status and newest version number; what it says lives in its
versions (``RuleVersion``), each in force from ``valid_from`` until ``valid_until``. Saving a changed rule closes
the current version and opens the next at the same instant, so at any moment exactly one version of a rule is in
force and a result is always judged under the version that was in force at its time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.audit import service as audit
from hub.auth.tokens import Caller
from hub.db import one_or_not_found
from hub.errors import Forbidden, InvalidInput
from hub.models import Organization, Rule, RuleVersion, SupplyAgreement
from hub.models.base import utcnow
from hub.pagination import keyset, page_of
from hub.rules.conditions import ConditionError, compile_condition
from protocol.models import rules as wire
from protocol.models.common import AgreementStatus, OrgKind


def create_rule(session: Session, *, caller: Caller, data: wire.RuleCreate) -> Rule:
    """Store a new rule as version 1, in force from now."""
    _require_oem(caller)
    _check(session, caller=caller, data=data)
    now = utcnow()
    rule = Rule(
        oem_id=caller.org_id,
        name=data.name,
        status=data.status.value,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(rule)
    session.flush()
    session.add(_version(rule, caller=caller, data=data, valid_from=now))
    session.flush()
    _audit(
        session, caller, rule, "rule.created", {"version": 1, "name": data.name, "status": data.status.value}
    )
    return rule


def update_rule(session: Session, *, caller: Caller, rule_id: uuid.UUID, data: wire.RuleCreate) -> Rule:
    """Make ``data`` the rule's next version, in force from now; the current one is closed, never changed.

    Saving what is already current changes nothing, so a repeated PUT makes no new version.
    """
    _require_oem(caller)
    # The lock orders concurrent saves of one rule: each closes the version the other opened, never the same one.
    rule = _owned(session, caller=caller, rule_id=rule_id, for_update=True)
    _check(session, caller=caller, data=data)
    current = current_version(session, rule=rule)
    if current.definition == _definition(data):
        return rule
    # Never before the current version began, even if the clock stepped back: the versions stay in order.
    now = max(utcnow(), current.valid_from)
    current.valid_until = now
    rule.version, rule.name, rule.status, rule.updated_at = (
        rule.version + 1,
        data.name,
        data.status.value,
        now,
    )
    session.add(_version(rule, caller=caller, data=data, valid_from=now))
    session.flush()
    _audit(
        session,
        caller,
        rule,
        "rule.updated",
        {"from_version": current.version, "to_version": rule.version, "status": data.status.value},
    )
    return rule


def get_rule(session: Session, *, caller: Caller, rule_id: uuid.UUID) -> tuple[Rule, RuleVersion]:
    """One of the caller's rules with its current version; another organization's rule is not there."""
    rule = _owned(session, caller=caller, rule_id=rule_id)
    return rule, current_version(session, rule=rule)


def list_rules(
    session: Session, *, caller: Caller, status: wire.RuleStatus | None = None, cursor: str | None, limit: int
) -> tuple[list[tuple[Rule, RuleVersion]], str | None]:
    """The caller's rules, oldest first, each with its current version (one query)."""
    query = (
        select(Rule, RuleVersion)
        .join(RuleVersion, (RuleVersion.rule_id == Rule.id) & (RuleVersion.version == Rule.version))
        .where(Rule.oem_id == caller.org_id)
    )
    if status is not None:
        query = query.where(Rule.status == status.value)
    rows = [
        (rule, version)
        for rule, version in session.execute(keyset(query, Rule.id, cursor=cursor, limit=limit))
    ]
    return page_of(rows, limit, last_id=lambda row: row[0].id)


def list_versions(
    session: Session, *, caller: Caller, rule_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[RuleVersion], str | None]:
    """Every version of one of the caller's rules, oldest first: a rule's versions number up, so they page by
    their version number."""
    rule = _owned(session, caller=caller, rule_id=rule_id)
    query = keyset(
        select(RuleVersion).where(RuleVersion.rule_id == rule.id),
        RuleVersion.version,
        cursor=cursor,
        limit=limit,
        kind=int,
    )
    return page_of(list(session.scalars(query)), limit, last_id=lambda version: version.version)


def current_version(session: Session, *, rule: Rule) -> RuleVersion:
    """The newest version of ``rule`` (the one a save would close)."""
    query = select(RuleVersion).where(RuleVersion.rule_id == rule.id, RuleVersion.version == rule.version)
    return session.scalars(query).one()


def active_versions(session: Session, *, oem_id: uuid.UUID, at: datetime) -> list[RuleVersion]:
    """The version of each of the OEM's rules in force at ``at`` whose status then was active, oldest rule first.

    One query. A rule that was a draft or disabled at ``at`` is left out even if it is active now, and the
    other way round: what counts is the version in force at the time.
    """
    query = (
        select(RuleVersion)
        .where(
            RuleVersion.oem_id == oem_id,
            RuleVersion.valid_from <= at,
            or_(RuleVersion.valid_until.is_(None), RuleVersion.valid_until > at),
            RuleVersion.definition["status"].as_string() == wire.RuleStatus.ACTIVE.value,
        )
        .order_by(RuleVersion.rule_id)
    )
    return list(session.scalars(query))


def templates() -> list[wire.RuleCreate]:
    """The rules an OEM may start from."""
    return [
        wire.RuleCreate.model_validate(template)
        for template in (
            wire.STANDARD_RULE_TEMPLATE,
            wire.EARLY_WARNING_TEMPLATE,
            wire.CERTIFICATE_WITHDRAWN_TEMPLATE,
            wire.CERTIFICATE_EXPIRING_TEMPLATE,
        )
    ]


def as_wire(rule: Rule, definition: wire.RuleCreate | Mapping[str, Any]) -> wire.Rule:
    fields = definition.model_dump() if isinstance(definition, wire.RuleCreate) else dict(definition)
    return wire.Rule.model_validate(
        {
            **fields,
            "id": rule.id,
            "oem_id": rule.oem_id,
            "version": rule.version,
            "created_at": rule.created_at,
            "updated_at": rule.updated_at,
        }
    )


def version_as_wire(version: RuleVersion) -> wire.RuleVersion:
    return wire.RuleVersion(
        rule_id=version.rule_id,
        version=version.version,
        definition=wire.RuleCreate.model_validate(version.definition),
        valid_from=version.valid_from,
        valid_until=version.valid_until,
    )


def check_definition(session: Session, *, caller: Caller, data: wire.RuleCreate) -> None:
    """Refuse ``data`` as a save would (the condition, the suppliers named), without saving it."""
    _require_oem(caller)
    _check(session, caller=caller, data=data)


def owned_rule(session: Session, *, caller: Caller, rule_id: uuid.UUID, for_update: bool = False) -> Rule:
    """One of the caller's rules (locked for an update when asked); another organization's is not there."""
    return _owned(session, caller=caller, rule_id=rule_id, for_update=for_update)


def _require_oem(caller: Caller) -> None:
    if caller.org_kind is not OrgKind.OEM:
        raise Forbidden("only an OEM writes rules")


def _owned(session: Session, *, caller: Caller, rule_id: uuid.UUID, for_update: bool = False) -> Rule:
    query = select(Rule).where(Rule.id == rule_id, Rule.oem_id == caller.org_id)
    return one_or_not_found(session, query, missing="rule not found", for_update=for_update)


def _check(session: Session, *, caller: Caller, data: wire.RuleCreate) -> None:
    """What the wire model alone cannot say: the condition is usable CEL, and every supplier named is a partner."""
    try:
        compile_condition(data.condition)
    except ConditionError as exc:
        raise InvalidInput(str(exc), loc="body.condition") from exc
    _check_suppliers(session, oem_id=caller.org_id, suppliers=data.scope.suppliers)


def _check_suppliers(session: Session, *, oem_id: uuid.UUID, suppliers: Sequence[uuid.UUID]) -> None:
    if not suppliers:
        return
    # A proposed agreement counts: an OEM may prepare its rules before the supplier accepts. A declined one does not.
    partners = set(
        session.scalars(
            select(SupplyAgreement.supplier_id)
            .join(Organization, Organization.id == SupplyAgreement.supplier_id)
            .where(
                SupplyAgreement.oem_id == oem_id,
                SupplyAgreement.supplier_id.in_(set(suppliers)),
                SupplyAgreement.status != AgreementStatus.DECLINED.value,
                Organization.kind == OrgKind.SUPPLIER.value,
            )
        )
    )
    for index, supplier_id in enumerate(suppliers):
        if supplier_id not in partners:
            raise InvalidInput(
                f"scope.suppliers[{index}] ({supplier_id}) is not a supplier with an agreement with your "
                "organization",
                loc=f"body.scope.suppliers.{index}",
            )


def _definition(data: wire.RuleCreate) -> dict[str, Any]:
    return data.model_dump(mode="json")


def _version(rule: Rule, *, caller: Caller, data: wire.RuleCreate, valid_from: datetime) -> RuleVersion:
    return RuleVersion(
        rule_id=rule.id,
        oem_id=rule.oem_id,
        version=rule.version,
        definition=_definition(data),
        valid_from=valid_from,
        valid_until=None,
        created_by=caller.actor,
    )


def _audit(session: Session, caller: Caller, rule: Rule, action: str, data: dict[str, Any]) -> None:
    audit.record_for(
        session,
        caller,
        action=action,
        subject_type="rule",
        subject_id=rule.id,
        data=data,
    )
