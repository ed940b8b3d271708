"""Text folding that every service applies alike, so 'Ṭhalai', 'THALAI' and 'thalai' meet."""

import re
import unicodedata

# Letters and digits; "_" is punctuation to people, though \w counts it.
_WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Case and diacritics folded: 'Ṭhalai' and 'THALAI' both become 'thalai'."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", text))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))
