"""``python -m supplier_sdk.cli``: the same as the ``supplier-sdk`` console script."""

from supplier_sdk.cli import main

main()
