"""How search reads text, the same on both engines: folded words, prefixes and one-edit typo tolerance.

Both engines split text only here. The embedded engine indexes these words in memory and in
SQLite; Elasticsearch receives them already split, in fields that it splits only at spaces
(elastic/mappings.py), so a name in any script is found by its own spelling on both.

Folding (case, diacritics, Mizo `ṭ` → `t`) starts from contracts.text's, so search meets the
registry's spelling of a name whatever way either was typed.
"""

import re
import unicodedata

from contracts.text import fold as fold_case_and_diacritics

# "one edit for words of five letters or more"; shorter words are matched only as typed.
TYPO_MIN_LENGTH = 5
# Words past this many in one query are ignored: a search is a few words, not a paragraph.
MAX_QUERY_WORDS = 10
# A typed word matches the indexed words that begin with its first this many letters (Elasticsearch indexes
# word beginnings up to this length, and truncates longer typed ones to it, as its reference recommends).
LONGEST_PREFIX = 20
# Longer words are cut to this length, so that no engine splits or refuses them.
LONGEST_WORD = 100
# Letters that Unicode does not decompose into a plain letter and a mark, folded as Elasticsearch's
# `asciifolding` folds them, so that `lodz` finds `Łódź` and `Łódź` sorts among the l's.
UNDECOMPOSED_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ŧ": "t", "ı": "i", "ŀ": "l", "æ": "ae", "œ": "oe", "þ": "th"}
)
# Letters and digits, as `str.isalnum` tells them ("_" is punctuation to people, though `\w` counts it).
_LETTERS_AND_DIGITS = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """Case and diacritics folded: 'Ṭhalai' and 'THALAI' both become 'thalai', 'Łódź' 'lodz'."""
    return fold_case_and_diacritics(text).translate(UNDECOMPOSED_LETTERS)


def words(text: str) -> list[str]:
    """The folded words of a text: runs of letters, digits and the marks that stay after folding (such as
    Devanagari and Burmese vowel signs, which belong to their word), each at most LONGEST_WORD long."""
    folded = fold(text)
    if folded.isascii():
        found = _LETTERS_AND_DIGITS.findall(folded)
    else:
        # `re` has no class for marks (`\p{M}`): look at each character.
        found = "".join(char if _in_word(char) else " " for char in folded).split()
    return [word[:LONGEST_WORD] for word in found]


def _in_word(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def query_words(text: str) -> list[str]:
    """The folded words of what someone typed, repeats dropped."""
    return list(dict.fromkeys(words(text)))[:MAX_QUERY_WORDS]


def as_prefix(word: str) -> str:
    """What a typed word must begin an indexed word with."""
    return word[:LONGEST_PREFIX]


def sort_key(name: str) -> str:
    """Names sort as they are searched: 'Ṭhalai' between 'Serchhip' and 'Zawlnuam', whatever the case."""
    return fold(name)


def nfc(text: str) -> str:
    """Composed form, as documents are kept."""
    return unicodedata.normalize("NFC", text)


def tolerates_typo(word: str) -> bool:
    return len(word) >= TYPO_MIN_LENGTH


def deletions(word: str) -> set[str]:
    """Every form of the word with one letter taken out.

    Two words are one edit apart only if one is a deletion of the other or both share a deletion,
    so a table of terms by their deletions finds a typo's candidates without scanning every term.
    """
    return {word[:position] + word[position + 1 :] for position in range(len(word))}


def one_edit_apart(typed: str, term: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours (as Elasticsearch's fuzziness 1 counts)."""
    if typed == term or abs(len(typed) - len(term)) > 1:
        return False
    if len(typed) == len(term):
        differing = [position for position, (a, b) in enumerate(zip(typed, term, strict=True)) if a != b]
        if len(differing) == 1:
            return True
        if len(differing) != 2 or differing[1] != differing[0] + 1:
            return False
        first, second = differing
        return typed[first] == term[second] and typed[second] == term[first]
    shorter, longer = sorted((typed, term), key=len)
    return shorter in deletions(longer)
