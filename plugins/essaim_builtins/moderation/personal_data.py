"""Find personal data in a card: e-mail addresses, IBANs, phone numbers,
payment card and French social security numbers.

Masked, not refused (see :mod:`.screening`). A phone number is recognised by
its *shape*, not by a count of digits: the rule before issue 15 ("8 or more
digits with any separators") also masked dates (12.03.2024), amounts
(12 500 000 €), versions (10.0.19045.3693), years (2023-2024) and generated
text ("client 12 card 3 38270915"): about a quarter of the cards with numbers
in them. The shapes below are the ones people write:

* international: ``+`` or ``00``, a country code, then 8 to 15 digits in all
  (E.164), with an optional ``(0)``; not when a currency or ``%`` follows
  (``+10 000 000 €`` is an amount);
* French: ``0`` and a digit, then four pairs, all with the same separator
  (``06 12 34 56 78``, ``06.12.34.56.78``, ``0612345678``);
* British: ``0`` and 2 to 4 digits, then groups of 3 or 4, 10 or 11 digits;
* North American: ``(415) 555-0132``, ``415-555-0132``, ``415.555.0132``;
* a payment card: 13 to 19 digits, in groups of four or none, passing the
  Luhn check;
* a French social security number (NIR): 13 digits, or 15 with a valid key.

``make bench-quality`` measures precision and recall on a labelled French
and English set (``essaim_builtins/bench/personal_data_cards.txt``).
"""

from __future__ import annotations

import re

__all__ = ["mask_personal_data", "EMAIL", "IBAN", "mask_iban"]

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: IBAN: country code, check digits, then 11 to 30 capitals/digits, printed
#: in groups of four or not at all.
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")

#: Not glued to a number before it (a digit, or a digit and a decimal point).
_START = r"(?<![\w+])(?<!\d[.,])"
_END = r"(?![\w])(?![.,]\d)"
_INTERNATIONAL = re.compile(
    _START + r"(?:\+|00)[1-9]\d{0,2}(?:[ .\-]?\(0\))?(?:[ .\-]?\(\d{1,4}\))?(?:[ .\-]?\d{1,5}){1,6}" + _END)
#: What follows an amount or a rate, never a phone number.
_AMOUNT_AFTER = re.compile(r"\s?(?:[€$£¥%]|(?:eur|euros?|usd|gbp|chf|dollars?|k€|m€)\b)", re.IGNORECASE)
_FRENCH = re.compile(_START + r"0[1-9](?P<sep>[ .\-]?)\d{2}(?:(?P=sep)\d{2}){3}" + _END)
_BRITISH = re.compile(_START + r"0[1-9]\d{1,3}[ ]?\d{3,4}[ ]?\d{3,4}" + _END)
_NORTH_AMERICAN = re.compile(_START + r"(?:\(\d{3}\)[ ]?|\d{3}(?P<sep>[ .\-]))\d{3}(?(sep)(?P=sep)|[ .\-])\d{4}" + _END)
_CARD = re.compile(_START + r"\d{4}(?:(?P<sep>[ \-]?)\d{4}){2}(?:(?P=sep)\d{1,4}){1,2}" + _END)
_NIR = re.compile(_START + r"[12][ ]?\d{2}[ ]?\d{2}[ ]?(?:\d{2}|2[AB])[ ]?\d{3}[ ]?\d{3}(?:[ ]?\d{2})?" + _END)

MIN_PHONE_DIGITS = 8  #: E.164: a country code and a subscriber number make at least 8 digits...
MAX_PHONE_DIGITS = 15  #: ...and at most 15.


def mask_personal_data(text: str) -> tuple[str, list[str]]:
    """``text`` with personal data replaced by ``[email]``, ``[iban]`` or
    ``[phone]`` (card and social security numbers too), and what was found."""
    findings: list[str] = []
    masked, n = EMAIL.subn("[email]", text)
    if n:
        findings.append("email")
    masked = IBAN.sub(mask_iban, masked)
    if "[iban]" in masked:
        findings.append("iban")
    before = masked
    # The longest, most specific shapes first: a card number holds what
    # looks like a phone number.
    masked = _CARD.sub(_mask_card, masked)
    masked = _NIR.sub(_mask_nir, masked)
    masked = _INTERNATIONAL.sub(_mask_international, masked)
    masked = _FRENCH.sub("[phone]", masked)
    masked = _BRITISH.sub(_mask_british, masked)
    masked = _NORTH_AMERICAN.sub("[phone]", masked)
    if masked != before:
        findings.append("phone")
    return masked, findings


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def mask_iban(match: re.Match[str]) -> str:
    # An IBAN has letters and at least 10 digits; this spares long words
    # such as "FR12 ABCDEFGHIJKLM" that merely look like one.
    digits = sum(ch.isdigit() for ch in match.group(0))
    return "[iban]" if digits >= 10 else match.group(0)


def _mask_international(match: re.Match[str]) -> str:
    number = match.group(0).replace("(0)", "")
    digits = len(_digits(number.removeprefix("00")))
    if not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        return match.group(0)
    if _AMOUNT_AFTER.match(match.string, match.end()):
        return match.group(0)
    return "[phone]"


def _mask_british(match: re.Match[str]) -> str:
    return "[phone]" if 10 <= len(_digits(match.group(0))) <= 11 else match.group(0)


def _mask_card(match: re.Match[str]) -> str:
    digits = _digits(match.group(0))
    return "[phone]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)


def _mask_nir(match: re.Match[str]) -> str:
    number = match.group(0).replace(" ", "")
    if len(number) == 13:
        return "[phone]"
    body = number[:13].replace("2A", "19").replace("2B", "18")  # Corsica, as the key is computed
    return "[phone]" if 97 - int(body) % 97 == int(number[13:]) else match.group(0)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0
