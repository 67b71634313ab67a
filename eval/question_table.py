"""Every question of a run as one row of the report: the answer (or why it was refused), the verdicts, the gold
answers and articles, and what was retrieved. report.html adds filters (by outcome, answerability, refusal, or
one failure tag, and a text search over id, question and answer) in a few lines of inline script; report.md has the
same table without them.
"""

from __future__ import annotations

import html
import re
from typing import Any

COLUMNS = ["id", "question", "answer", "verdicts", "gold", "gold articles", "retrieved (top 5 articles)", "failures"]
SHOWN_ARTICLES = 5


def tag(name: str) -> str:
    return "t:" + re.sub(r"[^a-z0-9@]+", "-", name.lower()).strip("-")


def _mark(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "no")


def verdicts(r: dict[str, Any]) -> str:
    v, ret = r["verdicts"], r.get("retrieval") or {}
    parts = []
    if "answer_contains" in v:
        parts.append(f"contains gold {_mark(v['answer_contains'])}")
    if "token_f1" in v:
        parts.append(f"F1 {v['token_f1']:.2f}")
    parts.append("refused" if v["refused"] else "answered")
    if "refusal_correct" in v:
        parts.append(f"refusal right {_mark(v['refusal_correct'])}")
    if ret:
        rank = ret.get("first_gold_rank")
        parts.append(f"hit@5 {_mark(ret.get('hit@5'))}, gold rank {rank if rank else '>10'}")
    judged = [c["supported"] for c in r["claims"] if c["supported"] is not None]
    if r["claims"]:
        parts.append(f"supported {sum(judged)}/{len(r['claims'])}")
    return "; ".join(parts)


def question_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        answer = r.get("answer") or {}
        refused = r["verdicts"]["refused"]
        shown = r.get("error") or (f"(refused) {answer.get('refusal_reason') or answer.get('text', '')}" if refused
                                   else answer.get("text", ""))
        gold_ids = set(r.get("gold_article_ids") or [])
        ranked = list(dict.fromkeys((r.get("retrieval") or {}).get("ranked") or
                                    [p["article_id"] for p in answer.get("passages", [])]))[:SHOWN_ARTICLES]
        tags = ["failed" if r["failures"] else "passed", "refused" if refused else "answered",
                "answerable" if r["answerable"] else "unanswerable", *(tag(f) for f in r["failures"])]
        rows.append({"id": str(r["id"]), "question": r["question"], "answer": shown, "verdicts": verdicts(r),
                     "gold": " | ".join(r["answers"]) or ("(unanswerable)" if not r["answerable"] else "-"),
                     "gold articles": ", ".join(sorted(gold_ids)) or "-",
                     "retrieved (top 5 articles)": ", ".join(f"{a}*" if a in gold_ids else a for a in ranked) or "-",
                     "failures": "; ".join(r["failures"]) or "-", "tags": tags})
    return rows


def markdown_table(rows: list[dict[str, Any]], short: Any) -> list[str]:
    lines = [f"## Every question ({len(rows)})", "", "Retrieved articles marked * are gold. report.html can filter "
             "this table.", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(short(str(row[c])).replace("|", "\\|") for c in COLUMNS) + " |")
    return lines


FILTER_JS = """(function () {
  var pick = document.getElementById('nr-qfilter'), find = document.getElementById('nr-qsearch');
  var count = document.getElementById('nr-qcount');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#nr-questions tbody tr'));
  function apply() {
    var want = pick.value, q = find.value.toLowerCase().trim(), shown = 0;
    rows.forEach(function (r) {
      var ok = (!want || r.getAttribute('data-tags').split(' ').indexOf(want) >= 0) &&
               (!q || r.getAttribute('data-text').indexOf(q) >= 0);
      r.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + ' of ' + rows.length + ' questions';
  }
  pick.addEventListener('change', apply);
  find.addEventListener('input', apply);
  apply();
})();"""


def html_table(rows: list[dict[str, Any]], short: Any) -> str:
    e = html.escape
    present = sorted({t for row in rows for t in row["tags"] if t.startswith("t:")})
    labels = {tag(f): f for row in rows for f in row["failures"].split("; ") if f != "-"}
    options = [("", "all questions"), ("failed", "with a failure"), ("passed", "without failures"),
               ("answered", "answered"), ("refused", "refused"), ("answerable", "answerable"),
               ("unanswerable", "unanswerable"), *((t, f"failure: {labels.get(t, t)}") for t in present)]
    parts = [f"<h2>Every question ({len(rows)})</h2><p class='filters'>Show <select id='nr-qfilter'>",
             *(f"<option value='{e(v)}'>{e(text)}</option>" for v, text in options),
             "</select> <input id='nr-qsearch' type='search' placeholder='search id, question, answer'> "
             "<span id='nr-qcount'></span> (retrieved articles marked * are gold)</p>",
             "<table id='nr-questions'><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in COLUMNS) + "</tr></thead>"
             "<tbody>"]
    for row in rows:
        text = " ".join((row["id"], row["question"], row["answer"])).lower()
        parts.append(f"<tr data-tags='{e(' '.join(row['tags']))}' data-text='{e(text)}'>"
                     + "".join(f"<td>{e(short(str(row[c]), 300))}</td>" for c in COLUMNS) + "</tr>")
    parts.append(f"</tbody></table><script>{FILTER_JS}</script>")
    return "".join(parts)
