"""The screen at submission: mask personal data, refuse obvious junk."""

from __future__ import annotations

import re

from essaim.types import Screening

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers: 8+ digits with optional separators and country code.
_PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d(?:[\s.\-()]*\d){7,}(?!\w)")
_REPEAT = re.compile(r"(.)\1{9,}")


def screen_text(text: str) -> Screening:
    findings = []
    masked, n = _EMAIL.subn("[email]", text)
    if n:
        findings.append("email")
    masked, n = _PHONE.subn("[phone]", masked)
    if n:
        findings.append("phone")
    if _REPEAT.search(masked):
        return Screening(masked, tuple(findings + ["repetition"]), reject="this looks like repeated characters; write a sentence")
    return Screening(masked, tuple(findings))
