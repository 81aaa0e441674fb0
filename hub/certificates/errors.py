"""Why a certificate is refused: each check of the credential has its name in the error's detail and ``loc``."""

from __future__ import annotations

from hub.errors import Conflict, InvalidInput


class InvalidCredential(InvalidInput):
    """The credential is malformed, or its ``eddsa-jcs-2022`` proof fails a check (``proof``, ``cryptosuite``,
    ``proofPurpose``, ``verificationMethod``, ``@context``, ``proofValue``, ``signature``, ``issuer``), or it is not
    signed by an active signing key of the issuing certifier, or it names no supplier organization."""

    def __init__(self, detail: str, *, check: str) -> None:
        super().__init__(f"credential check '{check}' failed: {detail}", loc=f"body.credential.{check}")
        self.check = check


class DuplicateCertificate(Conflict):
    """The certifier issued a certificate with this number (or this credential id) before."""


class CertificateStatusConflict(Conflict):
    """The status change does not apply: a withdrawn certificate stays withdrawn, only a suspended one is
    reinstated, and an expired one is not suspended."""
