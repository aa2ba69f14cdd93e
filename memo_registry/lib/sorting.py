"""Sort keys for names as people read them."""

import re
import unicodedata

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str | None) -> tuple:
    """A key that sorts numbers inside names by their value: ``第5分公司``
    before ``第10分公司``, ``A2`` before ``A10``.

    Full-width digits count as digits (NFKC); the text between numbers
    compares as text.  Parts alternate text, number, text…, so a number is
    only ever compared with a number."""
    folded = unicodedata.normalize("NFKC", text or "")
    parts = _DIGITS.split(folded)
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))
