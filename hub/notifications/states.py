"""The Catena-X quality-notification state machine: which party may move a notification from where to where.

Catena-X cancels only drafts (CREATED). Here the sender may also withdraw a notification until the receiver
acknowledges it (SENT, RECEIVED): an alert sent by mistake must not keep stock on hold while someone phones around,
and cancelling is what releases its holds. Once acknowledged, the receiver is working on it: the sender closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.models.notifications import NotificationStatus as S
from protocol.models.notifications import Severity

SENDER = "sender"
RECEIVER = "receiver"


@dataclass(frozen=True)
class Transition:
    name: str
    party: str
    sources: frozenset[S]
    target: S
    event: str
    reason_required: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("send", SENDER, frozenset({S.CREATED}), S.SENT, "sent"),
        Transition("cancel", SENDER, frozenset({S.CREATED, S.SENT, S.RECEIVED}), S.CANCELED, "canceled"),
        Transition(
            "close",
            SENDER,
            frozenset({S.SENT, S.RECEIVED, S.ACKNOWLEDGED, S.ACCEPTED, S.DECLINED}),
            S.CLOSED,
            "closed",
            reason_required=True,
        ),
        Transition("receive", RECEIVER, frozenset({S.SENT}), S.RECEIVED, "received"),
        Transition("acknowledge", RECEIVER, frozenset({S.SENT, S.RECEIVED}), S.ACKNOWLEDGED, "acknowledged"),
        Transition(
            "accept", RECEIVER, frozenset({S.ACKNOWLEDGED}), S.ACCEPTED, "accepted", reason_required=True
        ),
        Transition(
            "decline", RECEIVER, frozenset({S.ACKNOWLEDGED}), S.DECLINED, "declined", reason_required=True
        ),
    )
}

# A receiver forwards an investigation it has and has not yet answered; the target date escalates the same states.
OPEN_FOR_RECEIVER = frozenset({S.SENT, S.RECEIVED, S.ACKNOWLEDGED})
FINAL = frozenset({S.CLOSED, S.CANCELED})

_SEVERITIES = list(Severity)


def raised(severity: Severity) -> Severity:
    """One step more severe; LIFE-THREATENING stays where it is."""
    index = _SEVERITIES.index(severity)
    return _SEVERITIES[min(index + 1, len(_SEVERITIES) - 1)]
