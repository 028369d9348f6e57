"""Moderation, by composition: a third-party profanity screen that *wraps*
the campaign's moderation screen instead of replacing it.

The built-in ``jury`` strategy keeps doing everything it does — masking
e-mails, phone numbers and IBANs, refusing junk, drawing juries, deciding
verdicts — and this plugin only adds a word list of its own on top: a card
that uses one of its words is accepted *hidden* (so a jury or the
facilitator looks at it, as the built-in screen does with abuse) and the
finding ``profanity`` is kept in the log. It runs as a pluggy wrapper
(``wrapper=True``) around ``essaim_moderation_screen``: the engine calls
strategy hooks through pluggy, so wrappers, ``tryfirst``/``trylast`` and
tracing apply as they do to any pluggy hook.

A wrapper has no settings table of its own (a campaign's ``[moderation]``
settings belong to its strategy and are checked against what it declares),
so it takes its configuration when it is made: a plugin object, passed to
``PluginHost.load(extra=[ProfanityScreen(...)])`` or
``open_test_engine(plugins=[...])``, or returned by an entry point.

Run by tests/examples/test_strategy_examples.py.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable
from dataclasses import replace

from essaim import hookimpl
from essaim.model.types import Screening

_WORD = re.compile(r"[^\W\d_]+")


class ProfanityScreen:
    """Hide cards that use any of ``words`` (whole words, any case)."""

    __name__ = "profanity_screen"  # how errors and `essaim plugins` name it

    def __init__(self, words: Iterable[str], *, strategies: Iterable[str] = ("jury",)) -> None:
        self.words = frozenset(w.casefold() for w in words)
        #: The moderation strategies this screen applies to.
        self.strategies = frozenset(strategies)

    @hookimpl(wrapper=True)
    def essaim_moderation_screen(self, strategy: str, text: str) -> Generator[None, Screening, Screening]:
        # Everything before the yield runs before the strategy's screen; the
        # yield gives its result (or raises its exception).
        screening = yield
        if strategy not in self.strategies or screening.reject:
            return screening
        # Look at the text as the strategy kept it: personal data is masked already.
        if not any(word.casefold() in self.words for word in _WORD.findall(screening.text)):
            return screening
        return replace(screening, findings=(*screening.findings, "profanity"), hide=True)
