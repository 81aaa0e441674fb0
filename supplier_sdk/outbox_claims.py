"""Deprecated: moved to :mod:`supplier_sdk.outbox.claims`; this alias goes in the next release.

Example::

    from supplier_sdk.outbox.claims import *   # instead of supplier_sdk.outbox_claims
"""

import warnings

from supplier_sdk.deprecation import SdkDeprecationWarning
from supplier_sdk.outbox.claims import *  # noqa: F403
from supplier_sdk.outbox.claims import __all__  # noqa: F401

warnings.warn(
    "supplier_sdk.outbox_claims is deprecated and will be removed in the next release; use supplier_sdk.outbox.claims",
    SdkDeprecationWarning,
    stacklevel=2,
)
