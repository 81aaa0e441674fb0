"""Deprecated: moved to :mod:`supplier_sdk.outbox.entries`; this alias goes in the next release.

Example::

    from supplier_sdk.outbox.entries import *   # instead of supplier_sdk.outbox_entries
"""

import warnings

from supplier_sdk.deprecation import SdkDeprecationWarning
from supplier_sdk.outbox.entries import *  # noqa: F403
from supplier_sdk.outbox.entries import __all__  # noqa: F401

warnings.warn(
    "supplier_sdk.outbox_entries is deprecated and will be removed in the next release; use supplier_sdk.outbox.entries",
    SdkDeprecationWarning,
    stacklevel=2,
)
