"""The Rules pages: the OEM's rules, the editor (its condition checked as it is typed), a template to start from,
the dry run as a timeline, activation, and the approvals a second person decides when four-eyes is on.

Every save goes through ``hub.rules.approvals`` exactly as the API's does, so four-eyes holds here too. Only a
person whose role grants ``rules:admin`` sees buttons that change something; a supplier has no rules here (404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from hub.console import rule_views, views
from hub.console.rule_views import Editor
from hub.console.web import PREFIX, ConsoleRoute, SignedIn, Viewer, need, parse_id, render
from hub.db import SessionDep
from hub.errors import InvalidInput, NotFound
from hub.models import Rule, RuleApproval
from hub.people import service as people
from hub.rules import approvals, dryrun, service
from protocol.models.common import OrgKind
from protocol.models.rule_approvals import ApprovalState
from protocol.models.rules import RuleCreate, RuleStatus

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
ADMIN = "rules:admin"
TextField = Annotated[str, Form(max_length=20_000)]


def _reader(viewer: Viewer) -> None:
    # A supplier's or lab's person finds no rules here: rules are an OEM's own.
    if viewer.caller.org_kind is not OrgKind.OEM:
        raise NotFound("no console page rules")
    need(viewer, "rules:read")


def _writer(viewer: Viewer) -> None:
    _reader(viewer)
    need(viewer, ADMIN)


@router.get("/rules")
def rules(request: Request, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    _reader(viewer)
    rows, _ = service.list_rules(session, caller=viewer.caller, cursor=None, limit=views.PAGE)
    pending, _ = approvals.list_approvals(
        session, caller=viewer.caller, state=ApprovalState.PENDING, cursor=None, limit=views.PAGE
    )
    context = {
        "rows": rows,
        "pending": len(pending),
        "templates": service.templates(),
        "four_eyes": approvals.needs_approval(session, caller=viewer.caller),
        "nav": "rules",
    }
    return render(request, "rules.html", context, viewer=viewer)


@router.get("/rules/new")
def new_rule(
    request: Request, viewer: SignedIn, template: Annotated[int, Query(ge=0, le=100)] = 0
) -> HTMLResponse:
    _writer(viewer)
    choices = service.templates()
    if template >= len(choices):
        raise NotFound("no such template")
    return _editor_page(request, viewer, editor=rule_views.editor_of(choices[template]))


@router.post("/rules/new")
def create_rule(
    request: Request,
    session: SessionDep,
    viewer: SignedIn,
    name: TextField = "",
    description: TextField = "",
    condition: TextField = "",
    definition: TextField = "",
) -> Response:
    _writer(viewer)
    editor = Editor(name=name, description=description, condition=condition, definition=definition)
    try:
        data = rule_views.parse_editor(editor, status=RuleStatus.DRAFT)
        made = approvals.create(session, caller=viewer.caller, data=data)
    except InvalidInput as exc:
        failed = Editor(**{**editor.__dict__, "errors": {rule_views.field_of(exc): exc.detail}})
        return _editor_page(request, viewer, editor=failed, status_code=422)
    return RedirectResponse(
        f"{PREFIX}/rules/{made.rule_id if isinstance(made, RuleApproval) else made.id}", 303
    )


@router.post("/rules/check")
def check_condition(
    request: Request, viewer: SignedIn, condition: Annotated[str, Form(max_length=20_000)] = ""
) -> HTMLResponse:
    """The htmx answer beside the condition field, as the person types."""
    _reader(viewer)
    check = rule_views.check_condition(condition)
    return render(request, "_condition_check.html", {"check": check}, viewer=viewer)


@router.get("/rules/approvals")
def approvals_page(request: Request, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    _reader(viewer)
    rows, _ = approvals.list_approvals(
        session, caller=viewer.caller, state=None, cursor=None, limit=views.PAGE
    )
    rules_by_id = {
        rule.id: rule
        for rule, _ in service.list_rules(session, caller=viewer.caller, cursor=None, limit=views.PAGE)[0]
    }
    context = {
        "pending": [row for row in rows if row.state is ApprovalState.PENDING],
        "decided": [row for row in reversed(rows) if row.state is not ApprovalState.PENDING][:50],
        "rules_by_id": rules_by_id,
        "people": {p.id: p.display_name for p in people.list_people(session, org_id=viewer.caller.org_id)},
        "nav": "rules",
    }
    return render(request, "rule_approvals.html", context, viewer=viewer)


@router.post("/rules/approvals/{approval_id}/approve")
def approve(approval_id: str, session: SessionDep, viewer: SignedIn, reason: TextField = "") -> Response:
    _writer(viewer)
    done = approvals.approve(session, caller=viewer.caller, approval_id=parse_id(approval_id), reason=reason)
    return RedirectResponse(f"{PREFIX}/rules/{done.rule_id}", status_code=303)


@router.post("/rules/approvals/{approval_id}/reject")
def reject(approval_id: str, session: SessionDep, viewer: SignedIn, reason: TextField = "") -> Response:
    _writer(viewer)
    approvals.reject(session, caller=viewer.caller, approval_id=parse_id(approval_id), reason=reason)
    return RedirectResponse(f"{PREFIX}/rules/approvals", status_code=303)


@router.get("/rules/{rule_id}")
def rule_page(request: Request, rule_id: str, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    _reader(viewer)
    rule, version = service.get_rule(session, caller=viewer.caller, rule_id=parse_id(rule_id))
    editor = rule_views.editor_of(version.definition)
    return _rule_page(request, session, viewer, rule=rule, editor=editor)


@router.post("/rules/{rule_id}")
def save_rule(
    request: Request,
    rule_id: str,
    session: SessionDep,
    viewer: SignedIn,
    name: TextField = "",
    description: TextField = "",
    condition: TextField = "",
    definition: TextField = "",
) -> Response:
    """Save the editor as the rule's next version, in its current status (an active rule's change may wait)."""
    _writer(viewer)
    rule = service.owned_rule(session, caller=viewer.caller, rule_id=parse_id(rule_id))
    editor = Editor(name=name, description=description, condition=condition, definition=definition)
    try:
        data = rule_views.parse_editor(editor, status=RuleStatus(rule.status))
        saved = approvals.save(session, caller=viewer.caller, rule_id=rule.id, data=data)
    except InvalidInput as exc:
        failed = Editor(**{**editor.__dict__, "errors": {rule_views.field_of(exc): exc.detail}})
        return _rule_page(request, session, viewer, rule=rule, editor=failed, status_code=422)
    return _after_save(rule, saved)


@router.post("/rules/{rule_id}/status")
def set_status(
    rule_id: str, session: SessionDep, viewer: SignedIn, status: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    """Activate or disable the rule as it stands (under four-eyes: ask for approval)."""
    _writer(viewer)
    rule, version = service.get_rule(session, caller=viewer.caller, rule_id=parse_id(rule_id))
    try:
        wanted = RuleStatus(status)
    except ValueError:
        raise InvalidInput(f"status: one of {', '.join(s.value for s in RuleStatus)}", loc="status") from None
    data = RuleCreate.model_validate({**version.definition, "status": wanted.value})
    return _after_save(rule, approvals.save(session, caller=viewer.caller, rule_id=rule.id, data=data))


@router.post("/rules/{rule_id}/dry-run")
def dry_run(request: Request, rule_id: str, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    """The rule page with its dry run on all stored history (htmx takes only the timeline from it)."""
    _writer(viewer)
    rule, version = service.get_rule(session, caller=viewer.caller, rule_id=parse_id(rule_id))
    result = dryrun.dry_run(session, caller=viewer.caller, rule_id=rule.id, since=None)
    moments = rule_views.timeline(result, views.names(session, caller=viewer.caller))
    editor = rule_views.editor_of(version.definition)
    extra = {"result": result, "moments": moments}
    return _rule_page(request, session, viewer, rule=rule, editor=editor, extra=extra)


def _after_save(rule: Rule, saved: Rule | RuleApproval) -> Response:
    asked = "?asked=1" if isinstance(saved, RuleApproval) else ""
    return RedirectResponse(f"{PREFIX}/rules/{rule.id}{asked}", status_code=303)


def _editor_page(request: Request, viewer: Viewer, *, editor: Editor, status_code: int = 200) -> HTMLResponse:
    context = {"rule": None, "editor": editor, "can_edit": True, "nav": "rules"}
    return render(request, "rule.html", context, viewer=viewer, status_code=status_code)


def _rule_page(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    *,
    rule: Rule,
    editor: Editor,
    extra: dict[str, object] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    pending, _ = approvals.list_approvals(
        session, caller=viewer.caller, state=ApprovalState.PENDING, rule_id=rule.id, cursor=None, limit=20
    )
    context = {
        "rule": rule,
        "editor": editor,
        "can_edit": ADMIN in viewer.caller.scopes,
        "pending": pending,
        "asked": request.query_params.get("asked") == "1",
        "four_eyes": approvals.needs_approval(session, caller=viewer.caller),
        "nav": "rules",
        **(extra or {}),
    }
    return render(request, "rule.html", context, viewer=viewer, status_code=status_code)
