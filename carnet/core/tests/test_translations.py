"""Every user-facing string is translated in fr, de and it, and the .mo files are current."""

import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = ["fr", "de", "it"]


def _entries(po: Path) -> list[tuple[str, str, list[str], bool]]:
    """(msgctxt, msgid, msgstrs, fuzzy) for each entry of a .po file, header excluded."""
    entries = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        lines = [
            line for line in block.splitlines() if line and not line.startswith("#~")
        ]
        if not any(line.startswith("msgid") for line in lines):
            continue
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        fields: dict[str, list[str]] = {}
        key = ""
        for line in lines:
            match = re.match(
                r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', line
            )
            if match:
                key = match.group(1)
                fields.setdefault(key, []).append(match.group(2))
            elif line.startswith('"') and key:
                fields[key].append(line[1:-1])
        msgid = "".join(fields.get("msgid", []))
        if not msgid:
            continue
        strs = ["".join(v) for k, v in fields.items() if k.startswith("msgstr")]
        entries.append(("".join(fields.get("msgctxt", [])), msgid, strs, fuzzy))
    return entries


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    entries = _entries(po)

    assert len(entries) > 100
    untranslated = [msgid for _ctx, msgid, strs, _f in entries if not all(strs)]
    fuzzy = [msgid for _ctx, msgid, _s, is_fuzzy in entries if is_fuzzy]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(language):
    directory = LOCALE / language / "LC_MESSAGES"
    with (directory / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    for context, msgid, strs, _fuzzy in _entries(directory / "django.po"):
        if "\\" in msgid or len(strs) > 1:
            continue  # escapes and plurals: checked by msgfmt itself
        key = f"{context}\x04{msgid}" if context else msgid
        assert compiled._catalog.get(key) == strs[0], msgid
