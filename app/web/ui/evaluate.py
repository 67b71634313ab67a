"""The "Evaluate" tab: human ratings of answers, sentence by sentence, stored in app/quality/ratings.py's SQLite store.

Mount it inside the UI's Blocks:

    with gr.Tab("Evaluate", elem_id="nr-eval-tab"):
        build_eval_tab(engine, RatingsStore(ratings_path(settings.data_dir)))

A rater gives their name, then either loads the next answer nobody asked them about yet (imported from an eval
run with `newsrag eval annotate --import results.jsonl`) or asks a new question; marks each sentence supported /
not supported / unsure against the passage it cites (shown beside it, the cited span marked and its speaker
named), and the answer correct or not. `newsrag eval agreement`
reports Cohen's kappa between raters and between raters and the judges.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import gradio as gr

from app.errors import NewsragError
from app.quality.citations import judge_claims
from app.quality.judges import make_judge
from app.web.ui.access import UIAccess
from app.web.ui.evidence import claim_html, evidence
from index.quotes import extract_quotes

if TYPE_CHECKING:
    from app.engine import Engine
    from app.quality.ratings import RatingsStore

MAX_SENTENCES = 8
SENTENCE_CHOICES = [("supported", "supported"), ("not supported", "not_supported"), ("unsure", "unsure")]
ANSWER_CHOICES = [("yes", "yes"), ("no", "no"), ("unsure", "unsure")]
INTRO = ("### Rate answers\nGive your name, then load the next answer to rate (or ask a new question). For each "
         "sentence, read **the passage it cites** (the cited words are marked, with who says them) and decide "
         "whether that passage supports the sentence; then whether the answer is correct.")


def answer_html(item: dict[str, Any]) -> str:
    return f"<p class='nr-eval-answer'>{html.escape(item['answer']['text'])}</p>"


class EvalTabActions:
    """The tab's event handlers. Each returns the full view: (item id, header, answer, rows..., sentences...,
    radios..., correct, comment, status). Asking is answering (the questions-per-minute limit the chat and
    /api/ask share); saving a rating is feedback (the /api/feedback limit), not a write to the index."""

    def __init__(self, engine: Engine, store: RatingsStore, access: UIAccess | None = None):
        self.engine, self.store = engine, store
        self.access = access or UIAccess.standalone(engine.settings)
        self._judge: Any = None

    def claims(self, item: dict[str, Any]) -> list[str]:
        """Each sentence's HTML with the passages it cites (the article's text and quotes, when still indexed)."""
        answer = item["answer"]
        texts: dict[str, tuple[str | None, list[Any]]] = {}
        for c in answer.get("citations", []):
            if c["article_id"] not in texts:
                try:
                    article = self.engine.article(c["article_id"])
                    texts[c["article_id"]] = (article.text, extract_quotes(article))
                except NewsragError:  # removed since: the stored passages still show
                    texts[c["article_id"]] = (None, [])
        cite = {c["n"]: c["article_id"] for c in answer.get("citations", [])}
        out = []
        for i, claim in enumerate(item["claims"][:MAX_SENTENCES], 1):
            found = [e for e in (evidence(answer, x["n"], *texts.get(cite.get(x["n"], ""), (None, [])))
                                 for x in claim["citations"]) if e is not None]
            out.append(claim_html(i, claim["text"], found))
        return out

    def _view(self, item: dict[str, Any] | None, status: str, keep: list[Any] | None = None) -> tuple[Any, ...]:
        n = len(item["claims"]) if item else 0
        values = keep or [None] * MAX_SENTENCES
        htmls = self.claims(item) if item else []
        rows = [gr.update(visible=i < n) for i in range(MAX_SENTENCES)]
        sentences = [gr.update(value=htmls[i] if i < len(htmls) else "") for i in range(MAX_SENTENCES)]
        radios = [gr.update(value=values[i], label=f"Sentence {i + 1}") for i in range(MAX_SENTENCES)]
        views = (*rows, *sentences, *radios)
        if item is None:
            return (None, "", "", *views, gr.update(value=None), gr.update(value=""), status)
        header = f"**Question:** {item['question']}" + (f"  \n*({item['question_id']})*" if item["question_id"] else "")
        return (item["id"], header, answer_html(item), *views, gr.update(value=None), gr.update(value=""), status)

    def load_next(self, rater: str) -> tuple[Any, ...]:
        if not (rater or "").strip():
            return self._view(None, "Give your name first.")
        item = self.store.next_item(rater.strip())
        return self._view(item, "" if item else "Nothing left to rate: ask a new question, or import an eval run "
                                                "(`newsrag eval annotate --import DIR/results.jsonl`).")

    def ask(self, question: str, rater: str, request: gr.Request) -> tuple[Any, ...]:
        try:
            self.access.ask(request)
            answer = self.engine.ask(question)
        except NewsragError as exc:
            return self._view(None, f"Could not answer: {exc}")
        if answer.refused:
            return self._view(None, f"The answer was a refusal, nothing to rate: {answer.refusal_reason}")
        if self._judge is None:
            self._judge = make_judge("offline", self.engine.settings, self.engine.embedder)
        claims = [c.as_dict() for c in judge_claims(answer, self._judge)]
        iid = self.store.add_answer(answer, claims, origin="ui",
                                    judges={"offline": [c["supported"] for c in claims]})
        return self._view(self.store.item(iid), "" if (rater or "").strip() else "Give your name before saving.")

    def save(self, request: gr.Request, iid: str | None, rater: str, *values: Any) -> tuple[Any, ...]:
        """`request` comes first: Gradio passes it only to a positional parameter, and the radios are `*values`."""
        *labels, correct, comment = values
        if not iid:
            return self._view(None, "Load an answer first.")
        item = self.store.item(iid)
        n = len(item["claims"])
        chosen = list(labels[:min(n, MAX_SENTENCES)])
        missing = [i + 1 for i, v in enumerate(chosen) if not v]
        if missing or not correct:
            what = f"sentence(s) {', '.join(map(str, missing))}" if missing else "whether the answer is correct"
            keep = self._view(item, f"Please rate {what} before saving.", list(labels))
            return (*keep[:-3], gr.update(value=correct), gr.update(value=comment), keep[-1])  # what was chosen stays
        try:
            self.access.rate(request)
            self.store.rate(iid, rater, chosen + [None] * (n - len(chosen)), correct, comment)
        except NewsragError as exc:
            return self._view(item, str(exc))
        nxt = self.store.next_item(rater.strip())
        return self._view(nxt, "Saved. " + ("Next answer below." if nxt else "Nothing left to rate."))


def build_eval_tab(engine: Engine, ratings_store: RatingsStore, access: UIAccess | None = None) -> EvalTabActions:
    """Create the tab's components inside the caller's `gr.Blocks` / `gr.Tab` context and wire them."""
    act = EvalTabActions(engine, ratings_store, access)
    gr.Markdown(INTRO)
    with gr.Row():
        rater = gr.Textbox(label="Your name (rater)", elem_id="nr-eval-rater", scale=2)
        load = gr.Button("Next answer to rate", elem_id="nr-eval-next", scale=1)
    with gr.Row():
        question = gr.Textbox(label="Or ask a new question to rate", elem_id="nr-eval-question", scale=4)
        ask = gr.Button("Ask", elem_id="nr-eval-ask", scale=1)
    item = gr.State(None)
    header = gr.Markdown(elem_id="nr-eval-header")
    answer = gr.HTML(elem_id="nr-eval-claims")
    rows, sentences, radios = [], [], []
    for i in range(MAX_SENTENCES):  # one row per sentence: what it cites on the left, its rating beside it
        with gr.Row(visible=False, elem_id=f"nr-eval-row{i + 1}", equal_height=False) as row:
            with gr.Column(scale=3, min_width=300):
                sentences.append(gr.HTML(elem_id=f"nr-eval-claim{i + 1}"))
            with gr.Column(scale=1, min_width=200):
                radios.append(gr.Radio(SENTENCE_CHOICES, label=f"Sentence {i + 1}", elem_id=f"nr-eval-s{i + 1}"))
        rows.append(row)
    correct = gr.Radio(ANSWER_CHOICES, label="Does the answer answer the question correctly?",
                       elem_id="nr-eval-correct")
    comment = gr.Textbox(label="Comment (optional)", elem_id="nr-eval-comment", max_lines=3)
    save = gr.Button("Save ratings", variant="primary", elem_id="nr-eval-save")
    status = gr.Markdown(elem_id="nr-eval-status")
    outputs = [item, header, answer, *rows, *sentences, *radios, correct, comment, status]
    load.click(act.load_next, [rater], outputs)
    ask.click(act.ask, [question, rater], outputs)
    question.submit(act.ask, [question, rater], outputs)
    save.click(act.save, [item, rater, *radios, correct, comment], outputs)
    return act
