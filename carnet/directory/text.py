"""How search reads text: folding (case, accents), words, and spelling variants.

Pure Python, shared by the indexer (`services`) and the search (`search`) so that
both sides of a comparison are folded the same way.
"""

import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"\w+")
# Letters that Unicode does not decompose into a base letter plus an accent.
_LIGATURES = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th"}
)
# German spells umlauts out when they cannot be typed: München = Muenchen.
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_SPECIAL = set("äöüßœæøłđðþ")


def fold(text: str) -> str:
    """Lower case without accents or ligatures: "Münchner Straße" -> "munchner strasse"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of `text`, in order (letters and digits; the rest separates)."""
    return _WORD.findall(fold(text).replace("_", " "))


def key(text: str) -> str:
    """The folded words of `text` joined by single spaces: a comparable form of a name."""
    return " ".join(words(text))


def variants(text: str) -> list[str]:
    """Spellings of `text`'s words that a text engine would not derive by itself.

    German umlauts spelt out (München -> muenchen) and ligatures resolved
    (cœur -> coeur, Straße -> strasse), so that each engine finds every
    spelling a patient may type.
    """
    found: dict[str, None] = {}
    for raw in _WORD.findall(text.lower()):
        if _SPECIAL.isdisjoint(raw):
            continue
        for spelling in (fold(raw), fold(raw.translate(_GERMAN))):
            found[spelling] = None
    return list(found)


def compose_document(parts: Iterable[str]) -> str:
    """One searchable text from its parts, with the spelling variants appended."""
    text = " · ".join(part.strip() for part in parts if part and part.strip())
    extra = variants(text)
    return f"{text} · {' '.join(extra)}" if extra else text
