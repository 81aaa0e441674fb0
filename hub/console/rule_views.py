"""What the Rules pages show, made from the rules services: the editor's fields, the condition's check and the
dry run as a timeline. No rule logic of its own: parsing is the wire model's, checking the service's."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from hub.errors import InvalidInput
from hub.rules.conditions import ConditionError, compile_condition
from protocol.models.rules import DryRunChange, DryRunResult, RuleCreate, RuleStatus

MAX_CONDITION = RuleCreate.model_fields["condition"].metadata[-1].max_length
EDITOR_FIELDS = ("name", "description", "condition")
# What the editor shows as JSON beside its fields: everything of a rule but its name, words and condition.
REST = ("scope", "pattern", "actions", "recovery")


@dataclass(frozen=True)
class Editor:
    """The editor's fields as typed (or as stored), and the error next to each."""

    name: str = ""
    description: str = ""
    condition: str = ""
    definition: str = "{}"
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConditionCheck:
    ok: bool
    message: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class Moment:
    """One period of the dry-run timeline: what the rule would have done to whom."""

    period: str
    changes: list[tuple[str, DryRunChange]]


def editor_of(definition: RuleCreate | dict[str, Any]) -> Editor:
    data = definition.model_dump(mode="json") if isinstance(definition, RuleCreate) else definition
    rest = {key: data.get(key) for key in REST if data.get(key) is not None}
    return Editor(
        name=data.get("name", ""),
        description=data.get("description", ""),
        condition=data.get("condition", ""),
        definition=json.dumps(rest, indent=2),
    )


def parse_editor(editor: Editor, *, status: RuleStatus) -> RuleCreate:
    """The rule the editor says, or InvalidInput naming the editor's field (the wire model's message)."""
    try:
        rest = json.loads(editor.definition or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"definition: not JSON ({exc.msg}, line {exc.lineno})", loc="definition") from exc
    if not isinstance(rest, dict):
        raise InvalidInput(
            "definition: a JSON object with scope, pattern, actions, recovery", loc="definition"
        )
    fields = {"name": editor.name, "description": editor.description, "condition": editor.condition}
    try:
        return RuleCreate.model_validate({**rest, **fields, "status": status.value})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        loc = where if where in EDITOR_FIELDS else "definition"
        raise InvalidInput(f"{where}: {first['msg']}", loc=loc) from exc


def field_of(exc: InvalidInput) -> str:
    """The editor field a service error names (``body.condition`` → ``condition``), else the JSON part."""
    loc = (exc.loc or "").removeprefix("body.")
    return loc if loc in EDITOR_FIELDS else "definition"


def check_condition(expression: str) -> ConditionCheck:
    """The same check a save makes, with the line and column where the parser knows them."""
    if not expression.strip():
        return ConditionCheck(False, "condition: write a CEL expression, e.g. missing || !met")
    if len(expression) > MAX_CONDITION:
        return ConditionCheck(False, f"condition: at most {MAX_CONDITION} characters")
    try:
        compile_condition(expression)
    except ConditionError as exc:
        line, column = (int(part) for part in exc.position.split(":")) if exc.position else (None, None)
        return ConditionCheck(False, str(exc), line, column)
    return ConditionCheck(True, "")


def timeline(result: DryRunResult, names: dict[uuid.UUID, str]) -> list[Moment]:
    """The dry run's changes period by period, in the order they would have happened."""
    moments: dict[str, Moment] = {}
    for change in sorted(result.changes, key=lambda c: c.at):
        name = names.get(change.supplier_id, str(change.supplier_id))
        moments.setdefault(change.period, Moment(change.period, [])).changes.append((name, change))
    return list(moments.values())
