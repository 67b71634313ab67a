"""The "Evaluate" tab: human ratings of answers, sentence by sentence, stored in app/quality/ratings.py's SQLite store.

Mount it inside the UI's Blocks:

    with gr.Tab("Evaluate", elem_id="nr-eval-tab"):
        build_eval_tab(engine, RatingsStore(ratings_path(settings.data_dir)))

A rater gives their name, then either loads the next answer nobody asked them about yet (imported from an eval
run with `newsrag eval annotate --import results.jsonl`) or asks a new question; marks each sentence supported /
not supported / unsure against its cited quotes, and the answer correct or not. `newsrag eval agreement`
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

if TYPE_CHECKING:
    from app.engine import Engine
    from app.quality.ratings import RatingsStore

MAX_SENTENCES = 8
SENTENCE_CHOICES = [("supported", "supported"), ("not supported", "not_supported"), ("unsure", "unsure")]
ANSWER_CHOICES = [("yes", "yes"), ("no", "no"), ("unsure", "unsure")]
INTRO = ("### Rate answers\nGive your name, then load the next answer to rate (or ask a new question). For each "
         "sentence, decide whether **its quoted sources** support it, then whether the answer is correct.")


def claims_html(item: dict[str, Any]) -> str:
    e = html.escape
    parts = [f"<p class='nr-eval-answer'>{e(item['answer']['text'])}</p><ol class='nr-eval-claims'>"]
    for claim in item["claims"][:MAX_SENTENCES]:
        quotes = "".join(f"<blockquote><b>[{c['n']}] {e(c['title'])}</b><br>“{e(c['quote'])}”</blockquote>"
                         for c in claim["citations"]) or "<p><i>(no citation)</i></p>"
        parts.append(f"<li><p>{e(claim['text'])}</p>{quotes}</li>")
    return "".join(parts) + "</ol>"


class EvalTabActions:
    """The tab's event handlers. Each returns the full view: (item id, header, claims, radios..., correct,
    comment, status). Asking is answering (the questions-per-minute limit the chat and /api/ask share); saving a
    rating is feedback (the /api/feedback limit), not a write to the index."""

    def __init__(self, engine: Engine, store: RatingsStore, access: UIAccess | None = None):
        self.engine, self.store = engine, store
        self.access = access or UIAccess.standalone(engine.settings)
        self._judge: Any = None

    def _view(self, item: dict[str, Any] | None, status: str) -> tuple[Any, ...]:
        n = len(item["claims"]) if item else 0
        radios = [gr.update(visible=i < n, value=None, label=f"Sentence ({i + 1})") for i in range(MAX_SENTENCES)]
        if item is None:
            return (None, "", "", *radios, gr.update(value=None), gr.update(value=""), status)
        header = f"**Question:** {item['question']}" + (f"  \n*({item['question_id']})*" if item["question_id"] else "")
        return (item["id"], header, claims_html(item), *radios, gr.update(value=None), gr.update(value=""), status)

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
            keep = self._view(item, f"Please rate {what} before saving.")
            # keep what the rater already chose
            return (*keep[:3], *[gr.update(visible=i < n, value=labels[i]) for i in range(MAX_SENTENCES)],
                    gr.update(value=correct), gr.update(value=comment), keep[-1])
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
    claims = gr.HTML(elem_id="nr-eval-claims")
    radios = [gr.Radio(SENTENCE_CHOICES, label=f"Sentence ({i + 1})", visible=False, elem_id=f"nr-eval-s{i + 1}")
              for i in range(MAX_SENTENCES)]
    correct = gr.Radio(ANSWER_CHOICES, label="Does the answer answer the question correctly?",
                       elem_id="nr-eval-correct")
    comment = gr.Textbox(label="Comment (optional)", elem_id="nr-eval-comment", max_lines=3)
    save = gr.Button("Save ratings", variant="primary", elem_id="nr-eval-save")
    status = gr.Markdown(elem_id="nr-eval-status")
    outputs = [item, header, claims, *radios, correct, comment, status]
    load.click(act.load_next, [rater], outputs)
    ask.click(act.ask, [question, rater], outputs)
    question.submit(act.ask, [question, rater], outputs)
    save.click(act.save, [item, rater, *radios, correct, comment], outputs)
    return act
