"""Rules and supplier standing: how an OEM states, as data, what supplier results do to a supplier's standing.

A rule has a **scope** (which suppliers, parts, characteristics and KPIs it watches), a **condition** on one
period's result written in CEL (true means "this period is bad"), a **pattern** over consecutive periods of one
series (``consecutive: N`` or ``k_of_last: [k, N]``), **actions** taken when the pattern completes, and an
optional **recovery** (M good periods in a row restore one tier this rule took).

CEL variables a condition may use: ``kpi`` (string), ``met`` (bool: the period met the agreement's threshold),
``missing`` (bool: no report by the due date), ``has_value`` (bool), ``value`` and ``threshold`` (double; ``value``
is 0.0 when ``has_value`` is false), ``part`` and ``characteristic`` (string), ``period`` (string). A condition may also read the series before the
period with the hub's series functions (``ewma``, ``slope``, ``projected``, ``nelson``, ``disclosed``: see
``EARLY_WARNING_TEMPLATE`` and the README), or the certificates the supplier shared with the OEM
(``certificate_valid``, ``days_to_expiry``, ``certificate_status``: see ``CERTIFICATE_WITHDRAWN_TEMPLATE``).

Example:
    >>> rule = RuleCreate.model_validate(STANDARD_RULE_TEMPLATE)
    >>> rule.pattern.consecutive, [a.type for a in rule.actions]
    (3, ['lower_tier', 'notify'])
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, StrictInt, model_validator

from protocol.models.common import KpiName, WireModel, WireTime

CEL_VARIABLES: dict[str, str] = {
    "kpi": "string",
    "met": "bool",
    "missing": "bool",
    "has_value": "bool",
    "value": "double",
    "threshold": "double",
    "part": "string",
    "characteristic": "string",
    "period": "string",
}
"""The variables a rule condition may use, with their CEL types.

Example:
    >>> sorted(CEL_VARIABLES)[:3]
    ['characteristic', 'has_value', 'kpi']
"""

MAX_WINDOW = 52
"""The longest pattern window, in periods (a year of weeks).

Example:
    >>> MAX_WINDOW
    52
"""


class Tier(StrEnum):
    """Delivery-priority tier: A is the best, D the worst.

    Example:
        >>> Tier.A < Tier.B
        True
    """

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class StandingStatus(StrEnum):
    """A supplier's status at an OEM, from least to most severe: approved, probation, blocked.

    Example:
        >>> StandingStatus("probation").value
        'probation'
    """

    APPROVED = "approved"
    PROBATION = "probation"
    BLOCKED = "blocked"


class RecipientRole(StrEnum):
    """Who at the OEM a notification is for.

    Example:
        >>> RecipientRole.PURCHASING.value
        'purchasing'
    """

    PURCHASING = "purchasing"
    SQE = "sqe"


class RuleStatus(StrEnum):
    """A rule is a draft (dry-run only), active (evaluated on every result) or disabled.

    Example:
        >>> RuleStatus.ACTIVE.value
        'active'
    """

    DRAFT = "draft"
    ACTIVE = "active"
    DISABLED = "disabled"


class RuleScope(WireModel):
    """What a rule watches; an empty list means "all".

    Example:
        >>> RuleScope(kpis=[KpiName.CPK]).suppliers
        []
    """

    suppliers: list[UUID] = Field(default_factory=list, max_length=1000)
    parts: list[str] = Field(default_factory=list, max_length=1000)
    characteristics: list[str] = Field(default_factory=list, max_length=1000)
    kpis: list[KpiName] = Field(default_factory=list, max_length=4)


class RulePattern(WireModel):
    """When the bad periods of one series complete the pattern: exactly one of the two forms.

    ``consecutive: N``: the last N periods were all bad. ``k_of_last: [k, N]``: at least k of the last N were bad.

    Example:
        >>> RulePattern(k_of_last=(2, 3)).window
        3
    """

    consecutive: StrictInt | None = Field(default=None, ge=1, le=MAX_WINDOW)
    k_of_last: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> RulePattern:
        if (self.consecutive is None) == (self.k_of_last is None):
            raise ValueError("give exactly one of consecutive or k_of_last")
        if self.k_of_last is not None:
            k, n = self.k_of_last
            if not 1 <= k <= n <= MAX_WINDOW:
                raise ValueError(f"k_of_last needs 1 <= k <= N <= {MAX_WINDOW}")
        return self

    @property
    def window(self) -> int:
        """How many periods the pattern looks at."""
        return self.consecutive if self.consecutive is not None else self.k_of_last[1]  # type: ignore[index]

    @property
    def needed(self) -> int:
        """How many bad periods in the window complete it."""
        return self.consecutive if self.consecutive is not None else self.k_of_last[0]  # type: ignore[index]


class LowerTier(WireModel):
    """Lower the delivery-priority tier by ``steps`` (never below D).

    Example:
        >>> LowerTier().steps
        1
    """

    type: Literal["lower_tier"] = "lower_tier"
    steps: StrictInt = Field(default=1, ge=1, le=3)


class RaiseTier(WireModel):
    """Raise the delivery-priority tier by ``steps`` (never above A).

    Example:
        >>> RaiseTier(steps=2).steps
        2
    """

    type: Literal["raise_tier"] = "raise_tier"
    steps: StrictInt = Field(default=1, ge=1, le=3)


class SetStatus(WireModel):
    """Set the supplier's status.

    Example:
        >>> SetStatus(status=StandingStatus.PROBATION).status.value
        'probation'
    """

    type: Literal["set_status"] = "set_status"
    status: StandingStatus


class Notify(WireModel):
    """Put a notification, with its reasons, in an OEM role's inbox.

    Example:
        >>> Notify(role=RecipientRole.PURCHASING).role.value
        'purchasing'
    """

    type: Literal["notify"] = "notify"
    role: RecipientRole


class OpenInvestigation(WireModel):
    """Open an investigation record of the supplier for the OEM's SQE.

    Example:
        >>> OpenInvestigation().type
        'open_investigation'
    """

    type: Literal["open_investigation"] = "open_investigation"


RuleAction = Annotated[
    LowerTier | RaiseTier | SetStatus | Notify | OpenInvestigation, Field(discriminator="type")
]
"""One action of a rule, told apart by its ``type``.

Example:
    >>> from pydantic import TypeAdapter
    >>> TypeAdapter(RuleAction).validate_python({"type": "notify", "role": "sqe"}).role.value
    'sqe'
"""


class Recovery(WireModel):
    """After ``good_periods`` good periods in a row, restore one tier that this rule took.

    Example:
        >>> Recovery(good_periods=4).good_periods
        4
    """

    good_periods: StrictInt = Field(ge=1, le=MAX_WINDOW)


class RuleCreate(WireModel):
    """A rule as an OEM writes it. Saving a changed rule makes a new version; the old one is kept.

    Example:
        >>> RuleCreate.model_validate(STANDARD_RULE_TEMPLATE).condition
        'missing || !met'
    """

    # STANDARD_RULE_TEMPLATE is defined below the models it uses: read it when the schema is made.
    model_config = ConfigDict(
        json_schema_extra=lambda schema: schema.update(examples=[STANDARD_RULE_TEMPLATE])
    )

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    scope: RuleScope = Field(default_factory=RuleScope)
    condition: str = Field(min_length=1, max_length=2000)
    pattern: RulePattern
    actions: list[RuleAction] = Field(min_length=1, max_length=10)
    recovery: Recovery | None = None
    status: RuleStatus = RuleStatus.DRAFT


class Rule(RuleCreate):
    """A rule as the hub keeps it: the version shown is the newest.

    Example:
        >>> sorted(set(Rule.model_fields) - set(RuleCreate.model_fields))
        ['created_at', 'id', 'oem_id', 'updated_at', 'version']
    """

    # The examples of the request it extends do not describe this answer.
    model_config = ConfigDict(json_schema_extra=None)

    id: UUID
    oem_id: UUID
    version: int
    created_at: datetime
    updated_at: datetime


class RuleVersion(WireModel):
    """One saved version of a rule, in force from ``valid_from`` until ``valid_until`` (None: still in force).

    Example:
        >>> RuleVersion.model_fields["definition"].annotation.__name__
        'RuleCreate'
    """

    rule_id: UUID
    version: int
    definition: RuleCreate
    valid_from: datetime
    valid_until: datetime | None = None


class StandingChange(WireModel):
    """One change of a standing and why: the rule (and version) and the reports or missing periods behind it.

    Example:
        >>> StandingChange.model_fields["causes"].annotation
        list[dict[str, typing.Any]]
    """

    at: datetime
    from_tier: Tier
    to_tier: Tier
    from_status: StandingStatus
    to_status: StandingStatus
    rule_id: UUID | None
    rule_version: int | None
    reason: str
    causes: list[dict[str, Any]]


class Standing(WireModel):
    """A supplier's delivery-priority tier and status at one OEM, with its history (newest first).

    Example:
        >>> Standing.model_fields["tier"].annotation.__name__
        'Tier'
    """

    oem_id: UUID
    supplier_id: UUID
    tier: Tier
    status: StandingStatus
    updated_at: datetime
    history: list[StandingChange] = Field(default_factory=list)


class InboxState(StrEnum):
    """Whether an inbox notification still asks for someone (``open``) or was dealt with (``done``).

    Example:
        >>> InboxState("done") is InboxState.DONE
        True
    """

    OPEN = "open"
    DONE = "done"


class InboxNotification(WireModel):
    """A notification for an organization's role, with the reasons a person needs to act on it.

    Example:
        >>> InboxNotification.model_fields["role"].annotation.__name__
        'RecipientRole'
    """

    id: UUID
    organization_id: UUID
    role: RecipientRole
    kind: str
    title: str
    body: dict[str, Any]
    created_at: datetime
    done_at: datetime | None = Field(default=None, description="When it was marked done; None while open")
    done_by: str | None = Field(default=None, description="Who marked it done (a person or an API client)")


class DryRunRequest(WireModel):
    """What to replay in a dry run: results recorded from ``since`` on (default: all stored history).

    Example:
        >>> DryRunRequest().since is None
        True
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"since": "2026-09-01T00:00:00Z"}]})

    since: WireTime | None = None


class DryRunChange(WireModel):
    """A standing change a draft rule would have made, and when.

    Example:
        >>> DryRunChange.model_fields["period"].annotation
        <class 'str'>
    """

    at: datetime
    period: str
    supplier_id: UUID
    from_tier: Tier
    to_tier: Tier
    from_status: StandingStatus
    to_status: StandingStatus
    actions: list[str]
    causes: list[dict[str, Any]]


class DryRunLead(WireModel):
    """How early a rule (an early warning) fired on history before one of the OEM's tier-lowering rules would
    have lowered the supplier's tier: the first period of each, and the periods between (None when either is
    absent, or the periods are of different kinds).

    Example:
        >>> DryRunLead(supplier_id=UUID(int=1), first_warning_period="2026-W10",
        ...            first_downgrade_period="2026-W13", lead_periods=3).lead_periods
        3
    """

    supplier_id: UUID
    first_warning_period: str | None
    first_downgrade_period: str | None
    lead_periods: int | None


class DryRunResult(WireModel):
    """What replaying stored history under a rule would have done, and per supplier how early it fired before a
    tier was lowered (``leads``).

    Example:
        >>> DryRunResult(evaluated=0, changes=[]).evaluated
        0
    """

    evaluated: int
    changes: list[DryRunChange]
    leads: list[DryRunLead] = Field(default_factory=list)


STANDARD_RULE_TEMPLATE: dict[str, Any] = {
    "name": "CPK below 1.33 for 3 consecutive periods",
    "description": "Lower the delivery-priority tier by one and notify purchasing; 4 good periods restore it.",
    "scope": {"kpis": ["cpk"]},
    "condition": "missing || !met",
    "pattern": {"consecutive": 3},
    "actions": [{"type": "lower_tier", "steps": 1}, {"type": "notify", "role": "purchasing"}],
    "recovery": {"good_periods": 4},
    "status": "active",
}
"""The standard rule every OEM starts from (``GET /v1/rules/templates``).

Example:
    >>> STANDARD_RULE_TEMPLATE["pattern"]
    {'consecutive': 3}
"""

EARLY_WARNING_TEMPLATE: dict[str, Any] = {
    "name": "Early warning: CPK trend projects below 1.33 within 2 periods",
    "description": (
        "While the supplier still meets the threshold, the least-squares line over its last 6 periods falls below "
        "it within 2 periods (a met rate below 0.5 where CPK is only proven): notify SQE, no tier change."
    ),
    "scope": {"kpis": ["cpk"]},
    "condition": "met && (disclosed(6) ? projected(6, 2) < threshold : projected(6, 2) < 0.5)",
    "pattern": {"consecutive": 1},
    "actions": [{"type": "notify", "role": "sqe"}],
    "status": "draft",
}
"""The early-warning rule (``GET /v1/rules/templates``): series functions look ahead, and it only notifies.

Example:
    >>> [a["type"] for a in EARLY_WARNING_TEMPLATE["actions"]]
    ['notify']
"""

CERTIFICATE_WITHDRAWN_TEMPLATE: dict[str, Any] = {
    "name": "IATF 16949 certificate withdrawn: probation",
    "description": (
        "When the certification body withdraws the supplier's IATF 16949 certificate (one shared with you), set "
        "the supplier on probation and notify purchasing. Judged on the certificate's events and in the sweep."
    ),
    "condition": 'certificate_status("IATF 16949") == "withdrawn"',
    "pattern": {"consecutive": 1},
    "actions": [{"type": "set_status", "status": "probation"}, {"type": "notify", "role": "purchasing"}],
    "status": "draft",
}
"""A certificate rule (``GET /v1/rules/templates``): ``certificate_status`` reads the certificates the supplier
shared with the OEM; the rule fires once when the withdrawal is learned.

Example:
    >>> CERTIFICATE_WITHDRAWN_TEMPLATE["actions"][0]["status"]
    'probation'
"""

CERTIFICATE_EXPIRING_TEMPLATE: dict[str, Any] = {
    "name": "IATF 16949 certificate expires within 60 days",
    "description": "Notify SQE once when the supplier's valid IATF 16949 certificate has 60 days or fewer left.",
    "condition": 'certificate_valid("IATF 16949") && days_to_expiry("IATF 16949") <= 60',
    "pattern": {"consecutive": 1},
    "actions": [{"type": "notify", "role": "sqe"}],
    "status": "draft",
}
"""A certificate rule (``GET /v1/rules/templates``) the daily sweep fires as the expiry comes near.

Example:
    >>> CERTIFICATE_EXPIRING_TEMPLATE["actions"]
    [{'type': 'notify', 'role': 'sqe'}]
"""

__all__ = [
    "CEL_VARIABLES",
    "CERTIFICATE_EXPIRING_TEMPLATE",
    "CERTIFICATE_WITHDRAWN_TEMPLATE",
    "EARLY_WARNING_TEMPLATE",
    "MAX_WINDOW",
    "STANDARD_RULE_TEMPLATE",
    "DryRunChange",
    "DryRunLead",
    "DryRunRequest",
    "DryRunResult",
    "InboxNotification",
    "InboxState",
    "LowerTier",
    "Notify",
    "OpenInvestigation",
    "RaiseTier",
    "RecipientRole",
    "Recovery",
    "Rule",
    "RuleAction",
    "RuleCreate",
    "RulePattern",
    "RuleScope",
    "RuleStatus",
    "RuleVersion",
    "SetStatus",
    "Standing",
    "StandingChange",
    "StandingStatus",
    "Tier",
]
