"""French text analysis for the embedded store: folding, elision, stop words, stemming, snippets.

Elasticsearch analyses text itself (stores/elastic.py declares the same steps as an analyser). The
database store indexes the output of `index_terms` and searches with `query_terms`, so both sides go
through exactly the same steps: lowercase, diacritics removed ("Éthique" → "ethique"), elided
articles dropped ("l'éthique" → "ethique"), stop words dropped, then the Snowball French stemmer
("financements" → "financ"). Folding comes before stemming on both sides, so a query typed without
accents meets text written with them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer
from django.utils.html import escape

_WORD = re.compile(r"\w+", re.UNICODE)
# Elided articles and pronouns before an apostrophe (straight or typographic).
_ELISION = re.compile(r"\b(?:qu|jusqu|lorsqu|puisqu|quoiqu|[cdjlmnst])['’]", re.IGNORECASE)
# Query operators some people type out of habit (upper case only: "or" may be a French word).
_OPERATORS = re.compile(r"\b(?:AND|OR|NOT|NEAR)\b")
MAX_WORD_CHARS = 40
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})

# Folded French stop words: frequent words that carry no meaning for a search.
STOP_WORDS = frozenset({
    "a", "ai", "au", "aux", "avec", "c", "ce", "ces", "cet", "cette", "d", "dans", "de", "des", "du", "elle",
    "elles", "en", "et", "est", "eu", "il", "ils", "j", "je", "l", "la", "le", "les", "leur", "leurs", "lui",
    "m", "ma", "mais", "me", "meme", "mes", "moi", "mon", "n", "ne", "nos", "notre", "nous", "on", "ou",
    "par", "pas", "pour", "qu", "que", "qui", "s", "sa", "se", "ses", "son", "sur", "t", "ta", "te", "tes",
    "toi", "ton", "tu", "un", "une", "vos", "votre", "vous", "y", "ete", "etre", "sont", "ont", "avait",
    "etait",
})

_stemmer = snowballstemmer.stemmer("french")


def fold(text: str) -> str:
    """Lowercase without diacritics or ligatures: "Œuvre à l'Été" → "oeuvre a l'ete"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=200_000)
def stem(folded_word: str) -> str:
    return _stemmer.stemWord(folded_word)


@lru_cache(maxsize=200_000)
def term(word: str) -> str:
    """The stem a word of a text is indexed under (snippets compare words this way)."""
    return stem(fold(word))


def words(text: str) -> list[str]:
    """Folded words of `text`, elisions removed, in order (stop words kept)."""
    return [word[:MAX_WORD_CHARS] for word in _WORD.findall(fold(_ELISION.sub(" ", text)))]


def index_terms(text: str) -> str:
    """What the database store indexes for `text`: its stems, space-separated, stop words dropped."""
    return " ".join(stem(word) for word in words(text) if word not in STOP_WORDS)


def prefix_terms(text: str) -> str:
    """Folded words without stemming, for autocomplete on titles ("Bordelaise" → "bordelaise")."""
    return " ".join(words(text))


def query_words(text: str) -> list[str]:
    """Folded words of a typed query, operators (AND, OR, NOT, NEAR) and stop words dropped."""
    return [word for word in words(_OPERATORS.sub(" ", text)) if word not in STOP_WORDS]


def query_terms(text: str, *, limit: int) -> list[str]:
    """Distinct stems of a typed query, in order, at most `limit`. Operators and quotes are just
    punctuation here: nothing typed is ever interpreted as query syntax."""
    seen: dict[str, None] = {}
    for word in query_words(text):
        seen.setdefault(stem(word), None)
        if len(seen) >= limit:
            break
    return list(seen)


def query_prefixes(text: str, *, limit: int) -> list[str]:
    """Folded words of an autocomplete query (the last one is a prefix being typed)."""
    return words(text)[:limit]


def highlight(text: str, stems: list[str] | set[str], *, length: int = 220) -> str:
    """An HTML snippet of `text`: escaped, around the first matched word, matches in <mark>.

    Without a match, the beginning of the text. Never longer than about `length` characters.
    """
    text = " ".join(text.split())
    wanted = set(stems)
    matches = list(_WORD.finditer(text))
    first = next((m for m in matches if term(m.group()) in wanted), None)
    if first is None:
        start = 0
    else:
        # Start a few words before the first match, on a word boundary.
        start = max(0, first.start() - length // 4)
        if start:
            boundary = text.find(" ", start)
            start = boundary + 1 if 0 <= boundary < first.start() else first.start()
    end = min(len(text), start + length)
    if end < len(text):
        boundary = text.rfind(" ", start, end)
        end = boundary if boundary > start else end
    parts = ["… " if start else ""]
    cursor = start
    for match in matches:
        if match.start() < start or match.end() > end:
            continue
        if term(match.group()) in wanted:
            parts.append(escape(text[cursor:match.start()]))
            parts.append(f"<mark>{escape(match.group())}</mark>")
            cursor = match.end()
    parts.append(escape(text[cursor:end]))
    if end < len(text):
        parts.append(" …")
    return "".join(parts)
