"""Text normalisation shared by indexing and querying.

Both the knowledge base's phrasings and users' messages go through the same
steps, so what matters is that the mapping is consistent, not linguistically
perfect: lower-case, tokens of letters and digits, Snowball stems (English then
Swedish, so a word in either language lands on one stem), and diacritics
folded (å/ä → a, ö → o) because chat users often leave them out.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_SV = snowballstemmer.stemmer("swedish")
_EN = snowballstemmer.stemmer("english")

# Function words that carry no topic. Kept short on purpose: words like "får"
# (may), "måste" (must) and "vem" (who) are left in because they separate
# questions ("får vi prata med leverantörer" vs "vem ska vi prata med").
STOPWORDS = frozenset(
    """
    och i att det som en ett på är av för med till den har de inte om var jag vi ni du han hon
    man sig så eller men från vid nu dem detta denna dessa där här hur vad eller också bara
    mitt min mina vår vårt våra er ert era deras dess sin sitt sina någon något några
    kan ska skall bli blir blev varit vara finns hej tack snälla undrar fråga frågor gör göra gjort
    vilken vilket vilka
    the a an and or of to in on for with is are was were be been being it this that these those
    i we you he she they my our your their its do does did can could should would will shall
    what how about hi hello please thanks question there here me us them any some just
    re ve ll s t d m
    """.split()
)


def _fold_slow(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Folding is per character (a decomposition never spans characters, and the marks it yields are dropped),
# so each character's folded form is worked out once and kept: the same result as the decomposition above,
# at a fraction of the cost (folding is on the path of every word). Bounded, so odd input cannot grow it.
_FOLDED: dict[int, str] = {}
_FOLDED_MAX = 20_000


def fold(text: str) -> str:
    """Drop diacritics: 'Läkemedelsverket' → 'Lakemedelsverket'."""
    if text.isascii():
        return text
    for ch in set(text):
        code = ord(ch)
        if code > 127:
            folded = _FOLDED.get(code)
            if folded is None:
                if len(_FOLDED) >= _FOLDED_MAX:
                    return _fold_slow(text)
                folded = _FOLDED[code] = _fold_slow(ch)
            if folded != ch:
                text = text.replace(ch, folded)  # few distinct letters per text: faster than translate
    return text


def words(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits), diacritics kept."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One stem for a word in either language, diacritics folded."""
    if word.isdigit() or len(word) <= 3:
        return fold(word)
    return fold(_SV.stemWord(_EN.stemWord(word)))


def plain(text: str) -> str:
    """Lower-case, folded, punctuation-free text, for whole-string fuzzy comparison."""
    return " ".join(fold(w) for w in words(text))
