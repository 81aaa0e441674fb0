"""The warning the SDK's deprecated names raise: :class:`SdkDeprecationWarning`.

A subclass of :class:`DeprecationWarning`, so that ``-W error::DeprecationWarning`` and ordinary warning filters
still see it, and a class of its own, so that a project can turn exactly these warnings into errors without
touching other libraries' deprecations (this repository's pytest configuration does, to keep new uses out)::

    [tool.pytest.ini_options]
    filterwarnings = ["error::supplier_sdk.deprecation.SdkDeprecationWarning"]

It imports nothing of the SDK, so every module, the requester's layer included, may raise it.

Example::

    import warnings
    from supplier_sdk.deprecation import SdkDeprecationWarning

    warnings.simplefilter("error", SdkDeprecationWarning)   # fail fast on an old name in your own code
"""


class SdkDeprecationWarning(DeprecationWarning):
    """An old name of the SDK was used; the message names the new one. Removed in the next release.

    Example::

        with pytest.warns(SdkDeprecationWarning, match="kpi_reports.submit"):
            hub.submit_report(payload)
    """


__all__ = ["SdkDeprecationWarning"]
