"""Interface languages: Babel message catalogs read once at start, the language of each request, and
dates and numbers written the way that language writes them.

Catalogs are the ``.po`` files themselves (``locales/<lang>/LC_MESSAGES/*.po``), read with Babel
at start, so there is no compile step to forget. Adding a language is adding a catalog: the list of
languages is the list of folders. Arabic is right-to-left; the layout flips on ``dir="rtl"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT = "en"
COOKIE = "legato_lang"
_ACCEPT_ITEM = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]{1,5}))?\s*$")


@cache
def catalogs() -> dict[str, dict[str, str]]:
    """Every language with a catalog, msgid → translation (untranslated and fuzzy entries left out, so
    they fall back to English rather than to an empty string)."""
    out: dict[str, dict[str, str]] = {DEFAULT: {}}
    # Every ``*.po`` of a language is read and merged (``messages.po``, ``studio.po``…), so each part of
    # the interface keeps its own catalog file.
    for po in sorted(LOCALES_DIR.glob("*/LC_MESSAGES/*.po")):
        lang = po.parent.parent.name
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        out.setdefault(lang, {}).update({m.id: m.string for m in catalog if m.id and isinstance(m.id, str)
                                         and m.string and not m.fuzzy})
    return out


def languages() -> list[tuple[str, str]]:
    """(code, the language's own name) for the language menu."""
    return [(code, Locale.parse(code).get_display_name(code) or code) for code in sorted(catalogs())]


def is_rtl(lang: str) -> bool:
    """Whether a language tag is written right to left; an unknown tag (a story may carry any
    well-formed one) is taken as left to right."""
    try:
        return Locale.parse(lang.replace("-", "_")).character_order == "right-to-left"
    except (ValueError, TypeError, LookupError, UnknownLocaleError):
        return False


def supported(lang: str | None) -> str | None:
    """The catalog for a tag like ``fr-CA`` or ``AR``: exact match first, then the primary subtag."""
    if not lang or len(lang) > 35:
        return None
    lang = lang.strip().lower().replace("_", "-")
    known = catalogs()
    if lang in known:
        return lang
    primary = lang.split("-", 1)[0]
    return primary if primary in known else None


def from_accept_language(header: str | None) -> str | None:
    """The best catalog for an ``Accept-Language`` header (RFC 9110 quality values), or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for i, item in enumerate(header[:500].split(",")[:20]):
        m = _ACCEPT_ITEM.match(item)
        if not m:
            continue
        try:
            q = float(m.group(2)) if m.group(2) else 1.0
        except ValueError:
            continue
        if q > 0:
            ranked.append((-q, i, m.group(1)))
    for _q, _i, tag in sorted(ranked):
        found = supported(tag)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Translator:
    """What a template needs of a language: ``_()`` and the formatters, bound to one language."""

    lang: str

    @property
    def rtl(self) -> bool:
        return is_rtl(self.lang)

    def gettext(self, message: str, **values: object) -> str:
        """``_("Hello %(name)s", name=x)``: the translation, then the values put in (they are escaped by
        the template like any other value, since the result is a plain ``str``)."""
        text = catalogs().get(self.lang, {}).get(message, message)
        if values:
            try:
                return text % values
            except (KeyError, ValueError, TypeError):
                return message % values  # a broken translation must not break the page
        return text

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, format="medium", locale=self.lang)
        return format_date(value, format="medium", locale=self.lang)

    def number(self, value: float | int | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.lang)

    def language_name(self, code: str | None) -> str:
        """A story's language tag as a name in the interface's language (``sw`` → "Kiswahili" / "swahili")."""
        if not code:
            return ""
        try:
            return Locale.parse(code.replace("-", "_")).get_display_name(self.lang) or code
        except (ValueError, TypeError, LookupError, UnknownLocaleError):
            return code

    def functions(self) -> dict[str, Callable[..., str]]:
        return {"_": self.gettext, "format_date": self.date, "format_number": self.number,
                "language_name": self.language_name}
