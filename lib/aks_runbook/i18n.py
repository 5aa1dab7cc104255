"""The package's messages in the reader's language: English (the source) or Japanese.

Everything the package says to a person goes through `gettext` (`_`): the check catalog's
titles, remediation and how each check differs from the controls it cites, the common evidence
sentences, the plan rules' messages, CLI messages and table headers, widget labels and the run
report. Identifiers never change: check ids, az and kubectl commands, Kubernetes field names and
control ids read the same in every language (the Japanese text quotes them as they are).

The language: `set_language()` when something chose it (the environment's `language`
parameter in a notebook session, `--lang` on the command line), else AKS_RUNBOOK_LANG, else
the locale (LC_ALL, LC_MESSAGES, LANG: the first one set) when it starts with "ja", else
English.

The Japanese catalog is `locale/ja/LC_MESSAGES/aks_runbook.po` at the project root, read with
babel and compiled in memory (no .mo file to keep in step); fuzzy entries are not used.
`python -m aks_runbook.cli.messages update` rewrites it from the messages the package has
(keeping translations, marking changed ones fuzzy); `... check` lists what is missing or stale.
(That command lives in cli: gathering the check catalog's messages imports the checks, and this
module imports nothing of the package but `paths`.)
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
import os
import re
from pathlib import Path

from aks_runbook import paths

LANGUAGES = ("en", "ja")
DOMAIN = "aks_runbook"
LANG_ENV = "AKS_RUNBOOK_LANG"
_chosen: str | None = None
_translations: dict[str, _gettext.NullTranslations] = {}


def checked(lang: str) -> str:
    """The language if it is one of LANGUAGES; a ValueError naming it and them otherwise."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not supported: choose one of "
                         f"{', '.join(LANGUAGES)}")
    return lang


def set_language(lang: str | None) -> None:
    """Speak `lang` from now on (None: back to the environment's choice)."""
    global _chosen
    _chosen = None if lang is None else checked(lang)


@contextlib.contextmanager
def using(lang: str | None):
    """Speak `lang` inside the block (None: leave the choice as it is), then as before."""
    global _chosen
    before = _chosen
    if lang is not None:
        set_language(lang)
    try:
        yield
    finally:
        _chosen = before


def from_environment() -> str:
    """AKS_RUNBOOK_LANG, else the locale's language when it is Japanese, else English."""
    if os.environ.get(LANG_ENV):
        return checked(os.environ[LANG_ENV])
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if value := os.environ.get(name):
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def language() -> str:
    return _chosen or from_environment()


def catalog_path(lang: str) -> Path:
    return paths.project_root() / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def translations(lang: str | None = None) -> _gettext.NullTranslations:
    """The compiled catalog for `lang` (the current language by default), cached."""
    lang = checked(lang or language())
    if lang not in _translations:
        _translations[lang] = _compile(lang)
    return _translations[lang]


def _compile(lang: str) -> _gettext.NullTranslations:
    path = catalog_path(lang)
    if lang == "en" or not path.exists():
        return _gettext.NullTranslations()
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str, lang: str | None = None) -> str:
    """`message` in `lang` (the current language by default); itself when not translated."""
    if not message:
        return message
    return translations(lang).gettext(message)


_ = gettext


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (it is translated later)."""
    return message


# ---- templates: a message with {fields} matched against text built by an f-string --------------

_FIELD = re.compile(r"\{(\w+)\}")
_patterns: dict[str, re.Pattern] = {}


def _pattern(template: str) -> re.Pattern:
    if template not in _patterns:
        parts, last = [], 0
        for match in _FIELD.finditer(template):
            parts.append(re.escape(template[last:match.start()]))
            name = match.group(1)  # a name never spans sentences; a text field may
            parts.append(f"(?P<{name}>.+?)" if name.startswith("text")
                         else f"(?P<{name}>(?:(?!; ).)+?)")
            last = match.end()
        parts.append(re.escape(template[last:]))
        _patterns[template] = re.compile("".join(parts), re.DOTALL)
    return _patterns[template]


def by_template(text: str, templates: tuple[str, ...] | list[str],
                lang: str | None = None) -> str:
    """`text` translated: whole, when the catalog has it; else by the first template (English,
    with {fields}) that matches all of it: fields named text* are sentences, translated in
    turn; the others are carried over as they were (names, ranges, ids) and never hold "; ".
    Several sentences joined by "; " are translated one by one. Text nothing matches stays as
    it is."""
    if not text or checked(lang or language()) == "en":
        return text
    whole = gettext(text, lang)
    if whole != text:
        return whole
    for template in templates:
        match = _pattern(template).fullmatch(text)
        if match:
            fields = {name: by_template(value, templates, lang) if name.startswith("text")
                      else value for name, value in match.groupdict().items()}
            return gettext(template, lang).format(**fields)
    if "; " in text:
        parts = text.split("; ")
        done = [by_template(part, templates, lang) for part in parts]
        if done != parts:
            return "; ".join(done)
    return text


# ---- the template of every message, and the catalog kept in line with it ----------------------

PACKAGE = Path(__file__).resolve().parent
KEYWORDS = {"_": None, "N_": None, "gettext": None}


def marked_messages() -> list[tuple[str, str, int]]:
    """(message, file, line) for every string marked with _(), N_() or gettext() in the
    package's source."""
    from babel.messages.extract import extract_from_file

    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(paths.project_root()).as_posix()
        for line, message, _comments, _context in extract_from_file(
                "python", str(path), keywords=KEYWORDS, strip_comment_tags=True):
            if isinstance(message, str) and message:
                found.append((message, relative, line))
    return found


def template(extra: list[tuple[str, str]] | tuple = ()):
    """A babel Catalog with every message the package needs translated: those marked in the
    source, and `extra` ones, (message, where) pairs (the check catalog's plain strings, which
    the caller gathers: this module imports nothing of the package but `paths`)."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(project="aks-runbook", version="", domain=DOMAIN, fuzzy=False)
    for message, where, line in [(m, w, 0) for m, w in extra] + marked_messages():
        location = (where, line) if line else (where, None)
        if message in catalog:
            catalog[message].locations.append(location)
        else:
            catalog.add(message, locations=[location],
                        flags=("python-brace-format",) if _FIELD.search(message) else ())
    return catalog


def _read(path: Path, lang: str):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN)
    with path.open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def update(lang: str = "ja", extra: list[tuple[str, str]] | tuple = ()) -> Path:
    """Rewrite the language's catalog from template(extra): new messages empty (or, when an
    old message is close, its translation marked fuzzy with the old English beside it, as
    translators' tools show a stale entry), gone ones dropped, translations kept."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    path = catalog_path(checked(lang))
    old = _read(path, lang)
    merged = Catalog(locale=lang, project="aks-runbook", version="", domain=DOMAIN, fuzzy=False,
                     creation_date=old.creation_date,
                     header_comment="# aks-runbook's messages (checks, CLI, widgets, report), "
                                    f"in {lang}.")
    for message in template(extra):
        if not message.id:
            continue
        string, flags, previous = "", set(message.flags), []
        before = old.get(message.id)
        if before is not None and before.string:
            string = before.string
            if before.fuzzy:
                flags.add("fuzzy")
                previous = before.previous_id or []
        elif close := _closest(message.id, old):
            string, previous = close.string, [close.id]
            flags.add("fuzzy")
        merged.add(message.id, string, locations=message.locations, flags=flags,
                   previous_id=previous)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, merged, width=100, include_previous=True, sort_output=False)
    _translations.pop(lang, None)
    return path


def _closest(message: str, old):
    """The old entry whose English is closest to this new message (a changed message)."""
    import difflib

    candidates = {m.id: m for m in old if m.id and m.string}
    close = difflib.get_close_matches(message, list(candidates), n=1, cutoff=0.8)
    return candidates[close[0]] if close else None


def problems(lang: str = "ja", extra: list[tuple[str, str]] | tuple = ()) -> list[str]:
    """Every message of template(extra) that the catalog lacks, or has only fuzzy."""
    catalog = _read(catalog_path(checked(lang)), lang)
    found = []
    for message in template(extra):
        if not message.id:
            continue
        entry = catalog.get(message.id)
        if entry is None or not entry.string:
            found.append(f"missing: {message.id!r}")
        elif entry.fuzzy:
            found.append(f"fuzzy (stale): {message.id!r}")
    return found
