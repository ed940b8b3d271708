"""Typo tolerance for the embedded engine: every indexed word, found again from a typo of it.

Each word is stored under itself and under each of its one-letter deletions, so the candidates
for a typed word are one indexed lookup of the typed word and its own deletions (after SymSpell),
and only those candidates are checked for being one edit away.
"""

from collections.abc import Iterable

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from services.search.db import INDIVIDUAL_TEXT, VocabularyEntry
from services.search.embedded.individual_queries import match_expression
from services.search.text import LONGEST_WORD, as_prefix, deletions, one_edit_apart, query_words, tolerates_typo, words

VOCABULARY = VocabularyEntry.__table__
# Shorter words are never a typo's candidate: typos are looked for only in words of five letters or more.
SHORTEST_WORD = 4


class Vocabulary:
    def __init__(self, session: Session):
        self.session = session

    def learn(self, texts: Iterable[str]) -> None:
        """Words not seen before go in with their deletions (see `forget_unused` for taking them out)."""
        terms = {word for value in texts for word in words(value) if SHORTEST_WORD <= len(word) <= LONGEST_WORD}
        if not terms:
            return
        known = self.session.scalars(
            select(VOCABULARY.c.term).where(VOCABULARY.c.variant.in_(terms), VOCABULARY.c.variant == VOCABULARY.c.term)
        )
        new = terms.difference(known)
        entries = [{"variant": term, "term": term} for term in new]
        entries += [
            {"variant": variant, "term": term} for term in new if tolerates_typo(term) for variant in deletions(term)
        ]
        if entries:
            self.session.execute(insert(VOCABULARY).on_conflict_do_nothing(), entries)

    def forget_unused(self, terms: Iterable[str]) -> None:
        """Take out the words that no stored person's name or city has any more, so that the vocabulary does not
        keep a deleted person's name (their words stay while someone else has them)."""
        for term in {term for term in terms if SHORTEST_WORD <= len(term) <= LONGEST_WORD}:
            still_used = self.session.execute(
                text(f"SELECT 1 FROM {INDIVIDUAL_TEXT} WHERE {INDIVIDUAL_TEXT} MATCH :word LIMIT 1"),
                {"word": f'"{term}"'},
            ).first()
            if still_used is None:
                self.session.execute(delete(VOCABULARY).where(VOCABULARY.c.term == term))

    def match_expression(self, query_text: str) -> str | None:
        """The FTS5 expression for what someone typed, with the typo variants of its longer words."""
        return match_expression(query_text, self._typo_variants(query_words(query_text)))

    def _typo_variants(self, terms: list[str]) -> dict[str, list[str]]:
        lookups = {term: deletions(term) | {term} for term in terms if tolerates_typo(term)}
        if not lookups:
            return {}
        rows = self.session.execute(
            select(VOCABULARY.c.variant, VOCABULARY.c.term).where(
                VOCABULARY.c.variant.in_(set().union(*lookups.values()))
            )
        ).all()
        return {
            term: sorted(
                {
                    candidate
                    for variant, candidate in rows
                    # A word that starts with what was typed is found as a prefix already.
                    if variant in variants
                    and not candidate.startswith(as_prefix(term))
                    and one_edit_apart(term, candidate)
                }
            )
            for term, variants in lookups.items()
        }
