"""Putting the console into the app: its routers, its static files (shipped in the package) and the filters
its templates use."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hub.console import (
    containment_pages,
    inbox_pages,
    invitation_pages,
    mail_pages,
    pages,
    people_pages,
    quality_pages,
    room_pages,
    rule_pages,
    sign_in,
    sso_pages,
    trace_pages,
)
from hub.console.web import PREFIX, Viewer, templates


def when(moment: datetime | None, viewer: Viewer | None) -> str:
    """A time in the person's own time zone."""
    if moment is None:
        return ""
    local = moment.astimezone(viewer.zone) if viewer is not None else moment
    return local.strftime("%Y-%m-%d %H:%M %Z")


templates.env.filters["when"] = when


def install(app: FastAPI) -> None:
    app.mount(f"{PREFIX}/static", StaticFiles(packages=[("hub.console", "static")]), name="console-static")
    app.include_router(sign_in.router)
    app.include_router(sso_pages.router)
    app.include_router(people_pages.router)
    app.include_router(invitation_pages.router)
    app.include_router(mail_pages.router)
    app.include_router(rule_pages.router)
    app.include_router(inbox_pages.router)
    app.include_router(containment_pages.router)
    app.include_router(trace_pages.router)
    app.include_router(quality_pages.router)
    app.include_router(room_pages.router)  # before pages: its catch-all answers unknown paths
    app.include_router(pages.router)
