"""Which typed sign-in emails are worth a look-up: no control or other invisible characters
(PostgreSQL refuses NUL in text outright) and no longer than an address can be."""

from __future__ import annotations

import unicodedata

MAX_LENGTH = 320


def plausible_sign_in_email(text: str) -> bool:
    """False for an email no account can have: empty, too long, or with a character of
    Unicode's "other" categories (control, format, surrogate, private use, unassigned)."""
    return 0 < len(text) <= MAX_LENGTH and not any(
        unicodedata.category(ch).startswith("C") for ch in text
    )
