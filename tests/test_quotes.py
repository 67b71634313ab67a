"""Who said what (index/quotes.py), on short hand-written articles that reproduce what went wrong on real news:
a quote is attributed to the person who said it, or to nobody."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from app.engine import Engine
from index.quotes import VERSION, extract_quotes, quote_aware_spans
from index.types import Article


def quotes(text: str) -> list[tuple[str, str]]:
    article = Article(id="a", title="t", text=text)
    found = extract_quotes(article)
    assert all(text[q.start:q.end] == q.text for q in found)
    return [(q.speaker, q.text) for q in found]


def speakers(text: str) -> list[str]:
    return [s for s, _ in quotes(text)]


def test_a_possessive_is_never_the_speaker_but_teaches_the_name() -> None:
    # The failure: the speaker was stored as "Pritzker’s", so "What did Pritzker say" found no quote.
    text = ("CHICAGO — The president is sending 300 Guard troops to Chicago over Gov. Jo Pritzker’s objections, "
            "the governor announced Saturday.\n\n“This morning they gave me an ultimatum: call up your troops, or we "
            "will,” Pritzker said in a statement. “It is outrageous to send troops against our will.”\n\n"
            "Pritzker’s office said the order was unlawful.\n\n"
            "A professor, Ana Ruiz, said Pritzker’s refusal was expected.")
    found = quotes(text)
    assert [s for s, _ in found] == ["Jo Pritzker", "Jo Pritzker", "Jo Pritzker", "Ana Ruiz"]
    assert "ultimatum" in found[1][1] and "outrageous" in found[2][1]  # the quotation goes on: still his
    assert not any("office said" in t for _, t in found)  # his office is not him
    assert not any(s.endswith(("’s", "'s")) for s, _ in found)


def test_what_follows_said_is_what_was_said_not_who_said_it() -> None:
    text = ("Kim Lowe, director of a legal clinic, said Trump’s use of the law would be challenged.\n\n"
            "“It is unlawful,” said Marta Diaz, a lawyer for the city.\n\n"
            "The plan is popular, said White House spokesman Josh Earnest.")
    assert speakers(text) == ["Kim Lowe", "Marta Diaz", "Josh Earnest"]


def test_titles_appositions_and_joint_statements() -> None:
    text = ("Secretary of State Mara Rubin said talks would resume.\n\n"
            "The party's leader and likely next prime minister, Péter Magyar, said on Facebook that the count was "
            "over.\n\n"
            "“It is unacceptable,” Senate Leader Chuck Schumer, D-New York, and House Leader Hakeem Jeffries, "
            "D-New York, said in a joint statement.\n\n"
            "Prices rose 3% last year, according to the Labor Department.\n\n"
            "As Jane Forbes noted on Monday, the deal is large. As Forbes noted, it is late.")
    assert speakers(text) == ["Mara Rubin", "Péter Magyar", "Chuck Schumer and Hakeem Jeffries", "Labor Department",
                              "Jane Forbes", "Jane Forbes"]


def test_names_in_quotation_marks_and_bylines_are_not_speakers() -> None:
    text = ("By Ron Page\n\nTrump said the rally was peaceful, as some shouted “Hang Mike Pence,” witnesses said.\n\n"
            "Donald Trump later left.\n\n"
            "Share this update Crowds gather Ron Page Trump said he would return.")
    found = speakers(text)
    assert "Mike Pence" not in found and not any("Page" in s for s in found)
    assert found == ["Donald Trump", "Donald Trump"]


def test_a_pronoun_goes_to_the_one_person_it_can_stand_for() -> None:
    text = ("Hungarian Prime Minister Viktor Orbán lost the election.\n\n"
            "In 2022, Orbán addressed a conference in Texas. He gave a speech titled \"How We Fight.\"\n\n"
            "“You cannot fight by liberal means,” he told the crowd.\n\n"
            "Trump praised Orbán. “He is a strong leader,” he said.\n\n"
            "Erika Vance met John Reed on Friday. “We agreed on nothing,” she said.")
    found = quotes(text)
    assert ("Viktor Orbán", "“You cannot fight by liberal means,” he told the crowd.") in found
    assert not any("strong leader" in t for _, t in found)  # Trump or Orbán: unresolved, so not attributed
    assert ("Erika Vance", "Erika Vance met John Reed on Friday. “We agreed on nothing,” she said.") in found \
        or ("Erika Vance", "“We agreed on nothing,” she said.") in found


def test_accented_names_in_either_unicode_form_and_straight_quotes() -> None:
    text = unicodedata.normalize("NFD", "Prime Minister Viktor Orbán conceded.\n\n\"The result is painful. But it "
                                        "is clear,\" Orbán said at the party offices.")
    found = quotes(text)
    assert [s for s, _ in found] == ["Viktor Orbán", "Viktor Orbán"]
    assert found[1][0] == unicodedata.normalize("NFC", found[1][0])  # stored in one form
    assert "painful" in found[1][1] and "clear" in found[1][1]  # the two-sentence quotation is one span


def test_quote_aware_spans_keep_a_quotation_whole_within_its_paragraph() -> None:
    text = "“One. Two. Three,” she said. Then silence.\n\n“An unclosed quote.\n\nNext paragraph."
    spans = [text[s:e] for s, e in quote_aware_spans(text)]
    assert spans == ["“One. Two. Three,” she said.", "Then silence.", "“An unclosed quote.", "Next paragraph."]


def test_quotes_found_by_an_older_version_are_found_again_at_the_next_ingest(engine: Engine, tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text("Guard sent\n\nGov. Jo Pritzker objected.\n\n“No,” Pritzker said.\n", encoding="utf-8")
    engine.ingest([story])
    engine.manifest.replace_quotes([q.model_copy(update={"speaker": "Pritzker’s"})
                                    for q in engine.manifest.quotes_of(engine.manifest.quote_speakers())], "1")
    report = engine.ingest([story])
    assert report.unchanged == ["story"]
    assert any("found the quotes of 1 articles again" in r for r in report.repaired)
    assert engine.manifest.quote_speakers() == ["Jo Pritzker"]
    assert engine.manifest.meta("quotes_version") == str(VERSION)
    assert not engine.ingest([story]).repaired  # once


def _inside_quotes_per_character(sentence: str) -> list[bool]:
    """The per-character walk inside_quotes replaced (a quarter of finding quotes): what it must still return."""
    out, depth, straight = [], 0, False
    for ch in sentence:
        if ch == "“":
            depth += 1
        elif ch == '"':
            straight = not straight
        out.append(depth > 0 or straight)
        if ch == "”":
            depth = max(0, depth - 1)
    return out


def test_inside_quotes_marks_what_the_per_character_walk_marked() -> None:
    import random

    from index.quotes import inside_quotes

    rng = random.Random(11)
    for _ in range(3000):
        sentence = "".join(rng.choice('ab “”"  .') for _ in range(rng.randint(0, 40)))
        assert inside_quotes(sentence) == _inside_quotes_per_character(sentence), sentence


def test_people_are_found_once_per_sentence_and_the_quotes_are_the_same(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each sentence's name runs are read once (they were read twice: to learn the article's people, then for
    whom a sentence mentions), and the quotes found do not change."""
    import index.quotes.speakers as speakers

    text = ("Illinois Gov. JB Pritzker spoke on Monday. “We will not allow it,” Pritzker said. He met Mayor Brandon "
            "Johnson later. “It is wrong,” he said. Johnson agreed. “We stand together,” the governor said.")
    article = Article(id="p", title="Guard", text=text)
    first = extract_quotes(article)
    calls: list[str] = []
    real = speakers.clean

    def counted(raw: str, before: str):  # type: ignore[no-untyped-def]
        calls.append(raw)
        return real.__wrapped__(raw, before)
    monkeypatch.setattr(speakers, "clean", counted)
    again = extract_quotes(article)
    assert [q.model_dump() for q in again] == [q.model_dump() for q in first]
    assert len(first) >= 2 and first[0].speaker == "JB Pritzker"
    runs = [m.group() for s, e in quote_aware_spans(text) for m in speakers.NAME_RE.finditer(text[s:e])]
    assert len(calls) <= len(runs) + 3  # one reading per run, plus the few `resolve` makes for a speaker
