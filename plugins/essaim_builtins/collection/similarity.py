"""A small incremental lexical similarity index for French and English cards.

Fast enough for suggestions while typing over tens of thousands of cards: an
inverted index from feature to cards, scored with numpy over only the cards
that share a feature with the query.

Features of a card: the Snowball stem of each word (French and English:
the shorter of the two stems, so "végétariennes" and "végétariens" are one
feature, and so are "meetings" and "meeting"), and the character trigrams of
each word at a lower weight, which catch the word forms stemmers keep apart
("former" / "formation", "parrain" / "parrainage", "covoiturage" /
"covoiturer"). On the quality benchmark's labelled French/English set this
took recall in the top 5 from 0.48 to 0.59 with precision no lower
(docs/strategies.md).
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from collections import Counter, defaultdict
from functools import lru_cache
from itertools import islice

import numpy as np
import snowballstemmer

from essaim.model.state import CampaignState

__all__ = ["SimilarityIndex", "features", "stem", "words"]

WORD_PATTERN = re.compile(r"[^\W\d_]{2,}|\d+", re.UNICODE)

#: Words too common to say anything about similarity, in French and English.
STOPWORDS = frozenset(
    """a an and are as at be but by for from has have in is it its of on or our so that the their there
    this to was we were will with not no more less very too can could should would do does
    au aux avec ce ces cet cette dans de des du elle en et est il ils je la le les leur mais me nos notre
    nous on ou par pas plus pour qu que qui sa se ses son sont sur ta te tes ton tu un une vos votre vous
    y a été être avoir fait faire trop très""".split()
)

#: A word being typed (no space after it yet) of at least this many letters
#: is completed from the index's vocabulary: "meet" finds "meetings".
MIN_PREFIX = 3
#: Completions of the word being typed, at most (the shortest first).
MAX_COMPLETIONS = 5
#: Weight of each completion relative to a whole word of the query.
COMPLETION_WEIGHT = 0.5
#: Weight of one character trigram relative to a whole word: a word of 8
#: letters has 8 trigrams, so its trigrams together weigh about twice the
#: word; 0.3 scored best on the labelled set (0.5 lost recall to near-topic
#: cards sharing common endings).
NGRAM_WEIGHT = 0.3
#: Letters of a trigram, with "<" and ">" marking the ends of the word.
NGRAM = 3

#: Posting lists longer than this are skipped at query time: a feature on that
#: many cards does not discriminate, and scanning it would cost milliseconds.
MAX_POSTING = 2000
#: Stems remembered (a campaign's vocabulary is tens of thousands of words;
#: Snowball in pure Python costs tens of microseconds per word).
STEM_CACHE = 65_536

_FRENCH = snowballstemmer.stemmer("french")
_ENGLISH = snowballstemmer.stemmer("english")
#: Trigram features are kept apart from word stems by this first character.
_NGRAM_MARK = "#"


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


@lru_cache(maxsize=STEM_CACHE)
def stem(word: str) -> str:
    """The shorter of the French and English Snowball stems of a folded word:
    a card's language is not known, and the shorter stem merges more forms."""
    if word.isdigit():
        return word
    french: str = _FRENCH.stemWord(word)
    english: str = _ENGLISH.stemWord(word)
    return french if len(french) <= len(english) else english


def words(text: str) -> list[str]:
    """Folded words (no case, no accents), stop words left out."""
    return [w for w in WORD_PATTERN.findall(_fold(text)) if w not in STOPWORDS]


def features(text: str) -> Counter[str]:
    """Stems (weight 1 each) and character trigrams (NGRAM_WEIGHT each)."""
    out: Counter[str] = Counter()
    for word in words(text):
        out[stem(word)] += 1
        if not word.isdigit():
            marked = f"<{word}>"
            for i in range(len(marked) - NGRAM + 1):
                out[_NGRAM_MARK + marked[i:i + NGRAM]] += NGRAM_WEIGHT  # type: ignore[assignment]
    return out


class SimilarityIndex:
    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}  # feature -> its posting list's number
        #: Per feature: the cards (their numbers) and the feature's weight on each.
        self.post_cards: list[array[int]] = []
        self.post_weights: list[array[float]] = []
        self.cids: list[str] = []
        self.norms = array("d")
        #: First MIN_PREFIX letters -> stems of the vocabulary, for completion.
        self.by_prefix: dict[str, set[str]] = defaultdict(set)
        self.indexed = 0
        self.seq = 0

    def update(self, state: CampaignState) -> None:
        """Index the cards added since the last update (one state feeds one index)."""
        if self.indexed < len(state.cards):
            for card in islice(state.cards.values(), self.indexed, None):
                self.add(card.cid, card.text)
            self.indexed = len(state.cards)
        self.seq = state.seq

    def add(self, cid: str, text: str) -> None:
        card = len(self.cids)
        self.cids.append(cid)
        counts = features(text)
        for feature, weight in counts.items():
            number = self.numbers.get(feature)
            if number is None:
                number = self.numbers[feature] = len(self.post_cards)
                self.post_cards.append(array("i"))
                self.post_weights.append(array("f"))
                if not feature.startswith(_NGRAM_MARK) and len(feature) >= MIN_PREFIX:
                    self.by_prefix[feature[:MIN_PREFIX]].add(feature)
            self.post_cards[number].append(card)
            self.post_weights[number].append(weight)
        self.norms.append(math.sqrt(sum(v * v for v in counts.values())) or 1.0)

    def search(self, text: str, limit: int) -> list[tuple[str, float]]:
        query = features(text)
        self._complete(text, query)
        if not query or not self.cids:
            return []
        n_cards = len(self.cids)
        cards, weights = [], []
        query_norm = 0.0
        for feature, q in query.items():
            number = self.numbers.get(feature)
            if number is None or len(self.post_cards[number]) > MAX_POSTING:
                continue
            posting = self.post_cards[number]
            idf = math.log(1 + n_cards / len(posting))
            query_norm += (q * idf) ** 2
            cards.append(np.array(posting, np.int64))
            weights.append(np.array(self.post_weights[number], np.float64) * (q * idf * idf))
        if not cards:
            return []
        # Dense over every card: bincount and a partition are O(cards) in C,
        # cheaper than sorting the postings (np.unique) at 20,000 cards.
        score: np.ndarray = np.bincount(np.concatenate(cards), np.concatenate(weights), n_cards)
        found = np.flatnonzero(score)
        score = score[found] / (math.sqrt(query_norm) * np.frombuffer(self.norms, np.float64, n_cards)[found])
        if found.size > limit:
            # Everything tied with the limit-th best stays in, so ties are
            # broken by card id below, not by numpy's partition order.
            floor = np.partition(score, found.size - limit)[found.size - limit]
            keep = score >= floor
            found, score = found[keep], score[keep]
        ranked = sorted(((self.cids[c], float(s)) for c, s in zip(found.tolist(), score.tolist())),
                        key=lambda x: (-x[1], x[0]))
        return ranked[:limit]

    def _complete(self, text: str, query: Counter[str]) -> None:
        """Add completions of the word still being typed (weighted down)."""
        if not text or not text[-1].isalnum():
            return
        typed = words(text.split()[-1]) if text.split() else []
        if not typed or len(typed[-1]) < MIN_PREFIX:
            return
        word = typed[-1]
        if stem(word) in self.numbers:
            return
        # A stem is shorter than its words: "meeti" is completed by "meet" too.
        completions = sorted((w for w in self.by_prefix.get(word[:MIN_PREFIX], ())
                              if w.startswith(word) or word.startswith(w)),
                             key=lambda w: (len(w), w))[:MAX_COMPLETIONS]
        if completions:
            query.pop(stem(word), None)
            for w in completions:
                query[w] += COMPLETION_WEIGHT  # type: ignore[assignment]
