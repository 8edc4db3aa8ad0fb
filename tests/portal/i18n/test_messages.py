"""The interface strings are translated for every shipped language: running ``makemessages`` over the code
and templates leaves no fuzzy and no missing entry in any language's .po file, and the compiled .mo files
are up to date with them."""

import os
import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

import pytest

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
SHIPPED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

pytestmark = pytest.mark.skipif(shutil.which("xgettext") is None or shutil.which("msgcat") is None,
                                reason="GNU gettext is not installed")


def entries(po_file: Path) -> list[dict]:
    """The entries of a .po file (one line per string, via msgcat), without the header."""
    text = subprocess.run(["msgcat", "--no-wrap", str(po_file)], check=True, capture_output=True,
                          text=True).stdout
    result = []
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        if not any(line.startswith("msgid ") for line in lines) or 'msgid ""' in lines:
            continue
        result.append({
            "msgid": next(line for line in lines if line.startswith("msgid ")),
            "fuzzy": any(line.startswith("#,") and "fuzzy" in line for line in lines),
            "obsolete": all(line.startswith("#~") for line in lines if not line.startswith("#,")),
            "msgstrs": [re.sub(r'^msgstr(\[\d+\])? ', "", line) for line in lines if line.startswith("msgstr")],
        })
    return result


@pytest.fixture
def fresh_catalogues(tmp_path, settings):
    """Run makemessages, as `make messages` does, over a copy of the sources and of locale/ (the real files stay
    untouched: makemessages also writes to any ``locale`` directory of the directory it runs in)."""
    project = tmp_path / "project"
    for name in ("portal", "newsletter", "templates", "locale"):
        shutil.copytree(Path(settings.BASE_DIR) / name, project / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    copy = project / "locale"
    settings.LOCALE_PATHS = [copy]
    cwd = os.getcwd()
    os.chdir(project)
    try:
        call_command("makemessages", locale=SHIPPED, no_obsolete=True, verbosity=0,
                     ignore_patterns=["node_modules", "var", "tests", "bench", "docs"])
    finally:
        os.chdir(cwd)
    return copy


def test_every_shipped_language_has_a_catalogue():
    assert SHIPPED == ["fr", "de", "es", "nl", "it", "pl"]
    for code in SHIPPED:
        assert (LOCALE_DIR / code / "LC_MESSAGES" / "django.po").exists(), code
        assert (LOCALE_DIR / code / "LC_MESSAGES" / "django.mo").exists(), f"{code}: run `make messages`"


@pytest.mark.parametrize("code", SHIPPED)
def test_makemessages_leaves_no_fuzzy_or_missing_entries(fresh_catalogues, code):
    found = entries(fresh_catalogues / code / "LC_MESSAGES" / "django.po")
    assert len(found) > 50  # the interface strings were collected
    fuzzy = [entry["msgid"] for entry in found if entry["fuzzy"]]
    missing = [entry["msgid"] for entry in found if any(value == '""' for value in entry["msgstrs"])]
    assert not fuzzy, f"{code}: fuzzy entries {fuzzy}"
    assert not missing, f"{code}: untranslated entries {missing}"


@pytest.mark.parametrize("code", SHIPPED)
def test_compiled_catalogue_matches_the_po_file(tmp_path, code):
    po_file = LOCALE_DIR / code / "LC_MESSAGES" / "django.po"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po_file)], check=True)
    assert fresh.read_bytes() == (po_file.with_suffix(".mo")).read_bytes(), f"{code}: run `make messages`"
