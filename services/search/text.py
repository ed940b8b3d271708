"""How search reads text: words folded as every service folds them, and one-edit typo tolerance.

Folding (case, diacritics, Mizo `ṭ` → `t`) is contracts.text's, so search meets the registry's
spelling of a name whatever way either was typed.
"""

import unicodedata

from contracts.text import fold, words

# "one edit for words of five or more letters"; shorter words are matched only as typed.
TYPO_MIN_LENGTH = 5
# Words past this many in one query are ignored: a search is a few words, not a paragraph.
MAX_QUERY_WORDS = 10


def query_words(text: str) -> list[str]:
    """The folded words of what someone typed, repeats dropped."""
    return list(dict.fromkeys(words(text)))[:MAX_QUERY_WORDS]


def sort_key(name: str) -> str:
    """Names sort as they are searched: 'Ṭhalai' between 'Serchhip' and 'Zawlnuam', whatever the case."""
    return fold(name)


def nfc(text: str) -> str:
    """Composed form, so that an analyzer that folds precomposed letters (Elasticsearch's) sees `ṭ` whole."""
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
