"""The working record of a joint investigation room: annotations, the 8D steps, the timeline and the 8D
summary the hub signs at closing. Every name here is also importable from :mod:`protocol.models.rooms`.

Example:
    >>> AnnotationCreate(body="Noise starts at 41 °C", tag="hypothesis").tag.value
    'hypothesis'
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictInt, model_validator

from protocol.models.common import WireModel


class AnnotationTag(StrEnum):
    """What an annotation claims.

    Example:
        >>> AnnotationTag("root_cause")
        <AnnotationTag.ROOT_CAUSE: 'root_cause'>
    """

    OBSERVATION = "observation"
    HYPOTHESIS = "hypothesis"
    ROOT_CAUSE = "root_cause"
    VERIFIED = "verified"
    REJECTED = "rejected"


class EightDStep(StrEnum):
    """The eight disciplines; :data:`EIGHT_D_TITLES` names them.

    Example:
        >>> EIGHT_D_TITLES[EightDStep.D4]
        'Root cause analysis'
    """

    D1 = "D1"
    D2 = "D2"
    D3 = "D3"
    D4 = "D4"
    D5 = "D5"
    D6 = "D6"
    D7 = "D7"
    D8 = "D8"


EIGHT_D_TITLES: dict[EightDStep, str] = {
    EightDStep.D1: "Team",
    EightDStep.D2: "Problem description",
    EightDStep.D3: "Containment actions",
    EightDStep.D4: "Root cause analysis",
    EightDStep.D5: "Permanent corrective actions",
    EightDStep.D6: "Implementation and validation",
    EightDStep.D7: "Prevention of recurrence",
    EightDStep.D8: "Closure and recognition",
}
"""Title of each 8D step.

Example:
    >>> EIGHT_D_TITLES[EightDStep.D1]
    'Team'
"""


class Anchor(WireModel):
    """Where an annotation points: a dataset, optionally rows ``[row_start, row_end)`` of it, and/or a time
    range ``[time_from, time_to)``.

    Example:
        >>> Anchor(dataset_id=uuid.UUID(int=3), row_start=10, row_end=20).row_end
        20
    """

    dataset_id: uuid.UUID | None = None
    row_start: StrictInt | None = Field(default=None, ge=0, le=2**53)
    row_end: StrictInt | None = Field(default=None, ge=1, le=2**53)
    time_from: datetime | None = None
    time_to: datetime | None = None

    @model_validator(mode="after")
    def _ranges(self) -> Anchor:
        if (self.row_start is None) != (self.row_end is None):
            raise ValueError("row_start and row_end come together")
        if self.row_start is not None and self.row_end is not None:
            if self.dataset_id is None:
                raise ValueError("a row range needs dataset_id")
            if self.row_end <= self.row_start:
                raise ValueError("row_end must be greater than row_start")
        if (self.time_from is None) != (self.time_to is None):
            raise ValueError("time_from and time_to come together")
        if self.time_from is not None and self.time_to is not None:
            if self.time_from.tzinfo is None or self.time_to.tzinfo is None:
                raise ValueError("time_from and time_to must be timezone-aware")
            if self.time_to <= self.time_from:
                raise ValueError("time_to must be after time_from")
        return self


class AnnotationCreate(WireModel):
    """A comment in the room, optionally anchored and optionally a reply (``parent_id``).

    Example:
        >>> AnnotationCreate(body="Noise starts at 41 °C", tag="hypothesis").tag
        <AnnotationTag.HYPOTHESIS: 'hypothesis'>
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "body": "Noise rises above 41 °C in every run of this lot",
                    "tag": "hypothesis",
                    "anchor": {
                        "dataset_id": "4d3c2b1a-0f9e-4d8c-b7a6-958473625140",
                        "row_start": 120,
                        "row_end": 480,
                    },
                }
            ]
        }
    )

    body: str = Field(min_length=1, max_length=20000)
    tag: AnnotationTag = AnnotationTag.OBSERVATION
    anchor: Anchor | None = None
    parent_id: uuid.UUID | None = None


class AnnotationEdit(WireModel):
    """Change an annotation's text or tag; the previous version stays in its history.

    Example:
        >>> AnnotationEdit(tag="verified").body is None
        True
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{"tag": "root_cause"}]})

    body: str | None = Field(default=None, min_length=1, max_length=20000)
    tag: AnnotationTag | None = None

    @model_validator(mode="after")
    def _something(self) -> AnnotationEdit:
        if self.body is None and self.tag is None:
            raise ValueError("give body or tag")
        return self


class AnnotationRevision(WireModel):
    """One earlier or current version of an annotation.

    Example:
        >>> sorted(AnnotationRevision.model_fields)
        ['body', 'edited_at', 'organization_id', 'revision', 'tag']
    """

    revision: int
    body: str
    tag: AnnotationTag
    organization_id: uuid.UUID
    edited_at: datetime


class Annotation(WireModel):
    """An annotation with its history (oldest first; the last revision is the current text).

    Example:
        >>> "revisions" in Annotation.model_fields
        True
    """

    id: uuid.UUID
    room_id: uuid.UUID
    organization_id: uuid.UUID
    body: str
    tag: AnnotationTag
    anchor: Anchor | None
    parent_id: uuid.UUID | None
    revision: int
    created_at: datetime
    updated_at: datetime
    revisions: list[AnnotationRevision] = Field(default_factory=list)


class Evidence(WireModel):
    """A link from an 8D step to a dataset or an annotation of the same room.

    Example:
        >>> Evidence(kind="dataset", id=uuid.UUID(int=4)).kind
        'dataset'
    """

    kind: Literal["dataset", "annotation"]
    id: uuid.UUID


class EightDUpdate(WireModel):
    """Write an 8D step. The room owner may set ``owner_id`` (the organization responsible for the step);
    the step's owner (or the room owner) writes ``content`` and ``evidence``. A signed-off step is reopened
    before it changes.

    Example:
        >>> EightDUpdate(content="Team: OEM, compressor, motor").evidence is None
        True
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "content": "D4: bearing preload out of tolerance after the press-fit change of week 2026-W41.",
                    "evidence": [{"kind": "dataset", "id": "4d3c2b1a-0f9e-4d8c-b7a6-958473625140"}],
                }
            ]
        }
    )

    owner_id: uuid.UUID | None = None
    content: str | None = Field(default=None, max_length=50000)
    evidence: list[Evidence] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _something(self) -> EightDUpdate:
        if self.owner_id is None and self.content is None and self.evidence is None:
            raise ValueError("give owner_id, content or evidence")
        return self


class EightDRecordStep(WireModel):
    """One step of a room's 8D record.

    Example:
        >>> "signed_off_at" in EightDRecordStep.model_fields
        True
    """

    step: EightDStep
    title: str
    owner_id: uuid.UUID | None
    content: str
    evidence: list[Evidence]
    revision: int
    updated_at: datetime | None
    signed_off_at: datetime | None = None
    signed_off_by: uuid.UUID | None = Field(default=None, description="The organization that signed off")


class TimelineEntry(WireModel):
    """Something that happened in the room, from its audit trail.

    Example:
        >>> sorted(TimelineEntry.model_fields)
        ['action', 'at', 'data', 'organization_id']
    """

    at: datetime
    action: str
    organization_id: uuid.UUID | None = Field(description="Who did it; none when the hub did (expiry)")
    data: dict[str, Any]


class RoomSummary(WireModel):
    """The 8D summary the hub signs when a room closes (the payload of a ``room-8d-summary`` envelope, :data:`protocol.models.rooms.ROOM_SUMMARY_TYPE`).

    Example:
        >>> sorted(RoomSummary.model_fields)[:4]
        ['annotations', 'closed_at', 'closed_by', 'datasets']
    """

    room: dict[str, Any]
    members: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    annotations: list[dict[str, Any]]
    datasets: list[dict[str, Any]]
    closed_at: str
    closed_by: str
    note: str


__all__ = [
    "EIGHT_D_TITLES",
    "Anchor",
    "Annotation",
    "AnnotationCreate",
    "AnnotationEdit",
    "AnnotationRevision",
    "AnnotationTag",
    "EightDRecordStep",
    "EightDStep",
    "EightDUpdate",
    "Evidence",
    "RoomSummary",
    "TimelineEntry",
]
