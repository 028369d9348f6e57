"""The screen at submission: mask personal data, catch obvious abuse and junk.

Personal data is masked, not refused: the idea is worth keeping, the email
address is not. Abusive words do not refuse the card either (a word list
misfires: "Scunthorpe"); by default they accept it *hidden*, so a jury or the
facilitator looks at it. Junk (a key held down, one word repeated, no
letters) is refused with a message saying what to do.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from essaim.model.types import Screening

from essaim_builtins.moderation.personal_data import mask_personal_data

__all__ = ["screen_text", "ABUSE_WORDS", "ABUSE_ACTIONS", "fold"]

#: What the screen does with a card using a word of the abuse list.
ABUSE_ACTIONS = ("hide", "reject", "off")

_REPEAT = re.compile(r"(.)\1{9,}")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

#: A small French/English list of unambiguous insults and slurs, folded
#: (lower case, no accents). Templates add words with ``extra_abuse_words``.
ABUSE_WORDS = frozenset(
    """
    fuck fucking fucker motherfucker shit bullshit asshole arsehole bastard bitch cunt dickhead wanker
    retard retarded faggot nigger whore slut
    connard connards connasse salope salopes encule encules enculer pute putes putain batard batards
    merde merdique abruti abrutis cretin cretins debile debiles pd tapette negre bougnoule
    nique niquer ntm fdp
    """.split()
)

#: A card with at least this many words where one word makes up more than
#: half of them is junk ("bad bad bad bad bad bad").
REPEATED_WORD_MIN_WORDS = 6
#: A card of at least this many characters with fewer letters than this share is junk.
MIN_LETTER_SHARE = 0.3
JUNK_MIN_CHARS = 12
#: Longer than this and in capitals only: noted ("shouting"), not refused.
SHOUTING_MIN_LETTERS = 20


def fold(text: str) -> str:
    """Lower case without accents, for matching words in French and English."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def screen_text(
    text: str, *, extra_words: Iterable[str] = (), abuse_action: str = "hide"
) -> Screening:
    masked, findings = mask_personal_data(text)

    if _REPEAT.search(masked):
        return Screening(masked, tuple(findings + ["repetition"]),
                         reject="this looks like repeated characters; write a sentence")
    words = [fold(w) for w in _WORD.findall(masked)]
    if len(words) >= REPEATED_WORD_MIN_WORDS and Counter(words).most_common(1)[0][1] * 2 > len(words):
        return Screening(masked, tuple(findings + ["repetition"]),
                         reject="one word repeated is not an idea; write a sentence")
    letters = sum(ch.isalpha() for ch in masked)
    if len(masked) >= JUNK_MIN_CHARS and letters < MIN_LETTER_SHARE * len(masked):
        return Screening(masked, tuple(findings + ["junk"]), reject="this has hardly any words; write a sentence")
    if letters >= SHOUTING_MIN_LETTERS and masked.upper() == masked and masked.lower() != masked:
        findings.append("shouting")

    vocabulary = ABUSE_WORDS | {fold(w) for w in extra_words}
    if any(w in vocabulary for w in words):
        findings.append("abuse")
        if abuse_action == "reject":
            return Screening(masked, tuple(findings), reject="please rephrase without insults")
        if abuse_action == "hide":
            return Screening(masked, tuple(findings), hide=True)
    return Screening(masked, tuple(findings))

