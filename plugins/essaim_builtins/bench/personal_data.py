"""Precision and recall of the personal-data screen on labelled cards (part of ``make bench-quality``).

``python -m essaim_builtins.bench.personal_data``. The cards are in
``personal_data_cards.txt`` next to this module: French and English ideas,
some with phone numbers, e-mail addresses, IBANs or identity numbers marked
``[[...]]``, many with numbers that are *not* personal data (dates, amounts,
versions, rooms, percentages, load-test text) and must come out unchanged.

Scored per span: a *masked span* is a stretch of the original text the
screen replaced with ``[phone]``, ``[email]`` or ``[iban]``; it is right
when it overlaps a labelled span. A labelled span is *found* when masked
spans cover all of it. Precision = right masked spans / masked spans,
recall = found labelled spans / labelled spans. Also printed: the share
of cards without personal data that the screen changed (what a crowd sees
as mangled ideas), against the rule the screen had before issue 15
("8 or more digits with any separators", the baseline).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files

from essaim_builtins.moderation.personal_data import EMAIL, IBAN, mask_iban
from essaim_builtins.moderation.screening import screen_text

__all__ = ["LabelledCard", "load_cards", "score", "Score", "main"]

CARDS_FILE = "personal_data_cards.txt"
MASKS = ("[phone]", "[email]", "[iban]")
_MARK = re.compile(r"\[\[(.+?)\]\]")
#: The phone rule before issue 15: any 8+ digits with separators (it masked
#: "client 96 card 10 38270915", dates such as 12.03.2024, amounts).
_BASELINE_PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d(?:[\s.\-()]*\d){7,}(?!\w)")


@dataclass(frozen=True, slots=True)
class LabelledCard:
    lang: str
    text: str
    #: (start, end) of each piece of personal data in ``text``.
    spans: tuple[tuple[int, int], ...]


def parse_line(line: str) -> LabelledCard:
    lang, marked = line.split("\t", 1)
    text, spans, last = [], [], 0
    length = 0
    for m in _MARK.finditer(marked):
        text.append(marked[last:m.start()])
        length += m.start() - last
        spans.append((length, length + len(m.group(1))))
        text.append(m.group(1))
        length += len(m.group(1))
        last = m.end()
    text.append(marked[last:])
    return LabelledCard(lang, "".join(text), tuple(spans))


def load_cards() -> list[LabelledCard]:
    raw = files("essaim_builtins.bench").joinpath(CARDS_FILE).read_text(encoding="utf-8")
    return [parse_line(line) for line in raw.splitlines() if line.strip() and not line.startswith("#")]


def masked_spans(original: str, masked: str) -> list[tuple[int, int]]:
    """Where in ``original`` the screen put each mask of ``masked``."""
    pieces = re.split(r"(\[phone\]|\[email\]|\[iban\])", masked)
    pattern = "".join("(.+?)" if p in MASKS else re.escape(p) for p in pieces)
    m = re.fullmatch(pattern, original, re.DOTALL)
    if m is None:  # the screen changed more than personal data: count the whole card as one wrong span
        return [(0, len(original))]
    return [m.span(i) for i in range(1, (m.lastindex or 0) + 1)]


@dataclass(slots=True)
class Score:
    masked: int = 0
    right: int = 0
    labelled: int = 0
    found: int = 0
    clean_cards: int = 0
    clean_changed: int = 0

    @property
    def precision(self) -> float:
        return self.right / self.masked if self.masked else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0


def score(cards: Sequence[LabelledCard], mask: Callable[[str], str],
          misses: list[str] | None = None) -> Score:
    """Score ``mask`` (card text -> masked text) on ``cards``; wrong and
    missed cards are appended to ``misses`` when given."""
    s = Score()
    for card in cards:
        out = mask(card.text)
        got = masked_spans(card.text, out)
        right = [g for g in got if any(g[0] < e and b < g[1] for b, e in card.spans)]
        found = [sp for sp in card.spans if _covered(sp, got)]
        s.masked += len(got)
        s.right += len(right)
        s.labelled += len(card.spans)
        s.found += len(found)
        if not card.spans:
            s.clean_cards += 1
            s.clean_changed += out != card.text
        if misses is not None and (len(right) < len(got) or len(found) < len(card.spans)):
            misses.append(f"{card.text!r} -> {out!r}")
    return s


def _covered(span: tuple[int, int], got: list[tuple[int, int]]) -> bool:
    start, end = span
    return all(any(b <= i < e for b, e in got) for i in range(start, end))


def screen_mask(text: str) -> str:
    return screen_text(text).text


def baseline_mask(text: str) -> str:
    """The screen as it was before issue 15: the same e-mail and IBAN rules, the old phone rule."""
    masked = IBAN.sub(mask_iban, EMAIL.sub("[email]", text))
    return _BASELINE_PHONE.sub("[phone]", masked)


def main(argv: Sequence[str] | None = None) -> int:
    show_misses = "--misses" in (argv if argv is not None else sys.argv[1:])
    cards = load_cards()
    langs = {lang: sum(c.lang == lang for c in cards) for lang in sorted({c.lang for c in cards})}
    print(f"\n## Personal-data screen ({len(cards)} labelled cards: "
          + ", ".join(f"{n} {lang}" for lang, n in langs.items())
          + f"; {sum(bool(c.spans) for c in cards)} with personal data, {sum(len(c.spans) for c in cards)} spans)\n")
    print("| rule | precision | recall | cards without personal data changed |")
    print("|---|---|---|---|")
    misses: list[str] = []
    for name, mask in (("screen (essaim_builtins.moderation.screening)", screen_mask),
                       ("baseline: 8+ digits with any separators", baseline_mask)):
        s = score(cards, mask, misses if mask is screen_mask else None)
        print(f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.clean_changed}/{s.clean_cards} "
              f"({s.clean_changed / s.clean_cards:.1%}) |")
    if show_misses:
        print("\nscreen mistakes:\n" + "\n".join(f"- {m}" for m in misses))
    else:
        print(f"\n{len(misses)} cards the screen gets wrong (--misses lists them).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
