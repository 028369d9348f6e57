"""The word index suggestions used before Snowball stems and trigrams, kept
as the quality benchmark's baseline: idf-weighted cosine over folded words,
stop words removed, a crude plural stemming ("s" dropped from words of 5+
letters), completion of the word being typed."""

from __future__ import annotations

import math
import unicodedata
from collections import Counter, defaultdict

from essaim_builtins.collection.similarity import STOPWORDS, WORD_PATTERN

__all__ = ["WordIndex"]

#: A word being typed (no space after it yet) of at least this many letters
#: is completed from the index's vocabulary: "meet" finds "meetings".
MIN_PREFIX = 3
#: Completions of the word being typed, at most (the shortest first).
MAX_COMPLETIONS = 5
#: Weight of each completion relative to a whole word of the query.
COMPLETION_WEIGHT = 0.5

#: Posting lists longer than this are skipped at query time: a word on that
#: many cards does not discriminate, and scanning it would cost milliseconds.
MAX_POSTING = 2000


def tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    out = []
    for word in WORD_PATTERN.findall(folded):
        if word in STOPWORDS:
            continue
        # A crude stem that merges most plurals in both languages.
        if len(word) > 4 and word.endswith("s"):
            word = word[:-1]
        out.append(word)
    return out


class WordIndex:
    def __init__(self) -> None:
        self.postings: dict[str, list[str]] = defaultdict(list)
        #: First MIN_PREFIX letters -> words of the vocabulary, for completion.
        self.by_prefix: dict[str, set[str]] = defaultdict(set)
        self.norms: dict[str, float] = {}

    def add(self, cid: str, text: str) -> None:
        counts = Counter(tokens(text))
        for tok in counts:
            if tok not in self.postings and len(tok) >= MIN_PREFIX:
                self.by_prefix[tok[:MIN_PREFIX]].add(tok)
            self.postings[tok].append(cid)
        self.norms[cid] = math.sqrt(sum(v * v for v in counts.values())) or 1.0

    def search(self, text: str, limit: int) -> list[tuple[str, float]]:
        query: Counter[str] = Counter(tokens(text))
        self._complete(text, query)
        if not query:
            return []
        qnorm = math.sqrt(sum(v * v for v in query.values()))
        n_cards = max(1, len(self.norms))
        scores: dict[str, float] = defaultdict(float)
        for tok, q in query.items():
            posting = self.postings.get(tok)
            if not posting or len(posting) > MAX_POSTING:
                continue
            idf = math.log(1 + n_cards / len(posting))
            for cid in posting:
                scores[cid] += q * idf
        ranked = sorted(
            ((cid, s / (qnorm * self.norms[cid])) for cid, s in scores.items()), key=lambda x: (-x[1], x[0])
        )
        return ranked[:limit]

    def _complete(self, text: str, query: Counter[str]) -> None:
        """Add completions of the word still being typed (weighted down)."""
        if not text or not text[-1].isalnum():
            return
        typed = tokens(text.split()[-1]) if text.split() else []
        if not typed or len(typed[-1]) < MIN_PREFIX or typed[-1] in self.postings:
            return
        word = typed[-1]
        completions = sorted((w for w in self.by_prefix.get(word[:MIN_PREFIX], ()) if w.startswith(word)),
                             key=lambda w: (len(w), w))[:MAX_COMPLETIONS]
        if completions:
            query.pop(word, None)
            for w in completions:
                query[w] += COMPLETION_WEIGHT  # type: ignore[assignment]
