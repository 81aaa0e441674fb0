"""`hub retention status` and `hub retention run`: what each table keeps, and one round of the retention job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from hub.people.cli import cli_settings

retention_app = typer.Typer(
    help="Data retention: monthly partitions (PostgreSQL) and dropping what is past retention.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True, highlight=False)

NowOption = Annotated[
    datetime | None,
    typer.Option(
        "--now",
        formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        help="Act as if it were this UTC moment (a drill on a copy); default: now",
    ),
]


def _moment(now: datetime | None) -> datetime:
    from hub.models.base import utcnow

    return now.replace(tzinfo=UTC) if now is not None else utcnow()


@retention_app.command("status")
def status(now: NowOption = None) -> None:
    """Per table: its retention, the boundary rows before which go, its partitions, and rows past retention."""
    from hub.db import make_engine, make_session_factory
    from hub.retention import service

    settings = cli_settings()
    engine = make_engine(settings)
    try:
        with make_session_factory(engine)() as session:
            found = service.status(session, settings=settings, now=_moment(now))
    finally:
        engine.dispose()
    for table in found:
        keeps = f"{table.retention_days} days" if table.retention_days else "forever"
        before = f", drops rows before {table.boundary.date()}" if table.boundary else ""
        months = ""
        if table.months:
            months = f", partitions {table.months[0]:%Y-%m} .. {table.months[-1]:%Y-%m} ({len(table.months)})"
        console.print(
            f"{table.table}: keeps {keeps}{before}{months}, {table.past_retention} rows past retention"
        )


@retention_app.command("run")
def run(now: NowOption = None) -> None:
    """One round of the retention job now: make partitions ahead, drop and delete what is past retention."""
    from hub.auth.tokens import TokenKeys
    from hub.db import make_engine, make_session_factory
    from hub.retention import service

    settings = cli_settings()
    keys = TokenKeys(settings.signing_key(), issuer=settings.issuer, previous=settings.previous_public_keys())
    signer = service.Signer(keys.private_key, keys.key_id, settings.issuer)
    engine = make_engine(settings)
    try:
        report = service.run(make_session_factory(engine), settings=settings, now=_moment(now), signer=signer)
    finally:
        engine.dispose()
    for name in report.made:
        console.print(f"made partition {name}")
    for name in report.skipped:
        console.print(f"[yellow]not made[/yellow] {name}: the DEFAULT partition holds rows of that month")
    for name in report.dropped:
        console.print(f"dropped partition {name}")
    for table, count in report.deleted.items():
        console.print(f"deleted {count} rows of {table}")
    for what, reason in report.refused.items():
        console.print(f"[yellow]kept[/yellow] {what}: {reason}")
    if not report.changes and not report.refused:
        console.print("nothing to do")
