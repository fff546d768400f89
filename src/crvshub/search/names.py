"""Name keys and name similarity: how CRVS Hub matches names the way people write them.

A name is turned into *terms*: transliterated to ASCII (any script), lower case, split on
anything that is not a letter or digit, so case, accents, spacing, hyphens and word order
never matter. Each term has a phonetic code (Metaphone), so "Jon" finds "John" and
"Mohamed" finds "Muhammad". Typos are caught by edit distance (optimal string alignment:
one substitution, insertion, deletion or swap of neighbours) against the known terms.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jellyfish
from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.distance import OSA

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_WEAK = re.compile(r"[aeiouyhw]+")
_REPEATS = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiou]")

# Similarity of two terms, by how they match (used by ranking and deduplication).
EXACT = 1.0
PHONETIC = 0.9
ONE_EDIT = 0.85
TWO_EDITS = 0.7
SKELETON = 0.8  # the same consonants: a name written in a script without vowels
PREFIX = 0.75  # an initial or a shortened name: "J" or "Moh" for "Mohammed"


def terms(text: str | None) -> list[str]:
    """Return the search terms of a name, in order (may be empty)."""
    if not text:
        return []
    folded = anyascii(unicodedata.normalize("NFKC", text)).lower()
    return [t for t in _NOT_ALNUM.split(folded) if t]


@functools.lru_cache(maxsize=1 << 16)
def phonetic(term: str) -> str:
    """Return the phonetic code of one term (the term itself when it has no letters)."""
    if term.isdigit():
        return term
    code = jellyfish.metaphone(term)
    return code or term


def skeleton(term: str) -> str:
    """Return the consonant skeleton of a term: how scripts that omit vowels write it.

    Two terms match by skeleton only when one of them has no vowel at all (it came from
    such a script), so "Mary" never matches "Omar".

    "Mohammed" and the Arabic-script "محمد" (transliterated "mhmd") share "md"; "Fatima"
    and "فاطمة" share "ftm".
    """
    return _REPEATS.sub(r"\1", _WEAK.sub("", term))


def allowed_edits(term: str) -> int:
    """Return how many edits a term of this length may differ by and still match."""
    if len(term) <= 3:
        return 0 if len(term) <= 2 else 1
    return 1 if len(term) <= 7 else 2


@functools.lru_cache(maxsize=1 << 18)
def term_similarity(a: str, b: str) -> float:
    """Return how alike two terms are, from 0 (unrelated) to 1 (equal)."""
    if a == b:
        return EXACT
    if phonetic(a) == phonetic(b):
        return PHONETIC
    edits = OSA.distance(a, b, score_cutoff=2)
    limit = min(allowed_edits(a), allowed_edits(b)) if min(len(a), len(b)) > 3 else 1
    if edits == 1 and max(len(a), len(b)) >= 4:
        return ONE_EDIT
    if edits == 2 and limit >= 2:
        return TWO_EDITS
    bones = skeleton(a)
    abjad = not _VOWELS.search(a) or not _VOWELS.search(b)
    if abjad and len(bones) >= 2 and bones == skeleton(b):
        return SKELETON
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 1 and long_.startswith(short) and (len(short) == 1 or len(short) >= 3):
        return PREFIX
    return 0.0


@dataclass(frozen=True)
class TermMatch:
    """How one term of the query matched the best term of a candidate name."""

    query: str
    matched: str | None
    score: float


def match_terms(query: Sequence[str], candidate: Sequence[str]) -> list[TermMatch]:
    """Pair every query term with its best distinct candidate term (greedy, best first)."""
    pairs = sorted(
        ((term_similarity(q, c), qi, ci) for qi, q in enumerate(query)
         for ci, c in enumerate(candidate)),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    used_q: dict[int, TermMatch] = {}
    used_c: set[int] = set()
    for score, qi, ci in pairs:
        if score <= 0 or qi in used_q or ci in used_c:
            continue
        used_q[qi] = TermMatch(query[qi], candidate[ci], score)
        used_c.add(ci)
    return [used_q.get(i, TermMatch(q, None, 0.0)) for i, q in enumerate(query)]


def name_similarity(query: Sequence[str], candidate: Sequence[str]) -> float:
    """Return how alike two names are, from 0 to 1, whatever the order of their terms.

    Every term of the shorter name must find a partner in the longer one; each extra term
    (a middle name one side left out) costs a little, so "Mary Banda" ranks "Mary Banda"
    above "Mary Chisomo Banda", and "Nguyen Van An" still finds "An Nguyen".
    """
    if not query or not candidate:
        return 0.0
    short, long_ = (query, candidate) if len(query) <= len(candidate) else (candidate, query)
    matches = match_terms(short, long_)
    if any(m.score == 0 for m in matches):
        return 0.0
    covered = sum(m.score for m in matches) / len(matches)
    extra = len(long_) - len(short)
    return round(covered * (1 - 0.03 * extra), 4)


def query_similarity(query: Sequence[str], candidate: Sequence[str]) -> float:
    """Return how well a searched name matches a person's name, from 0 to 1 (search ranking).

    As `name_similarity`, except that a one-word question scores its word's best match alone:
    "Banda" finds every Banda alike, whatever their other names (newest first, then).
    """
    if len(query) == 1:
        return max((term_similarity(query[0], c) for c in candidate), default=0.0)
    return name_similarity(query, candidate)


def score_bound(query: Sequence[str], matched: Iterable[str]) -> float:
    """Return the most `query_similarity` can give a name of which these terms are known.

    `matched` are the terms of a person that the index lookup of the query found (variants of
    the query's terms). Every other term of the person is no variant of a query term, so it
    pairs with one at most as a prefix; left-out terms only lower the score. When the person
    may have fewer terms than the query, the best single term bounds the score.
    """
    known = set(matched)
    if not query:
        return 0.0
    best = [max([term_similarity(q, t) for t in known] + [PREFIX]) for q in query]
    if len(known) < len(query):
        return round(max(best), 4)
    return round(sum(best) / len(best), 4)


class Vocabulary:
    """The distinct terms known to the index, for expanding a query term to its variants."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._by_length: dict[int, set[str]] = {}
        self._lists: dict[int, list[str]] = {}
        self._by_code: dict[str, set[str]] = {}
        self._by_skeleton: dict[str, set[str]] = {}
        self._expanded: dict[str, frozenset[str]] = {}  # cleared whenever a term is learnt
        self.version = 0  # counts the terms learnt
        self.add(known)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_length.values())

    def add(self, new_terms: Iterable[str]) -> None:
        """Learn terms (idempotent)."""
        for term in new_terms:
            bucket = self._by_length.setdefault(len(term), set())
            if term not in bucket:
                self._expanded.clear()
                self.version += 1
                bucket.add(term)
                self._lists.setdefault(len(term), []).append(term)
                self._by_code.setdefault(phonetic(term), set()).add(term)
                self._by_skeleton.setdefault(skeleton(term), set()).add(term)

    def expand(self, term: str) -> set[str]:
        """Return the known terms that match a query term: itself, sound-alikes, typos.

        Only terms `term_similarity` scores above 0: a candidate the index lookup finds
        (the same consonants, a typo of a short word) but that cannot match the term when
        names are scored would only be a person found and ranked last with no match.
        """
        known = self._expanded.get(term)
        if known is None:
            known = self._expanded[term] = frozenset(self._expand(term))
            if len(self._expanded) > 4096:
                # The oldest; another thread may be changing the dict meanwhile.
                with contextlib.suppress(StopIteration, RuntimeError, KeyError):
                    self._expanded.pop(next(iter(self._expanded)))
        return set(known)

    def alike(self, words: Iterable[str]) -> set[str]:
        """Return the known terms that are one of some words, sound like one (phonetic code)
        or have the same consonants (skeleton, however short): the duplicate check's terms."""
        found: set[str] = set()
        for word in words:
            if word in self._by_length.get(len(word), ()):
                found.add(word)
            found |= self._by_code.get(phonetic(word), set())
            found |= self._by_skeleton.get(skeleton(word), set())
        return found

    def _expand(self, term: str) -> set[str]:
        return {t for t in self._candidates(term) if term_similarity(term, t) > 0}

    def _candidates(self, term: str) -> set[str]:
        found = {term} | self._by_code.get(phonetic(term), set())
        bones = skeleton(term)
        if len(bones) >= 2:
            found |= self._by_skeleton.get(bones, set())
        edits = allowed_edits(term)
        if edits:
            for length in range(len(term) - edits, len(term) + edits + 1):
                choices = self._lists.get(length)
                if choices:
                    hits = process.extract(
                        term, choices, scorer=OSA.distance, score_cutoff=edits, limit=None)
                    found.update(hit[0] for hit in hits)
        return found
