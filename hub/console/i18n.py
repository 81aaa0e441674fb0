"""The console's languages: English, German and Simplified Chinese, from gettext catalogues beside the templates
(``hub/console/locale/<lang>/LC_MESSAGES/messages.po``, compiled to ``.mo`` with Babel: see the README).

A page is rendered in the signed-in person's locale; the sign-in page, before anyone is known, in English.
What the services say (a rule's reason, an error's detail) stays in the words it was written in."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

LOCALES = ("en", "de", "zh")
DIRECTORY = Path(__file__).parent / "locale"
_current: ContextVar[str] = ContextVar("console_locale", default="en")


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> gettext.NullTranslations:
    return gettext.translation("messages", localedir=DIRECTORY, languages=[locale], fallback=True)


def translate(message: str) -> str:
    return catalogue(_current.get()).gettext(message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    return catalogue(_current.get()).ngettext(singular, plural, n)


@contextmanager
def speaking(locale: str | None) -> Iterator[None]:
    token = _current.set(locale if locale in LOCALES else "en")
    try:
        yield
    finally:
        _current.reset(token)
