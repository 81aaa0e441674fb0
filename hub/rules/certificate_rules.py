"""Certificate rules: an OEM's rules whose condition reads certificates, judged per supplier.

They are evaluated when a certificate shared with the OEM changes (issued and shared, suspended, reinstated,
withdrawn, unshared) and in the sweep that runs with the due-date sweep (for expiry, which no event announces).
A rule fires when its condition starts to hold for a supplier, remembered per rule and supplier, so that a
withdrawal fires it once however often the sweep passes; it may fire again after the condition stopped holding.
The actions are applied with the same precedence as a period's (:func:`hub.rules.engine.combine`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.certificates import facts as certificate_facts
from hub.models import Certificate as CertificateRow
from hub.models import CertificateRuleState, CertificateShare, RuleVersion
from hub.rules import certificate_functions, consequences, evaluation
from hub.rules import service as rules
from hub.rules.conditions import compile_condition, with_certificates
from hub.rules.engine import RuleRef, SeriesState, Verdict, combine
from protocol.models.rules import RuleCreate, StandingStatus, Tier


def certificate_rules(
    session: Session, *, oem_id: uuid.UUID, now: datetime
) -> list[tuple[RuleVersion, RuleCreate]]:
    """The OEM's active rules in force now that read certificates."""
    found = []
    for version in rules.active_versions(session, oem_id=oem_id, at=now):
        definition = RuleCreate.model_validate(version.definition)
        if certificate_functions.reads_certificates(definition.condition):
            found.append((version, definition))
    return found


def evaluate(
    session: Session, *, oem_id: uuid.UUID, supplier_id: uuid.UUID, now: datetime
) -> list[uuid.UUID]:
    """Judge the OEM's certificate rules for one supplier and apply those that start to hold; returns their ids."""
    watching = [
        (v, d)
        for v, d in certificate_rules(session, oem_id=oem_id, now=now)
        if not d.scope.suppliers or supplier_id in d.scope.suppliers
    ]
    if not watching:
        return []
    rows = certificate_facts.shared_with(session, oem_id=oem_id, supplier_id=supplier_id)
    known = certificate_facts.facts(rows, now)
    states = {
        state.rule_id: state
        for state in session.scalars(
            select(CertificateRuleState).where(
                CertificateRuleState.supplier_id == supplier_id,
                CertificateRuleState.rule_id.in_([v.rule_id for v, _ in watching]),
            )
        )
    }
    fired: list[RuleRef] = []
    for version, definition in watching:
        holding = bool(compile_condition(definition.condition).execute(with_certificates(known)))
        state = states.get(version.rule_id)
        held = state is not None and state.holding
        if state is None:
            session.add(
                CertificateRuleState(
                    rule_id=version.rule_id, supplier_id=supplier_id, holding=holding, changed_at=now
                )
            )
        elif held != holding:
            state.holding, state.changed_at = holding, now
        if holding and not held:
            cause = _cause(definition, rows, known, now)
            verdict = Verdict(True, False, SeriesState(), [cause])
            fired.append(RuleRef(version.rule_id, version.version, definition, verdict, SeriesState()))
    if fired:
        _apply(session, oem_id=oem_id, supplier_id=supplier_id, fired=fired, now=now)
    session.flush()
    return [ref.rule_id for ref in fired]


def _cause(
    definition: RuleCreate,
    rows: list[CertificateRow],
    known: dict[str, certificate_facts.StandardFacts],
    now: datetime,
) -> dict[str, Any]:
    named = sorted({standard for _, standard in certificate_functions.calls(definition.condition)})
    return {
        "certificates": [
            {
                "standard": standard,
                "status": known.get(standard, certificate_facts.NO_CERTIFICATE).status,
                "days_to_expiry": known.get(standard, certificate_facts.NO_CERTIFICATE).days_to_expiry,
                "certificate_ids": [str(row.id) for row in rows if row.standard == standard],
                "numbers": [row.number for row in rows if row.standard == standard],
            }
            for standard in named
        ],
        "at": now.isoformat(),
    }


def _apply(
    session: Session, *, oem_id: uuid.UUID, supplier_id: uuid.UUID, fired: list[RuleRef], now: datetime
) -> None:
    standing = evaluation.locked_standing(session, oem_id=oem_id, supplier_id=supplier_id, now=now)
    decision = combine(fired, tier=Tier(standing.tier), status=StandingStatus(standing.status))
    causes = [cause for ref in fired for cause in ref.verdict.causes]
    before_tier, before_status = consequences.move_standing(
        session, standing, decision, causes=causes, now=now
    )
    consequences.notify_roles(
        session,
        oem_id=oem_id,
        notify=decision.notify,
        title=lambda names: f"Supplier status {decision.status.value}: {names[0]}",
        body={
            "supplier_id": str(supplier_id),
            "status": {"from": before_status.value, "to": decision.status.value},
            "tier": {"from": before_tier.value, "to": decision.tier.value},
        },
        now=now,
    )


def sweep(session: Session, *, now: datetime) -> int:
    """Judge every certificate rule for every supplier that shares a certificate with its OEM (expiry moves with
    time, not with events); returns how many rules fired."""
    pairs = session.execute(
        select(CertificateShare.oem_id, CertificateRow.supplier_id)
        .join(CertificateRow, CertificateRow.id == CertificateShare.certificate_id)
        .distinct()
    ).all()
    fired = 0
    for oem_id, supplier_id in sorted(pairs):
        fired += len(evaluate(session, oem_id=oem_id, supplier_id=supplier_id, now=now))
    return fired
