"""The demo's cast and narration, shared by every chapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.panel import Panel

from qualink_demo.actors import Actor


@dataclass
class Story:
    console: Console
    base_url: str
    operator: Actor
    oem: Actor
    suppliers: list[Actor]
    agreements: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def chapter(self, title: str, summary: str) -> None:
        self.console.print()
        self.console.print(Panel(summary, title=f"[bold]{title}[/bold]", expand=False))

    def close(self) -> None:
        for actor in (self.operator, self.oem, *self.suppliers):
            actor.close()
