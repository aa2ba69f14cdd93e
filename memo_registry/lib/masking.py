"""Identity numbers inside free text (log lines, an address a page echoes)."""

import re

_IDENTITY_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_in_text(text: str) -> str:
    """``text`` with every identity-number-shaped run of 18 characters
    masked as subjects.codes.mask shows a person's number (first 6, last 4)."""
    return _IDENTITY_IN_TEXT.sub(r"\1********\2", text)
