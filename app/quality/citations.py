"""Faithfulness and ALCE-style citation quality of one Answer, judged claim by claim.

Claims are the answer text split exactly as the answer chain splits it (app/answering/claims.py); each claim's
`[n]` markers point at `Answer.citations`. The evidence of a citation is the retrieved passage that contains its
quoted span (`--evidence passage`, the default) or only the quoted span (`--evidence quote`).

Per claim (Gao et al. 2023, ALCE):
  supported  = judge(claim, the union of its cited evidence); a claim with no citation, or citing a number the
               answer does not have, is unsupported without asking the judge.
  relevant   = for each citation of a supported claim: with one citation it is relevant; with several it is
               irrelevant when it alone does not support the claim AND the other citations still do.
               Every citation of an unsupported claim is irrelevant.
A judge failure leaves `supported` / `relevant` as None: it is counted, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from app.answering.claims import bare, markers, split_claims
from app.quality.judges import CountingJudge, JudgeFailure
from app.types import Answer

Evidence = Literal["passage", "quote"]


@dataclass
class Claim:
    text: str
    citations: list[int]  # distinct citation numbers, in the order they appear
    duplicates: int = 0  # repeated markers of the same citation in this claim
    inherited: bool = False  # had no marker; shares the next claim's citation whose quote contains it verbatim
    supported: bool | None = None
    reason: str = ""
    relevant: dict[int, bool | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["relevant"] = {str(k): v for k, v in self.relevant.items()}
        return out


def claims_of(answer: Answer) -> list[Claim]:
    """The claims of a shown answer (none for a refusal)."""
    if answer.refused:
        return []
    claims = []
    for raw in split_claims(answer.text):
        text = re.sub(r"\s*\[unverified\]", "", bare(raw)).strip()
        if not re.search(r"\w", text):
            continue
        found = markers(raw)
        distinct = list(dict.fromkeys(found))
        claims.append(Claim(text, distinct, len(found) - len(distinct)))
    quotes = {c.n: c.quote for c in answer.citations}
    for i, claim in enumerate(claims):
        # A cited quote of several sentences is split into several claims; only the last one carries the marker.
        if not claim.citations:
            nxt = next((c for c in claims[i + 1:] if c.citations), None)
            if nxt and any(claim.text in quotes.get(n, "") for n in nxt.citations):
                claim.citations, claim.inherited = list(nxt.citations), True
    return claims


def evidence_of(answer: Answer, n: int, mode: Evidence = "passage") -> str | None:
    cited = next((c for c in answer.citations if c.n == n), None)
    if cited is None:
        return None
    if mode == "passage":
        for p in answer.passages:
            if p.article_id == cited.article_id and p.start <= cited.start and cited.end <= p.end:
                return p.text
    return cited.quote


def _union(texts: list[str]) -> str:
    return "\n\n".join(dict.fromkeys(texts))


def judge_claims(answer: Answer, judge: CountingJudge, mode: Evidence = "passage") -> list[Claim]:
    claims = claims_of(answer)
    for claim in claims:
        if not claim.citations:
            claim.supported, claim.reason = False, "no citation"
            continue
        found = {n: evidence_of(answer, n, mode) for n in claim.citations}
        unknown = [n for n, e in found.items() if e is None]
        if unknown:
            claim.supported, claim.reason = False, f"cites [{unknown[0]}], which the answer does not have"
            claim.relevant = dict.fromkeys(claim.citations, False)
            continue
        ev = {n: str(e) for n, e in found.items()}
        joint = judge(claim.text, _union(list(ev.values())))
        if isinstance(joint, JudgeFailure):
            claim.supported, claim.reason = None, f"judge failure: {joint.reason}"
            claim.relevant = dict.fromkeys(claim.citations, None)
            continue
        claim.supported, claim.reason = joint.supported, joint.reason
        if not joint.supported or len(claim.citations) == 1:
            claim.relevant = dict.fromkeys(claim.citations, joint.supported)
            continue
        for n in claim.citations:
            alone = judge(claim.text, ev[n])
            if isinstance(alone, JudgeFailure):
                claim.relevant[n] = None
            elif alone.supported:
                claim.relevant[n] = True
            else:
                rest = judge(claim.text, _union([e for m, e in ev.items() if m != n]))
                claim.relevant[n] = None if isinstance(rest, JudgeFailure) else not rest.supported
    return claims


def answer_scores(claims: list[Claim]) -> dict[str, Any]:
    """Per-answer citation recall and precision: a float, None for a judge failure, or absent when not
    applicable (no claims: recall; no citations: precision)."""
    out: dict[str, Any] = {}
    if claims:
        sup = [c.supported for c in claims]
        out["citation_recall"] = None if None in sup else sum(map(bool, sup)) / len(sup)
    rel = [v for c in claims for v in c.relevant.values()]  # one verdict per citation of each claim
    if rel:
        out["citation_precision"] = None if None in rel else sum(map(bool, rel)) / len(rel)
    return out
