"""What retrieval reads from the manifest (app/answering/retrieve.py: `_Candidates`): the rows, articles and
near-duplicate groups of the first block of fused candidates, not of all ~200, and the same passages in the same
order as reading everything first (the code before, kept here as the reference)."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.answering.fusion import POOL, choose, near_copy, rrf, shingles
from app.answering.retrieve import HybridRetriever
from app.engine import Engine

BLOCK = 16  # app/answering/retrieve.py: _Candidates.BLOCK
WORDS = "ferry harbour council fares strike tram budget school storm flood bridge union vote mayor".split()


def _corpus(engine: Engine, tmp_path: Path, n: int = 60) -> None:
    """n short articles over a small vocabulary (many equal fused scores), some of them syndicated copies."""
    rng = random.Random(7)
    records = []
    for i in range(n):
        body = " ".join(rng.choice(WORDS) for _ in range(30))
        if i % 10 == 9:
            body = records[i - 1]["text"]  # a copy: one near-duplicate group, and a near-copy passage
        records.append({"id": f"a{i:02d}", "title": f"Story {i}", "text": body,
                        "date": f"2026-01-{1 + i % 28:02d}", "source": f"s{i % 3}.example"})
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert engine.ingest([path]).ok


def _spy(monkeypatch: pytest.MonkeyPatch, obj: Any, name: str, asked: list[int]) -> None:
    real: Callable[..., Any] = getattr(obj, name)

    def counted(ids: Any, *args: Any) -> Any:
        ids = list(ids)
        asked.append(len(ids))
        return real(ids, *args)
    monkeypatch.setattr(obj, name, counted)


def test_only_the_first_block_of_candidates_is_read(engine: Engine, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, every question read the rows of all fused candidates (~200) and the groups of all their articles:
    ~1.2 + 3.8 ms a question at 100k chunks, for the 6 passages that come from the first dozen."""
    _corpus(engine, tmp_path)
    rows: list[int] = []
    grouped: list[int] = []
    _spy(monkeypatch, engine.manifest, "chunks_by_id", rows)
    assert engine.groups is not None
    _spy(monkeypatch, engine.groups, "keys", grouped)
    got = engine.retriever.retrieve("ferry harbour fares", 2)
    assert len(got) == 2
    assert rows and sum(rows) <= BLOCK, rows
    assert sum(grouped) <= BLOCK, grouped


def _reference(r: HybridRetriever, query: str, k: int, filters: dict[str, Any] | None) -> list[str]:
    """The chunk ids the retriever chose before `Candidates` (app/answering/fusion.py): every row read first, in
    the manifest's order."""
    from app.answering.retrieve import _keep, recency

    vector = r.embedder.embed([query])[0]
    dense, sparse = r._search(query, vector, max(POOL, 4 * k), filters or {})
    fused = rrf([dense, sparse])
    rows = r.manifest.chunks_by_id(list(fused))
    order = sorted(rows, key=lambda c: -fused[c])
    ids = list(dict.fromkeys(rows[c]["article_id"] for c in order))
    articles = r.manifest.articles(ids)
    if filters and filters.get("prefer_from"):
        factors = {a: recency(articles[a].date, filters, r.recency_weight) for a in ids if a in articles}
        fused = {c: f * factors.get(rows[c]["article_id"], 1.0) if c in rows else f for c, f in fused.items()}
        order = sorted(rows, key=lambda c: -fused[c])
    groups = r.groups.of(ids) if r.groups else {}

    def article_of(cid: str) -> str | None:
        art = articles.get(rows[cid]["article_id"])
        if art is None or not _keep(art, filters):
            return None
        return groups[art.id][0] if art.id in groups else art.id

    def text_of(cid: str) -> str | None:
        art = articles.get(rows[cid]["article_id"])
        return art.text[rows[cid]["start"]:rows[cid]["end"]] if art else None
    return choose(order, article_of, text_of, k, r.per_article, lambda cid: rows[cid]["article_id"])


@pytest.mark.parametrize("filters", [None, {"as_of": "2026-01-20"}, {"source": "s1.example"},
                                     {"prefer_from": "2026-01-10", "prefer_to": "2026-01-16"}])
def test_the_passages_are_those_of_reading_everything_first(engine: Engine, tmp_path: Path,
                                                            filters: dict[str, Any] | None) -> None:
    _corpus(engine, tmp_path)
    assert isinstance(engine.retriever, HybridRetriever)
    for n, query in enumerate(["ferry harbour fares", "storm flood bridge", "union vote", "school budget mayor"]):
        k = 3 + 2 * n
        got = [p.chunk_id for p in engine.retriever.retrieve(query, k, filters)]
        assert got == _reference(engine.retriever, query, k, filters), (query, filters)


def test_shingles_judge_copies_as_the_joined_5_grams_did() -> None:
    def joined(text: str) -> set[str]:
        words = re.findall(r"\w+", text.lower())
        return {" ".join(words[i:i + 5]) for i in range(max(1, len(words) - 4))}
    rng = random.Random(3)
    texts = [" ".join(rng.choice(WORDS[:5]) for _ in range(rng.randint(0, 9))) for _ in range(300)]
    for a, b in itertools.pairwise(texts):
        assert len(shingles(a)) == len(joined(a))
        assert near_copy(shingles(a), shingles(b)) == near_copy(joined(a), joined(b))  # type: ignore[arg-type]


def test_spare_slots_go_to_the_chosen_articles_and_copies_texts_are_never_read(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three stories, each also published by three other outlets word for word (one group each): with k = 6 the
    cap yields, and the spare slots go to further chunks of the three articles chosen. Before, they went through
    every copy's chunks, each read and compared (~110 candidates a question in the bench's copied 10k index)."""
    rng = random.Random(3)
    records = []
    for story in range(3):
        body = " ".join(rng.choice(WORDS) + ("." if i % 12 == 11 else "") for i in range(700))
        for outlet in range(4):
            records.append({"id": f"s{story}-{outlet}", "title": f"Story {story}",
                            "text": f"{body} Reported for outlet {outlet}.",
                            "date": "2026-01-05", "source": f"o{outlet}.example"})
    path = tmp_path / "copies.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert len(engine.ingest([path]).added) == 12
    texts: list[str] = []
    real = engine.manifest.text
    monkeypatch.setattr(engine.manifest, "text", lambda a: texts.append(a) or real(a))
    got = engine.retriever.retrieve("ferry harbour fares strike", 6)
    assert len(got) == 6
    chosen = {p.article_id for p in got}
    assert len(chosen) == 3 and len({a.split("-")[0] for a in chosen}) == 3  # one article per story ...
    assert all(len(p.also_in) == 3 for p in got)  # ... citing its three copies
    assert set(texts) == chosen  # no copy's text was read
