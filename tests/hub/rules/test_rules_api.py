"""Rules as data: an OEM writes them, every change is a new version, and nobody else sees or touches them."""

from __future__ import annotations

import copy
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.auth.scopes import check_grantable, default_scopes
from hub.auth.tokens import Caller
from hub.db import make_engine, make_session_factory
from hub.models import AuditEntry, Rule, RuleVersion
from hub.orgs import service as orgs
from hub.rules import service
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from protocol.models.rules import (
    CERTIFICATE_EXPIRING_TEMPLATE,
    CERTIFICATE_WITHDRAWN_TEMPLATE,
    EARLY_WARNING_TEMPLATE,
    STANDARD_RULE_TEMPLATE,
    RuleCreate,
)
from tests.conftest import make_settings
from tests.hub.asserts import assert_error, audit_actions, audit_count, field_locs
from tests.hub.conftest import Actor, make_actor


def template(**overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(STANDARD_RULE_TEMPLATE)
    body.update(overrides)
    return body


def create(oem: Actor, **overrides: Any) -> dict[str, Any]:
    response = oem.post("/v1/rules", json=template(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def put(actor: Actor, url: str, *, scope: str | None = None, **kw: Any) -> httpx.Response:
    return actor.http.put(url, headers=actor.headers(scope), **kw)


def agreement_with(oem: Actor, supplier: Actor) -> str:
    body = {
        "supplier_id": str(supplier.org.id),
        "title": "Drive shaft quality agreement",
        "parts": [{"part_number": "SH-4410"}],
        "characteristics": [
            {"code": "DIA-01", "part_number": "SH-4410", "unit": "mm", "lsl": "24.98", "usl": "25.02"}
        ],
        "kpis": [{"kpi": "cpk", "threshold": "1.33"}],
        "period": "week",
        "valid_from": "2026-01-01",
    }
    response = oem.post("/v1/agreements", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def counts(db: Session) -> tuple[int, int, int]:
    """Rules, rule versions and audit entries: what a refused write must leave as it was."""
    rules = db.scalar(select(func.count()).select_from(Rule)) or 0
    versions = db.scalar(select(func.count()).select_from(RuleVersion)) or 0
    return int(rules), int(versions), audit_count(db)


def stored_versions(db: Session, rule_id: str) -> list[RuleVersion]:
    db.expire_all()
    query = select(RuleVersion).where(RuleVersion.rule_id == uuid.UUID(rule_id)).order_by(RuleVersion.version)
    return list(db.scalars(query))


# --- create, read, list ---------------------------------------------------------------------------------------


def test_oem_creates_the_standard_rule_from_the_template(db: Session, oem: Actor) -> None:
    templates = oem.get("/v1/rules/templates")
    assert templates.status_code == 200, templates.text
    assert [t["name"] for t in templates.json()] == [
        STANDARD_RULE_TEMPLATE["name"],
        EARLY_WARNING_TEMPLATE["name"],
        CERTIFICATE_WITHDRAWN_TEMPLATE["name"],
        CERTIFICATE_EXPIRING_TEMPLATE["name"],
    ]

    response = oem.post("/v1/rules", json=templates.json()[0])

    assert response.status_code == 201, response.text
    rule = response.json()
    assert (rule["version"], rule["status"], rule["oem_id"]) == (1, "active", str(oem.org.id))
    assert rule["pattern"] == {"consecutive": 3, "k_of_last": None}
    assert [a["type"] for a in rule["actions"]] == ["lower_tier", "notify"]
    assert rule["condition"] == "missing || !met"
    [version] = stored_versions(db, rule["id"])
    assert (version.version, version.oem_id, version.valid_until) == (1, oem.org.id, None)
    assert version.definition["recovery"] == {"good_periods": 4}
    entry = db.scalars(select(AuditEntry).where(AuditEntry.subject_id == rule["id"])).one()
    assert (entry.action, entry.actor_org_id, entry.subject_type) == ("rule.created", oem.org.id, "rule")
    assert entry.data["version"] == 1


def test_oem_lists_and_gets_its_rules(oem: Actor) -> None:
    first = create(oem)
    second = create(oem, name="Any missing PPM report", condition="missing", status="draft")

    listed = oem.get("/v1/rules")
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()["items"]] == [first["id"], second["id"]]
    drafts = oem.get("/v1/rules", params={"status": "draft"}).json()["items"]
    assert [r["id"] for r in drafts] == [second["id"]]
    assert oem.get("/v1/rules", params={"status": "disabled"}).json()["items"] == []

    got = oem.get(f"/v1/rules/{second['id']}")
    assert got.status_code == 200, got.text
    assert got.json() == second


def test_unknown_rule_is_not_found(oem: Actor) -> None:
    assert_error(oem.get(f"/v1/rules/{uuid.uuid4()}"), 404, "NotFound", detail="rule")
    assert_error(put(oem, f"/v1/rules/{uuid.uuid4()}", json=template()), 404, "NotFound")
    assert_error(oem.get("/v1/rules/not-a-uuid"), 422, "InvalidInput", detail="rule_id")


# --- versions -------------------------------------------------------------------------------------------------


def test_a_change_makes_a_new_version_and_keeps_the_old(db: Session, oem: Actor) -> None:
    rule = create(oem)

    response = put(oem, f"/v1/rules/{rule['id']}", json=template(pattern={"k_of_last": [2, 3]}))

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.json()["pattern"]["k_of_last"] == [2, 3]
    assert oem.get(f"/v1/rules/{rule['id']}").json()["version"] == 2
    versions = oem.get(f"/v1/rules/{rule['id']}/versions")
    assert versions.status_code == 200, versions.text
    one, two = versions.json()["items"]
    assert (one["version"], two["version"]) == (1, 2)
    assert one["definition"]["pattern"] == {"consecutive": 3, "k_of_last": None}
    assert two["definition"]["pattern"] == {"consecutive": None, "k_of_last": [2, 3]}
    # Version 1 ends the instant version 2 begins: at every moment exactly one version is in force.
    assert one["valid_until"] is not None and one["valid_until"] == two["valid_from"]
    assert two["valid_until"] is None
    assert audit_actions(db, rule["id"]) == ["rule.created", "rule.updated"]
    updated = db.scalars(select(AuditEntry).where(AuditEntry.action == "rule.updated")).one()
    assert (updated.data["from_version"], updated.data["to_version"]) == (1, 2)


def test_a_status_change_is_a_version(db: Session, oem: Actor) -> None:
    rule = create(oem)

    response = put(oem, f"/v1/rules/{rule['id']}", json=template(status="disabled"))

    assert response.status_code == 200, response.text
    assert (response.json()["version"], response.json()["status"]) == (2, "disabled")
    assert [r["id"] for r in oem.get("/v1/rules", params={"status": "disabled"}).json()["items"]] == [
        rule["id"]
    ]
    assert oem.get("/v1/rules", params={"status": "active"}).json()["items"] == []
    assert [v.definition["status"] for v in stored_versions(db, rule["id"])] == ["active", "disabled"]


def test_saving_the_current_rule_again_makes_no_version(db: Session, oem: Actor) -> None:
    rule = create(oem)
    # The same rule, spelt with defaults left out: still the same definition.
    same = {k: v for k, v in template().items() if k != "description"} | {"description": rule["description"]}
    same["actions"] = [{"type": "lower_tier"}, {"type": "notify", "role": "purchasing"}]

    for _ in range(2):
        response = put(oem, f"/v1/rules/{rule['id']}", json=same)
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 1

    assert [v.version for v in stored_versions(db, rule["id"])] == [1]
    assert stored_versions(db, rule["id"])[0].valid_until is None
    assert audit_actions(db, rule["id"]) == ["rule.created"]
    assert oem.get(f"/v1/rules/{rule['id']}").json()["updated_at"] == rule["updated_at"]


# --- refused rules --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "named"),
    [
        ("value < ", "column 9"),
        ("missing ||\n  (value < 1.0", "line 2"),
        ("cpk_value < 1.33", "cpk_value"),
        ("value + 1.0", "true or false"),
        ("kpi", "true or false"),
        ("value / 0.0 < 1.0 && int(part) > 0", "fails"),
    ],
)
def test_an_unusable_condition_is_refused_naming_why(
    db: Session, oem: Actor, condition: str, named: str
) -> None:
    before = counts(db)

    response = oem.post("/v1/rules", json=template(condition=condition))

    body = assert_error(response, 422, "InvalidInput", detail=named)
    assert field_locs(body) == ["body.condition"]
    assert counts(db) == before


def test_an_unusable_condition_is_refused_on_update_too(db: Session, oem: Actor) -> None:
    rule = create(oem)
    before = counts(db)

    response = put(oem, f"/v1/rules/{rule['id']}", json=template(condition="met &&"))

    body = assert_error(response, 422, "InvalidInput", detail="column")
    assert field_locs(body) == ["body.condition"]
    assert counts(db) == before
    assert oem.get(f"/v1/rules/{rule['id']}").json()["version"] == 1


@pytest.mark.parametrize(
    ("change", "loc", "named"),
    [
        ({"pattern": {"consecutive": 3, "k_of_last": [2, 3]}}, "body.pattern", "exactly one"),
        ({"pattern": {}}, "body.pattern", "exactly one"),
        ({"pattern": {"k_of_last": [4, 3]}}, "body.pattern", "k <= N"),
        ({"pattern": {"k_of_last": [1, 53]}}, "body.pattern", "52"),
        ({"pattern": {"consecutive": 0}}, "body.pattern.consecutive", "greater than or equal to 1"),
        ({"actions": []}, "body.actions", "at least 1"),
        ({"actions": [{"type": "delete_supplier"}]}, "body.actions.0", "delete_supplier"),
        ({"actions": [{"type": "notify", "role": "ceo"}]}, "body.actions.0.notify.role", "purchasing"),
        (
            {"actions": [{"type": "lower_tier", "steps": 4}]},
            "body.actions.0.lower_tier.steps",
            "less than or equal to 3",
        ),
        ({"recovery": {"good_periods": 0}}, "body.recovery.good_periods", "greater than or equal to 1"),
        ({"scope": {"kpis": ["oee"]}}, "body.scope.kpis.0", "cpk"),
        ({"status": "paused"}, "body.status", "draft"),
        ({"name": ""}, "body.name", "at least 1"),
        ({"colour": "red"}, "body.colour", "extra"),
    ],
)
def test_a_malformed_rule_is_refused_naming_the_field(
    db: Session, oem: Actor, change: dict[str, Any], loc: str, named: str
) -> None:
    before = counts(db)

    response = oem.post("/v1/rules", json=template(**change))

    body = assert_error(response, 422, "InvalidInput")
    assert loc in field_locs(body), body
    assert named.lower() in str(body["fields"]).lower(), body
    assert counts(db) == before


def test_malformed_json_is_refused(db: Session, oem: Actor) -> None:
    before = counts(db)
    headers = {**oem.headers(), "Content-Type": "application/json"}

    response = oem.http.post("/v1/rules", content=b'{"name": "half', headers=headers)

    assert_error(response, 422, "InvalidInput", detail="json")
    assert counts(db) == before


def test_suppliers_in_scope_must_be_partners(
    db: Session, client: Any, oem: Actor, supplier: Actor, other_supplier: Actor
) -> None:
    agreement_with(oem, supplier)  # proposed, not yet accepted: it counts
    stranger_oem = make_actor(db, client, OrgKind.OEM)
    agreement_with(stranger_oem, other_supplier)  # another OEM's partner is not ours
    before = counts(db)

    for index, outsider in enumerate([other_supplier.org.id, stranger_oem.org.id, uuid.uuid4()]):
        scope = {"suppliers": [str(supplier.org.id), str(outsider)]}
        response = oem.post("/v1/rules", json=template(scope=scope))
        body = assert_error(response, 422, "InvalidInput", detail=str(outsider))
        assert field_locs(body) == ["body.scope.suppliers.1"], index
    assert counts(db) == before

    rule = create(oem, scope={"suppliers": [str(supplier.org.id)]})
    assert rule["scope"]["suppliers"] == [str(supplier.org.id)]


def test_a_declined_agreement_does_not_make_a_partner(db: Session, oem: Actor, supplier: Actor) -> None:
    agreement_id = agreement_with(oem, supplier)
    assert supplier.post(f"/v1/agreements/{agreement_id}/decline").status_code == 200
    rule = create(oem)
    before = counts(db)

    scope = {"suppliers": [str(supplier.org.id)]}
    for response in (
        oem.post("/v1/rules", json=template(scope=scope)),
        put(oem, f"/v1/rules/{rule['id']}", json=template(scope=scope)),
    ):
        body = assert_error(response, 422, "InvalidInput", detail="agreement")
        assert field_locs(body) == ["body.scope.suppliers.0"]
    assert counts(db) == before


# --- who may ------------------------------------------------------------------------------------------------


def test_another_oem_neither_sees_nor_changes_a_rule(db: Session, client: Any, oem: Actor) -> None:
    rule = create(oem)
    rival = make_actor(db, client, OrgKind.OEM)
    create(rival, name="The rival's own rule")
    before = counts(db)

    assert_error(rival.get(f"/v1/rules/{rule['id']}"), 404, "NotFound")
    assert_error(rival.get(f"/v1/rules/{rule['id']}/versions"), 404, "NotFound")
    assert_error(put(rival, f"/v1/rules/{rule['id']}", json=template(status="disabled")), 404, "NotFound")
    assert [r["name"] for r in rival.get("/v1/rules").json()["items"]] == ["The rival's own rule"]
    assert [r["id"] for r in oem.get("/v1/rules").json()["items"]] == [rule["id"]]
    assert counts(db) == before
    assert oem.get(f"/v1/rules/{rule['id']}").json()["status"] == "active"


def test_writing_needs_rules_admin_and_reading_rules_read(db: Session, oem: Actor) -> None:
    rule = create(oem)
    before = counts(db)

    narrow = "agreements:read"
    assert_error(
        oem.post("/v1/rules", json=template(), scope=narrow), 403, "InsufficientScope", detail="rules:admin"
    )
    assert_error(
        put(oem, f"/v1/rules/{rule['id']}", json=template(status="disabled"), scope="rules:read"),
        403,
        "InsufficientScope",
        detail="rules:admin",
    )
    for url in (
        "/v1/rules",
        f"/v1/rules/{rule['id']}",
        f"/v1/rules/{rule['id']}/versions",
        "/v1/rules/templates",
    ):
        assert_error(oem.get(url, scope=narrow), 403, "InsufficientScope", detail="rules:read")
        assert oem.get(url, scope="rules:read").status_code == 200
    assert counts(db) == before


def test_a_supplier_cannot_write_or_read_rules(db: Session, oem: Actor, supplier: Actor) -> None:
    rule = create(oem)
    before = counts(db)

    assert_error(supplier.post("/v1/rules", json=template()), 403, "InsufficientScope", detail="rules:admin")
    assert_error(supplier.get(f"/v1/rules/{rule['id']}"), 403, "InsufficientScope", detail="rules:read")
    assert counts(db) == before


def test_the_operator_holds_the_scope_but_owns_no_rules(db: Session, oem: Actor, operator: Actor) -> None:
    rule = create(oem)
    before = counts(db)

    assert_error(operator.post("/v1/rules", json=template()), 403, "Forbidden", detail="OEM")
    assert_error(operator.get(f"/v1/rules/{rule['id']}"), 404, "NotFound")
    assert operator.get("/v1/rules").json()["items"] == []
    assert counts(db) == before


def test_rules_scopes_are_for_oems_and_standings_for_both_parties() -> None:
    assert {"rules:admin", "rules:read", "standings:read"} <= set(default_scopes(OrgKind.OEM))
    supplier_scopes = set(default_scopes(OrgKind.SUPPLIER))
    assert "standings:read" in supplier_scopes
    assert not {"rules:admin", "rules:read"} & supplier_scopes
    for kind, scope in [
        (OrgKind.SUPPLIER, "rules:read"),
        (OrgKind.SUPPLIER, "rules:admin"),
        (OrgKind.LAB, "rules:read"),
        (OrgKind.LAB, "standings:read"),
    ]:
        with pytest.raises(ValueError, match=scope):
            check_grantable(kind, [scope])


# --- the version in force -------------------------------------------------------------------------------------


def test_active_versions_are_those_in_force_at_the_time(db: Session, client: Any, oem: Actor) -> None:
    cpk = create(oem)
    draft = create(oem, name="Draft", status="draft")
    rival = make_actor(db, client, OrgKind.OEM)
    create(rival, name="The rival's rule")
    assert put(oem, f"/v1/rules/{cpk['id']}", json=template(condition="missing")).status_code == 200
    assert put(oem, f"/v1/rules/{cpk['id']}", json=template(status="disabled")).status_code == 200
    v1, v2, v3 = stored_versions(db, cpk["id"])
    assert v1.valid_until == v2.valid_from and v2.valid_until == v3.valid_from
    tick = timedelta(microseconds=1)

    def in_force(at: Any) -> list[tuple[uuid.UUID, int]]:
        return [(v.rule_id, v.version) for v in service.active_versions(db, oem_id=oem.org.id, at=at)]

    cpk_id = uuid.UUID(cpk["id"])
    assert in_force(v1.valid_from - tick) == []
    assert in_force(v1.valid_from) == [(cpk_id, 1)]
    assert in_force(v2.valid_from - tick) == [(cpk_id, 1)]
    assert in_force(v2.valid_from) == [(cpk_id, 2)]
    assert in_force(v3.valid_from - tick) == [(cpk_id, 2)]
    # Disabled from version 3 on; the draft was never active.
    assert in_force(v3.valid_from) == []
    assert in_force(v3.valid_from + timedelta(days=365)) == []
    assert uuid.UUID(draft["id"]) not in {rule_id for rule_id, _ in in_force(v2.valid_from)}
    # A version carries its definition, which is what the evaluator runs.
    [now_in_force] = service.active_versions(db, oem_id=oem.org.id, at=v2.valid_from)
    assert now_in_force.definition["condition"] == "missing"


def test_an_active_draft_enters_force_from_the_save_that_activates_it(db: Session, oem: Actor) -> None:
    rule = create(oem, status="draft")
    assert put(oem, f"/v1/rules/{rule['id']}", json=template(status="active")).status_code == 200
    draft, active = stored_versions(db, rule["id"])

    assert service.active_versions(db, oem_id=oem.org.id, at=draft.valid_from) == []
    assert [v.version for v in service.active_versions(db, oem_id=oem.org.id, at=active.valid_from)] == [2]


def test_concurrent_saves_of_one_rule_each_make_a_version(fresh_database: str) -> None:
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    try:
        with factory.begin() as session:
            org = orgs.create_organization(
                session, actor="test", data=OrganizationCreate(name="OEM", kind=OrgKind.OEM)
            )
            caller = Caller(org_id=org.id, org_kind=OrgKind.OEM, client_id="test", scopes=frozenset())
            rule_id = service.create_rule(
                session, caller=caller, data=RuleCreate.model_validate(template())
            ).id
        first_saved, errors = threading.Event(), []

        def save(condition: str, *, hold: bool) -> None:
            try:
                with factory.begin() as session:
                    data = RuleCreate.model_validate(template(condition=condition))
                    service.update_rule(session, caller=caller, rule_id=rule_id, data=data)
                    if hold:
                        first_saved.set()
                        # Keep the transaction open while the other save starts: it must wait, not race.
                        time.sleep(0.3)
            except Exception as exc:
                errors.append(exc)
                first_saved.set()

        holder = threading.Thread(target=save, args=("missing",), kwargs={"hold": True})
        holder.start()
        assert first_saved.wait(10)
        save("!met", hold=False)
        holder.join(10)

        assert errors == []
        with factory.begin() as session:
            query = select(RuleVersion).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version)
            versions = list(session.scalars(query))
        assert [(v.version, v.definition["condition"]) for v in versions] == [
            (1, "missing || !met"),
            (2, "missing"),
            (3, "!met"),
        ]
        assert [v.valid_until for v in versions[:-1]] == [v.valid_from for v in versions[1:]]
        assert versions[-1].valid_until is None
    finally:
        engine.dispose()


@pytest.mark.parametrize("since", ["2026-06-01T00:00:00", "9999-12-31", "0001-01-01"])
def test_a_dry_run_since_without_time_zone_is_422_naming_it(oem: Actor, since: str) -> None:
    rule = create(oem)
    response = oem.post(f"/v1/rules/{rule['id']}/dry-run", json={"since": since})
    body = assert_error(response, 422, "InvalidInput")
    assert field_locs(body) == ["body.since"]
