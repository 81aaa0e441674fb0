"""``client.rooms``: joint investigation rooms through the hub, with datasets encrypted and decrypted here.

:class:`Rooms` wraps the ``/v1/rooms`` endpoints on one :class:`~supplier_sdk.requester.Requester`: rooms and members,
annotations, the 8D record, closing and export here; datasets (upload, download, rewrap) in its base class
:class:`~supplier_sdk.rooms.transfer.DatasetTransfer`.

Example::

    with Client(base_url=url, client_id=cid, private_key=sig_key, encryption_key=enc_key) as hub:
        hub.rooms.register_encryption_key()
        room = hub.rooms.open(title="Compressor noise at 41 °C", expires_at=in_30_days,
                              members=[MemberInvite(organization_id=compressor_supplier_id)])
        dataset = hub.rooms.upload(room.id, "bench-run-17.csv", media_type="text/csv")
        hub.rooms.download(room.id, dataset.id, "bench-run-17.copy.csv")
"""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any

from protocol.models import rooms as wire
from supplier_sdk.rooms.transfer import CONTENT_TIMEOUT, DatasetTransfer, DatasetUnavailable, _id


class Rooms(DatasetTransfer):
    """The room endpoints of one client; datasets are encrypted and decrypted on this side only.

    Args:
        requester: the connection to the hub.
        signer: the organization's Ed25519 key, which signs dataset manifests (needed to upload).
        encryption_key: the organization's X25519 private key; needed to upload (the uploader also gets a
            wrapped key), download and rewrap, not for the rest.

    Example::

        rooms = Rooms(requester, signer=signer, encryption_key=load_encryption_key(open("org.enc.key").read()))
        for room in rooms.list():
            print(room.title, room.your_role)
    """

    # -- rooms and members --------------------------------------------------------------------------------------

    def open(
        self,
        *,
        title: str,
        expires_at: datetime,
        description: str = "",
        deletion_policy: wire.DeletionPolicy | str = wire.DeletionPolicy.DELETE_AFTER_CLOSING,
        notification_id: uuid.UUID | None = None,
        people: builtins.list[wire.Person] | None = None,
        members: builtins.list[wire.MemberInvite] | None = None,
    ) -> wire.Room:
        """Open a room owned by this organization, inviting ``members`` at once.

        Example::

            room = hub.rooms.open(title="Compressor noise", expires_at=datetime(2026, 12, 31, tzinfo=UTC),
                                  members=[MemberInvite(organization_id=supplier_id)])
        """
        body = wire.RoomCreate(
            title=title,
            description=description,
            expires_at=expires_at,
            deletion_policy=wire.DeletionPolicy(deletion_policy),
            notification_id=notification_id,
            people=people or [],
            members=members or [],
        )
        return wire.Room.model_validate(
            self._requester.request("POST", "/v1/rooms", json=body.model_dump(mode="json"))
        )

    def list(self, *, status: wire.RoomStatus | str | None = None) -> builtins.list[wire.Room]:
        """The rooms this organization is a member of (invited or accepted), optionally by status.

        Example::

            open_rooms = hub.rooms.list(status="open")
        """
        params = None if status is None else {"status": wire.RoomStatus(status).value}
        return [wire.Room.model_validate(item) for item in self._requester.pages("/v1/rooms", params=params)]

    def get(self, room_id: uuid.UUID | str) -> wire.Room:
        """One room with its members (:class:`~supplier_sdk.errors.NotFound` for non-members).

        Example::

            print(hub.rooms.get(room_id).status)
        """
        return wire.Room.model_validate(self._requester.request("GET", f"/v1/rooms/{_id(room_id)}"))

    def invite(
        self,
        room_id: uuid.UUID | str,
        organization_id: uuid.UUID | str,
        *,
        role: wire.RoomRole | str = wire.RoomRole.CONTRIBUTOR,
        people: builtins.list[wire.Person] | None = None,
    ) -> wire.Member:
        """Invite an organization (owner only) as contributor or observer.

        Example::

            hub.rooms.invite(room.id, motor_supplier_id, role="contributor")
        """
        body = wire.MemberInvite(
            organization_id=_id(organization_id),
            role=wire.RoomRole(role),
            people=people or [],
        )
        path = f"/v1/rooms/{_id(room_id)}/members"
        return wire.Member.model_validate(
            self._requester.request("POST", path, json=body.model_dump(mode="json"))
        )

    def accept(
        self, room_id: uuid.UUID | str, *, people: builtins.list[wire.Person] | None = None
    ) -> wire.Member:
        """Accept this organization's invitation to a room, naming its people.

        Example::

            hub.rooms.accept(room_id, people=[Person(name="Li Wei", email="li@motor.example")])
        """
        body = wire.MemberAccept(people=people or [])
        path = f"/v1/rooms/{_id(room_id)}/accept"
        return wire.Member.model_validate(
            self._requester.request("POST", path, json=body.model_dump(mode="json"))
        )

    def remove(self, room_id: uuid.UUID | str, organization_id: uuid.UUID | str) -> None:
        """Remove a member organization (owner only); it gets no key to datasets uploaded afterwards.

        Example::

            hub.rooms.remove(room.id, former_supplier_id)
        """
        self._requester.request("DELETE", f"/v1/rooms/{_id(room_id)}/members/{_id(organization_id)}")

    def close(self, room_id: uuid.UUID | str, *, note: str = "") -> wire.Room:
        """Close the room (owner only); with ``delete_after_closing`` the hub shreds ciphertext and keys.

        Example::

            hub.rooms.close(room.id, note="root cause fixed at the motor supplier")
        """
        body = wire.RoomClose(note=note).model_dump(mode="json")
        return wire.Room.model_validate(
            self._requester.request("POST", f"/v1/rooms/{_id(room_id)}/close", json=body)
        )

    def timeline(self, room_id: uuid.UUID | str) -> builtins.list[wire.TimelineEntry]:
        """Everything that happened in the room, oldest first.

        Example::

            for entry in hub.rooms.timeline(room.id):
                print(entry.at, entry.action)
        """
        path = f"/v1/rooms/{_id(room_id)}/timeline"
        return [wire.TimelineEntry.model_validate(item) for item in self._requester.pages(path)]

    def export(self, room_id: uuid.UUID | str, *, format: str = "json") -> Any:
        """The room's signed 8D summary: ``json`` (the signed envelope, parsed) or ``markdown`` (text).

        Example::

            print(hub.rooms.export(room.id, format="markdown"))
        """
        path = f"/v1/rooms/{_id(room_id)}/export"
        response = self._requester.send("GET", path, params={"format": format})
        return response.text if format == "markdown" else response.json()

    # -- annotations and 8D ---------------------------------------------------------------------------------

    def annotate(
        self,
        room_id: uuid.UUID | str,
        body: str,
        *,
        tag: wire.AnnotationTag | str = wire.AnnotationTag.OBSERVATION,
        anchor: wire.Anchor | None = None,
        parent_id: uuid.UUID | str | None = None,
    ) -> wire.Annotation:
        """Add an annotation, optionally anchored to a dataset, rows or a time range, or as a reply.

        Example::

            hub.rooms.annotate(room.id, "Noise starts at 41 °C", tag="hypothesis",
                               anchor=Anchor(dataset_id=dataset.id, row_start=120, row_end=180))
        """
        data = wire.AnnotationCreate(
            body=body,
            tag=wire.AnnotationTag(tag),
            anchor=anchor,
            parent_id=None if parent_id is None else _id(parent_id),
        )
        path = f"/v1/rooms/{_id(room_id)}/annotations"
        return wire.Annotation.model_validate(
            self._requester.request("POST", path, json=data.model_dump(mode="json"))
        )

    def edit_annotation(
        self,
        room_id: uuid.UUID | str,
        annotation_id: uuid.UUID | str,
        *,
        body: str | None = None,
        tag: wire.AnnotationTag | str | None = None,
    ) -> wire.Annotation:
        """Change an annotation's text or tag; the hub keeps the earlier version in its history.

        Example::

            hub.rooms.edit_annotation(room.id, hypothesis.id, tag="verified")
        """
        data = wire.AnnotationEdit(body=body, tag=None if tag is None else wire.AnnotationTag(tag))
        path = f"/v1/rooms/{_id(room_id)}/annotations/{_id(annotation_id)}"
        payload = data.model_dump(mode="json", exclude_none=True)
        return wire.Annotation.model_validate(self._requester.request("PATCH", path, json=payload))

    def annotations(self, room_id: uuid.UUID | str) -> builtins.list[wire.Annotation]:
        """The room's annotations with their histories.

        Example::

            roots = [a for a in hub.rooms.annotations(room.id) if a.tag == "root_cause"]
        """
        items = self._requester.pages(f"/v1/rooms/{_id(room_id)}/annotations")
        return [wire.Annotation.model_validate(item) for item in items]

    def steps(self, room_id: uuid.UUID | str) -> builtins.list[wire.EightDRecordStep]:
        """The room's 8D record, D1 to D8.

        Example::

            done = [s.step for s in hub.rooms.steps(room.id) if s.signed_off_at]
        """
        items = self._requester.request("GET", f"/v1/rooms/{_id(room_id)}/8d")
        return [wire.EightDRecordStep.model_validate(item) for item in items]

    def update_step(
        self,
        room_id: uuid.UUID | str,
        step: wire.EightDStep | str,
        *,
        owner_id: uuid.UUID | str | None = None,
        content: str | None = None,
        evidence: builtins.list[wire.Evidence] | None = None,
    ) -> wire.EightDRecordStep:
        """Write an 8D step: its owner organization (room owner only), content and evidence links.

        Example::

            hub.rooms.update_step(room.id, "D4", content="Bearing preload too low",
                                  evidence=[Evidence(kind="annotation", id=root_cause.id)])
        """
        data = wire.EightDUpdate(
            owner_id=None if owner_id is None else _id(owner_id), content=content, evidence=evidence
        )
        path = f"/v1/rooms/{_id(room_id)}/8d/{wire.EightDStep(step).value}"
        payload = data.model_dump(mode="json", exclude_none=True)
        return wire.EightDRecordStep.model_validate(self._requester.request("PUT", path, json=payload))

    def sign_off(self, room_id: uuid.UUID | str, step: wire.EightDStep | str) -> wire.EightDRecordStep:
        """Sign off an 8D step (its owner organization).

        Example::

            hub.rooms.sign_off(room.id, "D8")
        """
        path = f"/v1/rooms/{_id(room_id)}/8d/{wire.EightDStep(step).value}/sign-off"
        return wire.EightDRecordStep.model_validate(self._requester.request("POST", path))

    def reopen_step(self, room_id: uuid.UUID | str, step: wire.EightDStep | str) -> wire.EightDRecordStep:
        """Reopen a signed-off 8D step; its sign-off is cleared.

        Example::

            hub.rooms.reopen_step(room.id, "D4")
        """
        path = f"/v1/rooms/{_id(room_id)}/8d/{wire.EightDStep(step).value}/reopen"
        return wire.EightDRecordStep.model_validate(self._requester.request("POST", path))


__all__ = ["CONTENT_TIMEOUT", "DatasetUnavailable", "Rooms"]
