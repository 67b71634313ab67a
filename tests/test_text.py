"""The one tokenisation BM25, the extractive scorer and the claim checks share (index/text.py)."""

from __future__ import annotations

from index.text import stems, tokens, words


def test_inflections_of_one_word_share_a_stem() -> None:
    """The old suffix stripper left 'election' and 'elect', 'injuries' and 'injury' apart: a question in one form
    missed passages in the other."""
    assert stems("elections") == stems("elected") == stems("election")
    assert stems("injuries") == stems("injury")
    assert stems("universities") == stems("university")
    assert stems("striking strikes") == stems("strike")


def test_possessives_and_curly_apostrophes() -> None:
    assert tokens("Pritzker’s order") == tokens("Pritzker's order") == tokens("Pritzker order")
    assert tokens("don’t") == tokens("don't")


def test_accented_names_are_one_word_and_match_their_plain_spelling() -> None:
    """'Orbán' was cut into 'orb' + 'n', so a question typed 'Orban' never matched it."""
    assert words("Viktor Orbán") == ["viktor", "orban"]
    assert stems("Orbán") == stems("Orban") == {"orban"}
    assert tokens("São Paulo café") == tokens("Sao Paulo cafe")


def test_stopwords_and_underscores_are_not_terms() -> None:
    assert tokens("What did the mayor say about it?") == ["mayor"]
    assert "_" not in "".join(tokens("snake_case_word"))


def test_fold_drops_exactly_the_combining_marks_of_every_character() -> None:
    """fold() tests only the non-ASCII runs for combining marks (a speed-up): the same text as testing each one."""
    import unicodedata

    from index.text import fold

    every = "".join(chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000)
    for text in (every, "Orbán’s “Fidesz” — Nicolás", "ascii only", ""):
        assert fold(text) == "".join(c for c in unicodedata.normalize("NFKD", text.lower())
                                     if not unicodedata.combining(c))
