"""Every user-facing string has a translation in every language the app offers.

The strings are extracted in-process, the way `make i18n-extract` does it
(babel.cfg, the default gettext keywords plus `_l` and `lazy_gettext`), so a
string added to the code without a catalog entry fails here, not in front of a
user in Shanghai. Fix a failure with `make i18n-update`, translate the new
entries in translations/*/LC_MESSAGES/messages.po, then `make translations`.
"""
import re
from pathlib import Path

import pytest
from babel.core import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from portal.config import ROOT, from_env

# The same keywords as the Makefile's `pybabel extract -k _l -k lazy_gettext`.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
SOURCE_DIRS = ("portal", "templates")
NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?([a-zA-Z])")  # %(name)s, %(n)d, %(x).2f
POSITIONAL = re.compile(r"%(?!\()[-#0 +]*\d*(?:\.\d+)?([a-zA-Z%])")  # %s, %d, %%


def languages():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SECRET_KEY", "unused")  # from_env() would otherwise write instance/secret_key
        return from_env()["LANGUAGES"]


def _only_sources(path):
    relative = Path(path).relative_to(ROOT).parts
    return (not relative or relative[0] in SOURCE_DIRS) and not any(
        part.startswith((".", "_")) for part in relative)


def extract_messages():
    """{(msgid, context): (message, [where it is used])} for every string in portal/ and templates/;
    `message` is a str, or a (singular, plural) tuple for ngettext."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(ROOT / "babel.cfg"))
    messages = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=_only_sources):
        key = (message if isinstance(message, str) else message[0], context)
        messages.setdefault(key, (message, []))[1].append(f"{filename}:{lineno}")
    return messages


def catalog_path(locale):
    """Where Flask-Babel looks for `locale`: Babel adds the likely script, so the
    catalog of zh_CN lives in translations/zh_Hans_CN (gettext never tries zh_CN)."""
    return ROOT / "translations" / str(Locale.parse(locale)) / "LC_MESSAGES" / "messages.po"


def load_catalog(locale):
    path = catalog_path(locale)
    assert path.exists(), (f"no catalog for {locale} at {path.relative_to(ROOT)}: "
                           f"run `make i18n-init LOCALE={Locale.parse(locale)}`")
    with open(path, "rb") as f:
        return read_po(f, locale=locale)


def placeholders(text, python_format=True):
    found = set(NAMED.findall(text))
    if python_format:
        found |= {("", conversion) for conversion in POSITIONAL.findall(text)}
    return found


def catalog_problems(extracted, catalog):
    """What keeps `catalog` from translating every extracted string, one line each."""
    problems = []
    for (msgid, context), (message, where) in sorted(extracted.items(), key=lambda item: item[0][0]):
        entry = catalog.get(msgid, context=context)
        label = f"{msgid!r} ({where[0]})"
        if entry is None:
            problems.append(f"missing: {label}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {label}")
        python_format = entry.python_format or bool(placeholders(msgid))
        if isinstance(message, str):
            if entry.pluralizable:
                problems.append(f"the catalog has plural forms, the code does not: {label}")
            forms = [entry.string] if isinstance(entry.string, str) else list(entry.string)
            allowed = expected = placeholders(msgid, python_format)
        else:
            if not entry.pluralizable or entry.id[1] != message[1]:
                problems.append(f"plural msgid differs from the code's {message[1]!r}: {label}")
            forms = list(entry.string) if isinstance(entry.string, (tuple, list)) else [entry.string]
            if len(forms) != catalog.num_plurals:
                problems.append(f"{len(forms)} plural forms instead of {catalog.num_plurals}: {label}")
            # A form may leave out the count ("one permission") but must not invent a placeholder.
            allowed = placeholders(message[0], python_format) | placeholders(message[1], python_format)
            expected = None
        for form in forms:
            if not form:
                problems.append(f"untranslated: {label}")
                continue
            found = placeholders(form, python_format)
            if (expected is not None and found != expected) or not found <= allowed:
                problems.append(f"placeholders differ: {label} → {form!r}")
    return problems


@pytest.fixture(scope="module")
def extracted():
    return extract_messages()


def test_extraction_finds_the_strings(extracted):
    assert len(extracted) > 100
    assert ("Log in", None) in extracted  # _() in a template
    assert ("Wrong username or password.", None) in extracted  # gettext in Python
    assert ("Audit trail", None) in extracted  # lazy_gettext at module level
    assert extracted[("%(num)d permission", None)][0] == ("%(num)d permission", "%(num)d permissions")  # ngettext
    assert not any(where.startswith(("tests", ".venv")) for _m, places in extracted.values() for where in places)


@pytest.mark.parametrize("locale", languages())
def test_catalog_is_complete(extracted, locale):
    problems = catalog_problems(extracted, load_catalog(locale))
    assert not problems, f"{locale}: {len(problems)} problem(s) in the catalog:\n" + "\n".join(problems)


@pytest.mark.parametrize("locale", languages())
def test_catalog_has_no_fuzzy_entries(locale):
    """A fuzzy entry is a guess that gettext ignores: translate it and drop the flag."""
    fuzzy = [m.id for m in load_catalog(locale) if m.id and m.fuzzy]
    assert not fuzzy, f"{locale}: fuzzy entries: {fuzzy}"


def test_every_catalog_is_for_an_offered_language():
    offered = {str(Locale.parse(code)) for code in languages()}
    present = {path.parent.parent.name for path in (ROOT / "translations").glob("*/LC_MESSAGES/messages.po")}
    assert present == offered, (f"catalogs in translations/: {sorted(present)}, expected {sorted(offered)} "
                                "(Flask-Babel looks zh_CN up as zh_Hans_CN: name each folder by str(Locale.parse(code)))")


def test_plural_forms_match_the_language():
    assert load_catalog("zh_CN").num_plurals == 1
    assert load_catalog("en").num_plurals == 2


def test_the_check_catches_what_it_should():
    """The checker itself, on a small broken catalog."""
    extracted = {
        ("Saved.", None): ("Saved.", ["a.py:1"]),
        ("Hello, %(name)s", None): ("Hello, %(name)s", ["a.py:2"]),
        ("Page %(n)s", None): ("Page %(n)s", ["a.py:3"]),
        ("Gone", None): ("Gone", ["a.py:4"]),
        ("%(num)d item", None): (("%(num)d item", "%(num)d items"), ["a.py:5"]),
        ("Fine %(x)d", None): ("Fine %(x)d", ["a.py:6"]),
    }
    catalog = Catalog(locale="zh_CN")
    catalog.add("Saved.", "")
    catalog.add("Hello, %(name)s", "您好，%(user)s")
    catalog.add("Page %(n)s", "第 %(n)s 页", flags=["fuzzy"])
    catalog.add(("%(num)d item", "%(num)d items"), ("%(num)d 项 %(count)d",))
    catalog.add("Fine %(x)d", "好 %(x)d")
    problems = "\n".join(catalog_problems(extracted, catalog))
    assert "untranslated: 'Saved.'" in problems
    assert "placeholders differ: 'Hello, %(name)s'" in problems
    assert "fuzzy: 'Page %(n)s'" in problems
    assert "missing: 'Gone'" in problems
    assert "placeholders differ: '%(num)d item'" in problems
    assert "Fine" not in problems
