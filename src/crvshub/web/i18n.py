"""The one translation layer of the staff web UI: English source strings, other languages in
gettext catalogues (`locale/<language>/*.po`, read with Babel; every file of a language is
merged, so a feature may keep its own).

Templates call `_("...")` / `ngettext(...)` (Jinja's i18n extension, new style: `%(name)s`
placeholders are filled and escaped by Jinja); Python code marks strings with `N_` where they
are defined and translates them with `gettext_for(language)` where they are shown. The
language is the user's choice (a cookie set by `POST /language`), else the browser's
`Accept-Language`, else English.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request

LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "crvshub_lang"
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Mark a string for translation where it is defined; translate it where it is shown."""
    return message


@cache
def catalogue(language: str) -> dict[str, str | tuple[str, ...]]:
    """Return the translations of a language: msgid (or singular) -> msgstr (or plural forms)."""
    messages: dict[str, str | tuple[str, ...]] = {}
    folder = LOCALE_DIR / language
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if not message.id or message.fuzzy:
                    continue
                key = message.id if isinstance(message.id, str) else message.id[0]
                text = message.string
                if isinstance(text, str) and text:
                    messages[key] = text
                elif isinstance(text, tuple | list) and all(text):
                    messages[key] = tuple(text)
    return messages


def gettext_for(language: str) -> Callable[[str], str]:
    """Return a function translating source strings into a language (itself when missing)."""
    table = catalogue(language) if language != DEFAULT_LANGUAGE else {}

    def gettext(message: str) -> str:
        found = table.get(message)
        return found if isinstance(found, str) else message

    return gettext


def ngettext_for(language: str) -> Callable[[str, str, int], str]:
    """Return a plural-aware translation function for a language."""
    table = catalogue(language) if language != DEFAULT_LANGUAGE else {}

    def ngettext(singular: str, plural: str, count: int) -> str:
        found = table.get(singular)
        if isinstance(found, tuple) and len(found) >= 2:
            # English and French both have two forms; French uses the singular for 0 and 1.
            index = 0 if (count <= 1 if language == "fr" else count == 1) else 1
            return found[index]
        return singular if count == 1 else plural

    return ngettext


def language_of(request: Request) -> str:
    """Return the language a request's pages are shown in."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";", 1)[0].strip().lower()
        base = tag.split("-", 1)[0]
        if base in LANGUAGES:
            return base
        if tag == "*":
            break
    return DEFAULT_LANGUAGE


def _context_language(context: Context) -> str:
    language = context.get("lang")
    if isinstance(language, str) and language in LANGUAGES:
        return language
    request = context.get("request")
    return language_of(request) if isinstance(request, Request) else DEFAULT_LANGUAGE


@pass_context
def _template_gettext(context: Context, message: str) -> str:
    return gettext_for(_context_language(context))(message)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return ngettext_for(_context_language(context))(singular, plural, count)


def install(env: Any) -> None:
    """Give a Jinja environment `_`, `gettext` and `ngettext` in the request's language."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_template_gettext, _template_ngettext, newstyle=True)
    env.globals["LANGUAGES"] = LANGUAGES


SOURCE_DIR = Path(__file__).parent
EXTRACTION = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def source_messages() -> dict[str, list[str]]:
    """Return every translatable string of the web UI with where it is used (file:line)."""
    from babel.messages.extract import extract_from_dir

    found: dict[str, list[str]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(SOURCE_DIR), method_map=EXTRACTION, keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n",
                                           "newstyle_gettext": "true"}},
    ):
        key = message if isinstance(message, str) else message[0]
        found.setdefault(key, []).append(f"{filename}:{line}")
    return found


def missing_translations(language: str) -> dict[str, list[str]]:
    """Return the source strings a language's catalogue does not translate yet."""
    table = catalogue(language)
    return {m: where for m, where in source_messages().items() if m not in table}
