"""Turn a model's cited text into a verified Answer: split it into claims, check each claim against the
passages its [n] markers point at, drop (or flag) what is unsupported, renumber the surviving citations
and quote the exact span of each passage that supports the claim."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from app.answering.base import citation, refusal
from app.answering.support import Judge
from app.types import Answer, Citation, Passage, SentenceVerdict
from index.text import sentence_spans

_MARKS = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMS = r"(\d+(?:\s*(?:,|and|&)\s*\d+)*)"  # "2", "2, 3", "2 and 3"
_PASSAGE = rf"(?:the\s+)?passages?\s+{_NUMS}"
# Small models cite in words ("as stated in passage 2", "(Passage 2)", "According to passage 2, ..."): each form is
# rewritten to [n] markers before the claims are checked, so a right answer is not withdrawn for its citation style.
_WORDED = [
    (re.compile(rf"(?:^|(?<=[.!?]\s))according\s+to\s+{_PASSAGE}\s*,\s*(\w)([^.!?]*)([.!?])", re.I | re.M),
     lambda m: f"{m.group(2).upper()}{m.group(3)} {_as_markers(m.group(1))}{m.group(4)}"),
    (re.compile(rf"\s*[(\[]\s*(?:see\s+|from\s+|in\s+)?{_PASSAGE}\s*[)\]]", re.I),
     lambda m: f" {_as_markers(m.group(1))}"),
    (re.compile(rf",?\s*(?:as\s+)?(?:(?:stated|mentioned|reported|noted|said|described|shown|quoted)\s+in|"
                rf"according\s+to|in|from)\s+{_PASSAGE}", re.I),
     lambda m: f" {_as_markers(m.group(1))}"),
    (re.compile(rf"\b{_PASSAGE}", re.I), lambda m: _as_markers(m.group(1))),
]


def _as_markers(numbers: str) -> str:
    return "".join(f"[{n}]" for n in re.findall(r"\d+", numbers))


def normalise_markers(text: str) -> str:
    """'[1, 2]' -> '[1][2]'; 'in passage 2' -> '[2]'; 'Syria. [1]' -> 'Syria [1].' so each marker stays inside its
    sentence, unless the answer puts its markers first ('[1] Kerry said ... [2] Lavrov said ...'): then each marker
    already begins the sentence it belongs to and is left there."""
    text = _MARKS.sub(lambda m: _as_markers(m.group(1)), text)
    for pattern, repl in _WORDED:
        text = pattern.sub(repl, text)
    if re.match(r"\s*\[\d+\]", text):
        return text
    return re.sub(r"([.!?][”\"’]?)\s*((?:\[\d+\]\s*)+)", lambda m: f" {m.group(2).strip()}{m.group(1)} ", text)


def split_claims(text: str) -> list[str]:
    text = normalise_markers(text)
    return [text[s:e].strip() for s, e in sentence_spans(text) if re.search(r"\w", text[s:e])]


def markers(claim: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", claim)]


def bare(claim: str) -> str:
    return re.sub(r"\s*\[\d+\]", "", claim).strip()


@dataclass
class Support:
    passage: Passage
    start: int  # article offsets of the span that supports the claim
    end: int


class SentenceChecker:
    """Checks each claim against the passages it cites. With `cite_uncited`, a claim the model left without a
    marker is checked against every passage and cited to the one that supports it best (small models often drop
    the markers of right sentences); it is still withdrawn when none supports it."""

    def __init__(self, judge: Judge, cite_uncited: bool = False):
        self.judge, self.cite_uncited = judge, cite_uncited
        self._supports: dict[str, list[Support]] = {}
        self._verdicts: dict[str, SentenceVerdict] = {}
        self.elapsed_ms = 0.0

    def check(self, claim: str, passages: list[Passage]) -> SentenceVerdict:
        """Verdicts are remembered: a claim checked while streaming is not checked again at the end."""
        if claim not in self._verdicts:
            t0 = time.perf_counter()
            self._verdicts[claim] = self._check(claim, passages)
            self.elapsed_ms += (time.perf_counter() - t0) * 1000
        return self._verdicts[claim].model_copy()

    def _check(self, claim: str, passages: list[Passage]) -> SentenceVerdict:
        cited = markers(claim)
        text = bare(claim)
        searched = not cited and self.cite_uncited and bool(passages)
        if searched:
            cited = list(range(1, len(passages) + 1))
        if not cited:
            return SentenceVerdict(text=text, citations=[], supported=False, reason="no citation")
        unknown = [n for n in cited if not 1 <= n <= len(passages)]
        if unknown:
            return SentenceVerdict(text=text, citations=cited, supported=False,
                                   reason=f"cites passage {unknown[0]}, which does not exist")
        verdicts = [(n, self.judge.judge(text, passages[n - 1].text)) for n in dict.fromkeys(cited)]
        good = [(n, v) for n, v in verdicts if v.supported]
        best = max(verdicts, key=lambda nv: nv[1].score)[1]
        if searched:
            good = sorted(good, key=lambda nv: -nv[1].score)[:1]
            if not good:
                return SentenceVerdict(text=text, citations=[], supported=False, score=round(best.score, 3),
                                       reason=f"no citation, and no passage supports it ({best.reason})")
        if not good:
            return SentenceVerdict(text=text, citations=cited, supported=False, score=round(best.score, 3),
                                   reason=best.reason)
        self._supports[claim] = [Support(passages[n - 1], passages[n - 1].start + v.start,
                                         passages[n - 1].start + v.end) for n, v in good]
        return SentenceVerdict(text=text, citations=[n for n, _ in good], supported=True,
                               score=round(max(v.score for _, v in good), 3), reason=good[0][1].reason)

    def supports(self, claim: str) -> list[Support]:
        return self._supports.get(claim, [])


def assemble(question: str, passages: list[Passage], claims: list[str], checker: SentenceChecker,
             drop_unsupported: bool, answerer: str) -> Answer:
    verdicts = [checker.check(c, passages) for c in claims]
    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for claim, verdict in zip(claims, verdicts, strict=True):
        if not verdict.supported:
            if not drop_unsupported:
                parts.append(f"{verdict.text} [unverified]")
            continue
        refs = []
        for s in checker.supports(claim):
            key = (s.passage.article_id, s.start, s.end)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                citations.append(citation(numbers[key], s.passage, s.start, s.end))
            refs.append(numbers[key])
        verdict.citations = refs
        parts.append(verdict.text.rstrip() + " " + "".join(f"[{n}]" for n in dict.fromkeys(refs)))
    removed = sum(not v.supported for v in verdicts)
    notices = []
    if removed:
        word = "sentence" if removed == 1 else "sentences"
        notices.append(f"{removed} unsupported {word} removed" if drop_unsupported
                       else f"{removed} {word} could not be verified")
    if not citations:
        reasons = "; ".join(sorted({v.reason for v in verdicts})) or "empty answer"
        answer = refusal(question, f"the model's answer could not be verified against the articles ({reasons}).",
                         answerer, passages)
        answer.sentences, answer.notices = verdicts, notices
        return answer
    return Answer(question=question, text=" ".join(parts), citations=citations, sentences=verdicts,
                  passages=passages, answerer=answerer, notices=notices)
