"""Why a room request is refused; each name is what the SDK maps back to a typed error."""

from __future__ import annotations

from hub.errors import Conflict, Gone, InvalidInput


class InvalidManifest(InvalidInput):
    """The dataset manifest does not verify, or does not say what the request says."""


class MissingWrappedKey(InvalidInput):
    """A member organization would get no key to the dataset."""


class UnknownRecipientKey(InvalidInput):
    """A wrapped key names a key that is not the member's active X25519 key."""


class ContentMismatch(InvalidInput):
    """The uploaded ciphertext is not the size or the SHA-256 the dataset announced."""


class RoomClosed(Conflict):
    """The room is closed: it only reads and exports now."""


class DatasetShredded(Gone):
    """The dataset's ciphertext and wrapped keys were deleted when its room closed: they are gone for good."""
