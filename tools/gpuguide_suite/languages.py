"""The suite's languages in one table: the codes live here, everything else comes from babel's CLDR data.

Adding a language: its code in LANGUAGES (and `zh`-style script in LOCALES if the code alone is ambiguous), then
`make update` writes its catalogs, and its glossary and style guide go in notebooks/i18n/<lang>/.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale
from babel.messages.plurals import get_plural

SOURCE_LANG = "en"
#: Every language the notebooks, the instructor guide and the site appear in; the first is the source.
LANGUAGES = ("en", "ar", "ja", "zh")
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANG)
#: Where a bare code would name more than one written language (zh: we write Simplified Chinese).
LOCALES = {"zh": "zh_Hans"}


@lru_cache(maxsize=None)
def locale(lang: str) -> Locale:
    """babel's Locale for a suite language code."""
    return Locale.parse(LOCALES.get(lang, lang))


def english_name(lang: str) -> str:
    """'Arabic', 'Chinese (Simplified)': for catalog headers and messages."""
    return locale(lang).get_display_name("en")


def native_name(lang: str) -> str:
    """'العربية', '日本語', '中文': for language switchers and index columns (the language as its readers name it)."""
    return Locale.parse(lang).get_display_name(lang)


def is_rtl(lang: str) -> bool:
    """Whether the language is written right to left (CLDR's character order)."""
    return locale(lang).text_direction == "rtl"


def plural_forms(lang: str) -> str:
    """The gettext Plural-Forms header value for a new catalog."""
    return get_plural(LOCALES.get(lang, lang)).plural_forms


RTL_LANGUAGES = frozenset(lang for lang in LANGUAGES if is_rtl(lang))
