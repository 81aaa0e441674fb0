"""Room datasets moved through the hub: encrypted, wrapped, signed and uploaded; downloaded, checked, decrypted.

:class:`DatasetTransfer` is the dataset half of :class:`~supplier_sdk.rooms.client.Rooms` (``client.rooms``).
Uploads encrypt the file (:mod:`supplier_sdk.rooms.crypto`) into a temporary ciphertext file, wrap the data key to
every current member organization's X25519 key (:mod:`supplier_sdk.rooms.keywrap`), sign the manifest with the
client's Ed25519 key (:mod:`supplier_sdk.rooms.manifest`), announce the dataset and stream the ciphertext.
Downloads stream the ciphertext through the decryptor into a temporary file beside the destination, check the
uploader's signature, the SHA-256 and every chunk's tag, and only then move the file into place. Memory stays at
a few chunks whatever the file size.

Example::

    with Client(base_url=url, client_id=cid, private_key=sig_key, encryption_key=enc_key) as hub:
        dataset = hub.rooms.upload(room_id, "bench-run-17.csv", media_type="text/csv")
        hub.rooms.download(room_id, dataset.id, "bench-run-17.copy.csv")
"""

from __future__ import annotations

import builtins
import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import httpx
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from protocol.encoding import b64url_decode, b64url_encode
from protocol.models import rooms as wire
from protocol.models.common import KeyStatus, KeyUse
from protocol.models.orgs import OrgKey, OrgKeyRegister
from supplier_sdk.errors import ConfigError, ConflictError, HubError, HubUnreachable, QualinkError
from supplier_sdk.organizations import own_organization
from supplier_sdk.rooms.crypto import (
    CHUNK_SIZE,
    HEADER_SIZE,
    DatasetIntegrityError,
    StreamDecryptor,
    encrypt_stream,
    generate_data_key,
)
from supplier_sdk.rooms.keywrap import WrappedDataKey, encryption_key_id, unwrap_data_key, wrap_data_key
from supplier_sdk.rooms.manifest import build_manifest, sign_manifest, verify_manifest

if TYPE_CHECKING:
    from supplier_sdk.requester import Requester
    from supplier_sdk.signer import Signer

CONTENT_TIMEOUT = 300.0
"""Seconds to wait for each read and write of a dataset's content (large bodies take longer than JSON).

Example:
    >>> CONTENT_TIMEOUT >= 60
    True
"""

_PIECE = 1 << 20


class DatasetUnavailable(QualinkError):
    """The dataset has no content to download: shredded when its room closed, or not uploaded yet.

    Example:
        >>> str(DatasetUnavailable("bench-run-17.csv was shredded when the room closed"))
        'bench-run-17.csv was shredded when the room closed'
    """


def _id(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


Progress = Callable[[int, int], None]
"""Told ``(bytes done, bytes in all)`` of the ciphertext as a transfer moves (from 0 again on a retry).

Example: ``hub.rooms.upload(room_id, "log.csv", progress=lambda done, total: print(done, "/", total))``
"""


def _file_pieces(path: Path, progress: Progress | None = None, total: int = 0) -> Iterator[bytes]:
    done = 0
    with path.open("rb") as handle:
        while piece := handle.read(_PIECE):
            yield piece
            done += len(piece)
            if progress is not None:
                progress(done, total)


class DatasetTransfer:
    """Datasets of rooms: list, upload, download, rewrap; the organization's X25519 key lives here.

    Args:
        requester: the connection to the hub.
        signer: the organization's Ed25519 key, which signs dataset manifests (needed to upload).
        encryption_key: the organization's X25519 private key; needed to upload (the uploader also gets a
            wrapped key), download and rewrap, not for the rest.

    Example::

        transfer = DatasetTransfer(requester, signer=signer, encryption_key=load_encryption_key(key_text))
        transfer.download(room_id, dataset_id, "log.csv")
    """

    def __init__(
        self,
        requester: Requester,
        *,
        signer: Signer | None = None,
        encryption_key: X25519PrivateKey | None = None,
    ) -> None:
        self._requester = requester
        self._signer = signer
        self._encryption_key = encryption_key

    # -- keys ---------------------------------------------------------------------------------------------------

    def _require_encryption_key(self) -> X25519PrivateKey:
        if self._encryption_key is None:
            raise ConfigError("no X25519 encryption key: set QUALINK_ENC_KEY_FILE or pass --enc-key-file")
        return self._encryption_key

    def _require_signer(self) -> Signer:
        if self._signer is None:
            raise ConfigError("no Ed25519 signing key to sign the dataset manifest with")
        return self._signer

    def register_encryption_key(self) -> str:
        """Register the public half of the encryption key as the organization's X25519 (``enc``) key; its id.

        Registering the key that is already active is not an error. Needs ``org:admin``.

        Example::

            key_id = hub.rooms.register_encryption_key()
        """
        raw = self._require_encryption_key().public_key().public_bytes_raw()
        body = OrgKeyRegister(use=KeyUse.ENCRYPTION, public_key=b64url_encode(raw))
        try:
            return OrgKey.model_validate(
                self._requester.request("POST", "/v1/keys", json=body.model_dump(mode="json"))
            ).key_id
        except ConflictError:
            wanted = encryption_key_id(raw)
            org = own_organization(self._requester)
            for item in self._requester.pages(f"/v1/organizations/{org.id}/keys"):
                key = OrgKey.model_validate(item)
                if key.key_id == wanted and key.use is KeyUse.ENCRYPTION and key.status is KeyStatus.ACTIVE:
                    return key.key_id
            raise

    def members(self, room_id: uuid.UUID | str) -> builtins.list[wire.Member]:
        """The room's current member organizations with their keys.

        Example::

            keys = {m.organization_id: m.encryption_key for m in hub.rooms.members(room_id)}
        """
        return [
            wire.Member.model_validate(item)
            for item in self._requester.pages(f"/v1/rooms/{_id(room_id)}/members")
        ]

    # -- datasets -------------------------------------------------------------------------------------------

    def datasets(self, room_id: uuid.UUID | str) -> builtins.list[wire.Dataset]:
        """The room's datasets (metadata and this organization's wrapped key).

        Example::

            for dataset in hub.rooms.datasets(room.id):
                print(dataset.name, dataset.plaintext_size, dataset.missing_keys)
        """
        items = self._requester.pages(f"/v1/rooms/{_id(room_id)}/datasets")
        return [wire.Dataset.model_validate(item) for item in items]

    def dataset(self, room_id: uuid.UUID | str, dataset_id: uuid.UUID | str) -> wire.Dataset:
        """One dataset's metadata with this organization's wrapped key.

        Example::

            dataset = hub.rooms.dataset(room.id, dataset_id)
        """
        path = f"/v1/rooms/{_id(room_id)}/datasets/{_id(dataset_id)}"
        return wire.Dataset.model_validate(self._requester.request("GET", path))

    def upload(
        self,
        room_id: uuid.UUID | str,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        media_type: str = "application/octet-stream",
        chunk_size: int = CHUNK_SIZE,
        dataset_id: uuid.UUID | None = None,
        progress: Progress | None = None,
    ) -> wire.Dataset:
        """Encrypt a file, wrap its key to every current member organization, sign, announce and upload it.

        Args:
            room_id: the room.
            path: the plaintext file; read twice at most in pieces, never whole.
            name: the dataset's name (visible to the hub); default the file name.
            media_type: e.g. ``text/csv``.
            chunk_size: plaintext bytes per encrypted chunk.
            dataset_id: the id to use (default a new random one); bound into every chunk.
            progress: told the ciphertext bytes sent so far and in all (:data:`Progress`).

        Raises:
            ConfigError: no encryption key.
            HubError: the hub refused (``MissingWrappedKey`` when an accepted member has no X25519 key, ...).

        Example::

            dataset = hub.rooms.upload(room.id, "bench-run-17.csv", media_type="text/csv")
        """
        room = _id(room_id)
        own_key = self._require_encryption_key()
        source = Path(path)
        dataset = dataset_id or uuid.uuid4()
        members = self.members(room)
        data_key = generate_data_key()
        wrapped: builtins.list[wire.WrappedKey] = []
        for member in members:
            if member.removed_at is not None or member.encryption_key is None:
                continue
            key = wrap_data_key(
                data_key,
                recipient_public_key=b64url_decode(member.encryption_key.public_key),
                recipient_key_id=member.encryption_key.key_id,
                room_id=room,
                dataset_id=dataset,
            )
            wrapped.append(_wire_key(member.organization_id, key))
        own_id = encryption_key_id(own_key)
        if not any(key.recipient_key_id == own_id for key in wrapped):
            raise ConfigError(
                f"the encryption key {own_id} is not this organization's registered X25519 key in the room: "
                "register it (register_encryption_key) first"
            )
        fd, temp_name = tempfile.mkstemp(prefix="qualink-", suffix=".qxrd")
        sealed = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as sink, source.open("rb") as plain:
                stats = encrypt_stream(
                    plain, sink, key=data_key, room_id=room, dataset_id=dataset, chunk_size=chunk_size
                )
            manifest = build_manifest(
                room_id=room,
                dataset_id=dataset,
                name=name or source.name,
                media_type=media_type,
                plaintext_size=stats.plaintext_size,
                chunk_size=chunk_size,
                ciphertext_size=stats.ciphertext_size,
                ciphertext_sha256=stats.ciphertext_sha256,
                recipient_key_ids=[key.recipient_key_id for key in wrapped],
            )
            signer = self._require_signer()
            envelope = sign_manifest(manifest, private_key=signer.private_key, key_id=signer.key_id)
            body = wire.DatasetCreate(
                id=dataset,
                name=manifest.name,
                media_type=media_type,
                plaintext_size=stats.plaintext_size,
                chunk_size=chunk_size,
                ciphertext_size=stats.ciphertext_size,
                ciphertext_sha256=stats.ciphertext_sha256,
                manifest_signature=envelope,
                wrapped_keys=wrapped,
            )
            self._requester.request(
                "POST",
                f"/v1/rooms/{room}/datasets",
                json=body.model_dump(mode="json"),
                idempotency_key=str(dataset),
            )
            try:
                response = self._requester.send(
                    "PUT",
                    f"/v1/rooms/{room}/datasets/{dataset}/content",
                    content=lambda: _file_pieces(sealed, progress, stats.ciphertext_size),
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(stats.ciphertext_size),
                    },
                    timeout=CONTENT_TIMEOUT,
                )
            except ConflictError:
                # A retried PUT whose first attempt was stored but unanswered: the hub has this very content.
                stored = self.dataset(room, dataset)
                if (
                    stored.status is wire.DatasetStatus.AVAILABLE
                    and stored.ciphertext_sha256 == stats.ciphertext_sha256
                ):
                    return stored
                raise
            return wire.Dataset.model_validate(response.json())
        finally:
            sealed.unlink(missing_ok=True)

    def _signing_key(self, room: uuid.UUID, dataset: wire.Dataset) -> bytes:
        wanted = dataset.manifest_signature.key_id
        for member in self.members(room):
            for key in member.signing_keys:
                if member.organization_id == dataset.uploaded_by and key.key_id == wanted:
                    return b64url_decode(key.public_key)
        # The uploader may have left the room: its keys are still listed to partners.
        try:
            listed = list(self._requester.pages(f"/v1/organizations/{dataset.uploaded_by}/keys"))
        except HubError:
            listed = []
        for item in listed:
            key_row = OrgKey.model_validate(item)
            if key_row.key_id == wanted and key_row.use is KeyUse.SIGNING:
                return b64url_decode(key_row.public_key)
        raise DatasetIntegrityError(f"the uploader's signing key {wanted} is not known to this organization")

    def data_key(self, room_id: uuid.UUID | str, dataset: wire.Dataset) -> bytes:
        """Unwrap this organization's copy of a dataset's data key (after checking the signed manifest).

        Raises:
            DatasetIntegrityError: no wrapped key for this organization, or one that does not open.

        Example::

            key = hub.rooms.data_key(room.id, hub.rooms.dataset(room.id, dataset_id))
        """
        room = _id(room_id)
        own_key = self._require_encryption_key()
        if dataset.wrapped_key is None:
            raise DatasetIntegrityError(
                "the hub holds no data key wrapped for this organization: ask a member to run `room rewrap`"
            )
        if dataset.wrapped_key.recipient_key_id != encryption_key_id(own_key):
            raise DatasetIntegrityError(
                f"the data key is wrapped to key {dataset.wrapped_key.recipient_key_id}, not to the one configured"
            )
        verify_manifest(
            dataset.manifest_signature,
            self._signing_key(room, dataset),
            room_id=room,
            dataset_id=dataset.id,
            expected={
                name: getattr(dataset, name)
                for name in ("name", "media_type", "plaintext_size", "chunk_size", "ciphertext_size")
            }
            | {"ciphertext_sha256": dataset.ciphertext_sha256.lower()},
        )
        wrapped = WrappedDataKey.from_wire(
            recipient_key_id=dataset.wrapped_key.recipient_key_id,
            ephemeral_public_key=dataset.wrapped_key.ephemeral_public_key,
            wrapped_key=dataset.wrapped_key.wrapped_key,
            algorithm=dataset.wrapped_key.algorithm,
        )
        return unwrap_data_key(wrapped, private_key=own_key, room_id=room, dataset_id=dataset.id)

    def download(
        self,
        room_id: uuid.UUID | str,
        dataset_id: uuid.UUID | str,
        path: str | os.PathLike[str],
        *,
        progress: Progress | None = None,
    ) -> wire.Dataset:
        """Download, check and decrypt a dataset into ``path``; nothing is written there unless all checks pass.

        The uploader's signature over the manifest, the ciphertext's SHA-256 and size, and every chunk's tag are
        checked; the plaintext goes to a temporary file beside ``path`` that replaces it only at the end.
        ``progress`` is told the ciphertext bytes received so far and in all (:data:`Progress`).

        Raises:
            DatasetIntegrityError: a check failed (the temporary file is removed).
            DatasetUnavailable: the dataset was shredded, or its content never uploaded.
            HubError: the hub refused (``NotFound`` for a removed member or another organization).

        Example::

            hub.rooms.download(room.id, dataset.id, "bench-run-17.csv")
        """
        room, dataset_uuid = _id(room_id), _id(dataset_id)
        dataset = self.dataset(room, dataset_uuid)
        if dataset.status is wire.DatasetStatus.SHREDDED:
            raise DatasetUnavailable(f"{dataset.name} was shredded when the room closed")
        if dataset.status is not wire.DatasetStatus.AVAILABLE:
            raise DatasetUnavailable(f"{dataset.name} has no content yet: its upload did not finish")
        key = self.data_key(room, dataset)
        target = Path(path)
        reader = StreamDecryptor(
            key=key, room_id=room, dataset_id=dataset_uuid, expected_chunk_size=dataset.chunk_size
        )
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent or ".")
        partial = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as sink:
                self._receive(room, dataset, reader, sink, progress)
                sink.write(reader.finish())
            stats = reader.stats()
            if stats.ciphertext_size != dataset.ciphertext_size:
                raise DatasetIntegrityError(
                    f"received {stats.ciphertext_size} ciphertext bytes, the manifest says {dataset.ciphertext_size}"
                )
            verify_manifest(
                dataset.manifest_signature,
                self._signing_key(room, dataset),
                room_id=room,
                dataset_id=dataset_uuid,
                ciphertext_sha256=stats.ciphertext_sha256,
            )
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        return dataset

    def _receive(
        self,
        room: uuid.UUID,
        dataset: wire.Dataset,
        reader: StreamDecryptor,
        sink: BinaryIO,
        progress: Progress | None = None,
    ) -> None:
        response = self._requester.send(
            "GET", f"/v1/rooms/{room}/datasets/{dataset.id}/content", stream=True, timeout=CONTENT_TIMEOUT
        )
        done = 0
        try:
            for piece in response.iter_bytes(_PIECE):
                sink.write(reader.feed(piece))
                done += len(piece)
                if progress is not None:
                    progress(done, dataset.ciphertext_size)
        except httpx.TransportError as exc:
            raise HubUnreachable(self._requester.base_url, f"the download broke off: {exc}") from exc
        finally:
            response.close()

    def _check_key_commitment(self, room: uuid.UUID, dataset: wire.Dataset, key: bytes) -> None:
        """Read only the stored ciphertext's header and check that ``key`` is the one it commits to."""
        reader = StreamDecryptor(
            key=key, room_id=room, dataset_id=dataset.id, expected_chunk_size=dataset.chunk_size
        )
        response = self._requester.send(
            "GET", f"/v1/rooms/{room}/datasets/{dataset.id}/content", stream=True, timeout=CONTENT_TIMEOUT
        )
        try:
            received = b""
            for piece in response.iter_bytes(HEADER_SIZE):
                received += piece
                if len(received) >= HEADER_SIZE:
                    reader.feed(received[:HEADER_SIZE])
                    return
        except httpx.TransportError as exc:
            raise HubUnreachable(
                self._requester.base_url, f"reading the dataset header broke off: {exc}"
            ) from exc
        finally:
            response.close()
        raise DatasetIntegrityError("the stored ciphertext is shorter than its header")

    def rewrap(
        self, room_id: uuid.UUID | str, dataset_id: uuid.UUID | str | None = None
    ) -> builtins.list[wire.Dataset]:
        """Wrap the data keys this organization holds for members that joined later (the hub cannot).

        Args:
            room_id: the room.
            dataset_id: one dataset; default every dataset of the room that lists ``missing_keys``.

        Before wrapping, the data key is checked against the key commitment in the stored ciphertext's
        header (only the header is read), so a wrong key held here is never passed on.

        Returns the datasets that got new wrapped keys.

        Example::

            for dataset in hub.rooms.rewrap(room.id):
                print("re-wrapped", dataset.name)
        """
        room = _id(room_id)
        wanted = [self.dataset(room, dataset_id)] if dataset_id is not None else self.datasets(room)
        members = {member.organization_id: member for member in self.members(room)}
        done = []
        for dataset in wanted:
            missing = [
                members[org]
                for org in dataset.missing_keys
                if org in members and members[org].encryption_key is not None
            ]
            if not missing or dataset.status is wire.DatasetStatus.SHREDDED:
                continue
            data_key = self.data_key(room, dataset)
            if dataset.status is wire.DatasetStatus.AVAILABLE:
                self._check_key_commitment(room, dataset, data_key)  # never pass on a key that does not fit
            keys = []
            for member in missing:
                assert member.encryption_key is not None  # filtered above
                wrapped = wrap_data_key(
                    data_key,
                    recipient_public_key=b64url_decode(member.encryption_key.public_key),
                    recipient_key_id=member.encryption_key.key_id,
                    room_id=room,
                    dataset_id=dataset.id,
                )
                keys.append(_wire_key(member.organization_id, wrapped))
            body = wire.WrappedKeysAdd(wrapped_keys=keys).model_dump(mode="json")
            path = f"/v1/rooms/{room}/datasets/{dataset.id}/wrapped-keys"
            done.append(wire.Dataset.model_validate(self._requester.request("POST", path, json=body)))
        return done


def _wire_key(organization_id: uuid.UUID, key: WrappedDataKey) -> wire.WrappedKey:
    return wire.WrappedKey(
        organization_id=organization_id,
        recipient_key_id=key.recipient_key_id,
        ephemeral_public_key=key.ephemeral_public_key_b64,
        wrapped_key=key.wrapped_key_b64,
    )


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 (hex) of a file, read in pieces.

    Example:
        >>> import tempfile
        >>> with tempfile.NamedTemporaryFile() as handle:
        ...     sha256_file(handle.name)[:12]
        'e3b0c44298fc'
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while piece := handle.read(_PIECE):
            digest.update(piece)
    return digest.hexdigest()


__all__ = ["CONTENT_TIMEOUT", "DatasetTransfer", "DatasetUnavailable", "Progress", "sha256_file"]
