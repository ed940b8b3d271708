"""The 10,000 most common passwords, which no account may have.

The list is the most common passwords of zxcvbn's frequency lists (the `zxcvbn` package from PyPI, MIT licence;
its `passwords` list is ranked from leaked password sets). It is read the first time it is needed, not at import.
"""

from functools import cache

HOW_MANY = 10_000


@cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:HOW_MANY])


def is_common(password: str) -> bool:
    """Compared case-insensitively and without surrounding blanks: `Password1` is as common as `password1`."""
    return password.strip().lower() in common_passwords()
