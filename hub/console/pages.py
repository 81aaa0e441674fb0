"""The console's pages: each an auth dependency, one call into hub.console.views (the API's services), a
template. Changes are POSTed forms carrying the session's CSRF token, answered by a redirect (post/redirect/get)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from hub.console import views
from hub.console.charts import trend_chart
from hub.console.export import table_response
from hub.console.web import PREFIX, ConsoleRoute, SignedIn, need, parse_id, render
from hub.db import SessionDep
from hub.errors import Forbidden, HubError, InvalidInput, NotFound
from hub.models.base import utcnow
from hub.rules.sharing import DataSharing
from protocol.models.agreements import AgreementDecision
from protocol.models.common import OrgKind
from protocol.models.containment import ContainmentAcknowledge, ContainmentClose

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _invalid(exc: ValidationError, field: str) -> InvalidInput:
    first = exc.errors()[0]
    return InvalidInput(f"{field}: {first['msg']}", loc=field)


@router.get("/")
def home(viewer: SignedIn) -> Response:
    kind = viewer.caller.org_kind
    target = {OrgKind.OEM: "network", OrgKind.SUPPLIER: "standing"}.get(kind, "inbox")
    return RedirectResponse(f"{PREFIX}/{target}", status_code=303)


def _oem(viewer: SignedIn) -> None:
    if viewer.caller.org_kind is not OrgKind.OEM:
        raise Forbidden("the network overview is an OEM's")
    need(viewer, "standings:read")


@router.get("/network")
def network(request: Request, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    _oem(viewer)
    rows = views.network_overview(session, caller=viewer.caller, now=utcnow())
    return render(request, "network.html", {"rows": rows, "nav": "network"}, viewer=viewer)


@router.get("/network.{fmt}")
def network_export(fmt: str, session: SessionDep, viewer: SignedIn) -> Response:
    _oem(viewer)
    rows = views.network_overview(session, caller=viewer.caller, now=utcnow())
    header = [
        "supplier",
        "supplier_id",
        "tier",
        "status",
        "trend",
        "open_alerts",
        "overdue_reports",
        "data_sharing_degree",
        "certificates",
        "updated_at",
    ]
    data = [
        [
            r.name,
            r.supplier_id,
            r.tier,
            r.status,
            r.trend,
            r.open_alerts,
            r.overdue,
            r.sharing.degree,
            r.certificates_summary,
            r.updated_at.isoformat(),
        ]
        for r in rows
    ]
    return table_response("network", fmt, header, data)


@router.get("/suppliers/{supplier_id}")
def scorecard(request: Request, supplier_id: str, session: SessionDep, viewer: SignedIn) -> Response:
    if viewer.caller.org_kind is OrgKind.SUPPLIER:
        # Its own scorecard is its standing page; any other supplier's is another organization's: not found.
        if parse_id(supplier_id) == viewer.caller.org_id:
            return RedirectResponse(f"{PREFIX}/standing", status_code=303)
        raise NotFound("no such supplier")
    _oem(viewer)
    card = views.scorecard(session, caller=viewer.caller, supplier_id=parse_id(supplier_id), now=utcnow())
    charts = [(series, trend_chart(series)) for series in card.series]
    return render(
        request, "scorecard.html", {"card": card, "charts": charts, "nav": "network"}, viewer=viewer
    )


@router.get("/standing")
def supplier_view(request: Request, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    if viewer.caller.org_kind is not OrgKind.SUPPLIER:
        raise Forbidden("this page is a supplier's view of itself")
    need(viewer, "standings:read")
    view = views.supplier_view(session, caller=viewer.caller, now=utcnow())
    charts = [(series, trend_chart(series)) for series in view.series]
    return render(
        request,
        "supplier.html",
        {"view": view, "charts": charts, "nav": "standing", "empty_sharing": DataSharing()},
        viewer=viewer,
    )


@router.get("/standing/reports.{fmt}")
def supplier_reports_export(fmt: str, session: SessionDep, viewer: SignedIn) -> Response:
    if viewer.caller.org_kind is not OrgKind.SUPPLIER:
        raise Forbidden("this page is a supplier's view of itself")
    need(viewer, "standings:read")
    known = views.names(session, caller=viewer.caller)
    header = [
        "period",
        "oem",
        "part_number",
        "characteristic",
        "kpi",
        "value",
        "threshold",
        "meets",
        "proven",
    ]
    data = [
        [
            r.period,
            known.get(r.oem_id, str(r.oem_id)),
            r.part_number,
            r.characteristic or "",
            r.kpi.value,
            r.value,
            r.threshold,
            r.meets,
            r.proven,
        ]
        for r in views.own_reports(session, caller=viewer.caller, limit=None)
    ]
    return table_response("reports", fmt, header, data)


@router.post("/agreements/{agreement_id}/{decision}")
def decide(
    agreement_id: str,
    decision: str,
    session: SessionDep,
    viewer: SignedIn,
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    need(viewer, "agreements:write")
    if decision not in ("accept", "decline"):
        raise InvalidInput("decision: accept or decline", loc="path.decision")
    try:
        body = AgreementDecision(reason=reason)
    except ValidationError as exc:
        raise _invalid(exc, "reason") from exc
    views.decide_agreement(
        session,
        caller=viewer.caller,
        agreement_id=parse_id(agreement_id),
        accept=decision == "accept",
        reason=body.reason,
    )
    return RedirectResponse(f"{PREFIX}/standing", status_code=303)


def _containment_page(
    request: Request,
    session: SessionDep,
    viewer: SignedIn,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    need(viewer, "alerts:read")
    rows = views.containment_actions(session, caller=viewer.caller)
    context = {"rows": rows, "errors": errors or {}, "nav": "containment"}
    return render(request, "containment.html", context, viewer=viewer, status_code=status_code)


@router.get("/containment")
def containment(request: Request, session: SessionDep, viewer: SignedIn) -> HTMLResponse:
    return _containment_page(request, session, viewer)


@router.get("/containment.{fmt}")
def containment_export(fmt: str, session: SessionDep, viewer: SignedIn) -> Response:
    need(viewer, "alerts:read")
    rows = views.containment_actions(session, caller=viewer.caller)
    header = [
        "action_id",
        "alert",
        "severity",
        "plant",
        "kind",
        "status",
        "quantity",
        "unit",
        "owner",
        "result",
    ]
    data = [
        [
            r.id,
            r.alert_title,
            r.severity,
            r.plant_code,
            r.kind.value,
            r.status.value,
            r.quantity,
            r.unit,
            r.owner,
            r.result,
        ]
        for r in rows
    ]
    return table_response("containment", fmt, header, data)


@router.post("/containment/{action_id}/{step}")
def containment_step(
    request: Request,
    action_id: str,
    step: str,
    session: SessionDep,
    viewer: SignedIn,
    text: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    need(viewer, "containment:write")
    found = parse_id(action_id)
    try:
        if step == "acknowledge":
            views.acknowledge(
                session, caller=viewer.caller, action_id=found, owner=ContainmentAcknowledge(owner=text).owner
            )
        elif step == "close":
            views.close(
                session, caller=viewer.caller, action_id=found, result=ContainmentClose(result=text).result
            )
        else:
            raise InvalidInput("step: acknowledge or close", loc="path.step")
    except ValidationError as exc:
        field = "owner" if step == "acknowledge" else "result"
        first = exc.errors()[0]
        return _containment_page(
            request, session, viewer, errors={action_id: f"{field}: {first['msg']}"}, status_code=422
        )
    except HubError as exc:
        if exc.status_code == 404:
            raise
        # The services check the state before they change anything: nothing was written.
        return _containment_page(
            request, session, viewer, errors={action_id: exc.detail}, status_code=exc.status_code
        )
    return RedirectResponse(f"{PREFIX}/containment", status_code=303)


@router.get("/{path:path}")
def unknown_page(path: str, viewer: SignedIn) -> Response:
    raise NotFound(f"no console page {path[:100]}")
