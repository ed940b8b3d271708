"""The FTS5 match expression the embedded engine builds from what people type (individuals' full text)."""

import sqlite3

import pytest

from services.search.embedded.individual_queries import match_expression


def test_each_word_must_appear_as_a_quoted_prefix():
    assert match_expression("Ṭhalai Mizo") == '"thalai"* AND "mizo"*'


def test_a_prefix_counts_the_first_twenty_letters_of_a_longer_word():
    assert match_expression("Kristianthalaipawlhote") == '"kristianthalaipawlho"*'


def test_typo_variants_are_alternatives_and_the_and_is_written_out_before_them():
    expression = match_expression("hmar thangzaula", {"thangzaula": ["thangzuala"]})

    assert expression == '"hmar"* AND ("thangzaula"* OR "thangzuala")'
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE t USING fts5(name, tokenize = 'ascii')")
    connection.execute("INSERT INTO t (name) VALUES ('thangzuala hmar')")
    assert connection.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone() == (1,)


@pytest.mark.parametrize(
    ("typed", "expression"),
    [
        ('mizo" OR "x', '"mizo"* AND "or"* AND "x"*'),
        ("mizo*", '"mizo"*'),
        ("-mizo", '"mizo"*'),
        ("mizo OR delhi", '"mizo"* AND "or"* AND "delhi"*'),
        ("NEAR(mizo delhi)", '"near"* AND "mizo"* AND "delhi"*'),
        ("name:mizo", '"name"* AND "mizo"*'),
    ],
)
def test_fts5_syntax_in_what_people_type_becomes_plain_quoted_words(typed, expression):
    assert match_expression(typed) == expression


@pytest.mark.parametrize("typed", ["", "   ", "*", '"', "-", "()", '"*-()"', "!?.", "___"])
def test_text_without_words_gives_no_match_expression(typed):
    assert match_expression(typed) is None
