"""The Evaluate tab's evidence (app/web/ui/evidence.py and the tab's handlers): each sentence shows the passage it
cites, the cited span marked, and who says it, so a quote given to the wrong person is visible to the rater."""

from __future__ import annotations

from pathlib import Path

from app.engine import Engine
from app.quality.ratings import RatingsStore
from app.web.ui.evaluate import MAX_SENTENCES, EvalTabActions
from app.web.ui.evidence import claim_html, evidence
from index.quotes import extract_quotes
from tests.gradio_api import request_from

KERRY_SAID = "cannot be defeated as long as Bashar al-Assad remains president of Syria"


def misattributed(engine: Engine) -> dict:
    """An answer that gives Kerry's words to Lavrov, citing Kerry's sentence."""
    answer = engine.ask("What did Kerry say about Assad?").model_dump()
    answer["text"] = f"Mr Lavrov said the militant group “{KERRY_SAID}”. [1]"
    return answer


def test_the_cited_passage_names_its_speaker(sample_engine: Engine) -> None:
    answer = misattributed(sample_engine)
    c = answer["citations"][0]
    article = sample_engine.article(c["article_id"])
    found = evidence(answer, 1, article.text, extract_quotes(article))
    assert found is not None and (found.speaker, found.role) == ("John Kerry", "US secretary")
    assert found.quote == c["quote"] and found.before and found.after  # the passage around the span, not the span
    html = claim_html(1, "Mr Lavrov said the militant group cannot be defeated...", [found])
    assert "Speaker: <b>John Kerry</b>, US secretary" in html and f"<mark>{c['quote']}</mark>" in html
    assert "Lavrov" in html.split("nr-eval-evidence")[0]  # the sentence, then what it cites
    # without the article (removed since), the stored passages still show the span, its context and speaker lane
    stored = evidence(answer, 1)
    assert stored is not None and stored.quote == c["quote"] and stored.before
    assert evidence(answer, 9) is None
    assert "no citation" in claim_html(2, "An uncited sentence.", [])


def test_markup_in_a_passage_stays_text(sample_engine: Engine) -> None:
    answer = misattributed(sample_engine)
    p = next(p for p in answer["passages"] if p["article_id"] == answer["citations"][0]["article_id"])
    p["text"] = p["text"][:10].replace(p["text"][:1], "<img src=x onerror=alert(1)>", 1) + p["text"][10:]
    found = evidence(answer, 1)
    assert found is not None and "<img" not in claim_html(1, "<b>x</b>", [found]).replace("&lt;img", "")


def test_the_tab_lays_out_one_row_per_sentence(sample_engine: Engine, tmp_path: Path) -> None:
    act = EvalTabActions(sample_engine, RatingsStore(tmp_path / "ratings.sqlite"))
    view = act.ask("What did Putin say?", "dana", request_from())
    iid, _, shown, *rest = view
    assert "Putin" in shown
    rows, sentences = rest[:MAX_SENTENCES], rest[MAX_SENTENCES:2 * MAX_SENTENCES]
    n = len(act.store.item(iid)["claims"])
    assert n >= 2 and [r["visible"] for r in rows] == [True] * n + [False] * (MAX_SENTENCES - n)
    assert all("Speaker: <b>Vladimir Putin</b>" in s["value"] for s in sentences[:n])
    assert all("<mark>" in s["value"] for s in sentences[:n]) and sentences[n]["value"] == ""
