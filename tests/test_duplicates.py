"""Syndicated copies: near-duplicate articles are grouped at ingest, retrieval shows one passage per group, and the
citation lists the other outlets."""

from __future__ import annotations

import json
from pathlib import Path

from app.engine import Engine, build_engine
from app.render import render
from index.duplicates import close_in_time, signature, similarity
from tests.conftest import make_settings

WIRE = [
    "The city council approved a plan on Tuesday to rebuild the Harbor Street bridge, which has been closed since "
    "a barge struck one of its piers in January.",
    "Work is expected to begin in May and last about fourteen months, according to the transportation department, "
    "which estimated the cost at 48 million dollars.",
    "Mayor Elena Ruiz said the vote ended months of uncertainty for commuters who have been taking a detour of "
    "nearly six miles through the industrial district.",
    "The state will cover roughly two thirds of the cost through an emergency infrastructure fund, and the "
    "remainder will come from municipal bonds approved by voters last fall.",
    "Engineers found that the damaged pier could not be repaired safely, so the new design replaces it with a "
    "single wider span anchored on both banks of the river.",
    "Business owners along the waterfront welcomed the decision but asked the council to keep the pedestrian "
    "walkway open during construction so customers can still reach their shops.",
    "The council also voted to study a ferry service that would run during the busiest hours until the bridge "
    "reopens, with a report due at the end of the summer.",
]
OTHER = ("Farmers in the valley reported the largest apple harvest in a decade, helped by a mild spring and a late "
         "frost that never came. Growers said prices at the wholesale market fell by a fifth as crates piled up, "
         "and several packing houses hired extra seasonal workers to keep up with the orchards.")


def copies() -> list[dict]:
    body = "\n\n".join(WIRE)
    return [
        {"id": "wire", "title": "Council approves Harbor Street bridge rebuild", "date": "2026-03-03",
         "source": "wire.example", "text": "By Jane Doe, Associated Writer\n\n" + body},
        {"id": "gazette", "title": "Bridge rebuild gets green light", "date": "2026-03-04", "source": "gazette.example",
         "text": "HARBOR CITY (Wire) -- " + body + "\n\nThe Gazette contributed to this report."},
        {"id": "tribune", "title": "Harbor bridge: what the council decided", "date": "2026-03-05",
         "source": "tribune.example", "text": body + "\n\nRead more local news at the Tribune's website."},
        {"id": "apples", "title": "Record apple harvest", "date": "2026-03-04", "source": "farm.example",
         "text": OTHER},
    ]


def ingest(engine: Engine, tmp_path: Path, records: list[dict]) -> None:
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    assert engine.ingest([path]).ok


def test_signatures_see_copies_not_neighbours() -> None:
    a, b, c, d = (signature(r["text"]) for r in copies())
    assert similarity(a, b) >= 0.6 and similarity(a, c) >= 0.6
    assert similarity(a, d) < 0.1
    assert close_in_time("2026-03-01", "2026-03-15") and not close_in_time("2025-03-01", "2026-03-01")
    assert close_in_time(None, "2026-03-01")


def test_one_passage_per_story_and_the_citation_lists_the_other_outlets(engine: Engine, tmp_path: Path) -> None:
    ingest(engine, tmp_path, copies())
    assert engine.groups is not None and engine.groups.count() == (1, 3)
    question = "When will work on the Harbor Street bridge begin?"
    passages = engine.retriever.retrieve(question, 6)
    story = [p for p in passages if p.article_id in ("wire", "gazette", "tribune")]
    # one outlet's copy stands for the story (with two articles in the index, the per-article cap yields and that
    # copy may give a second, different passage); the other outlets' copies never take a slot
    assert len({p.article_id for p in story}) == 1, [p.article_id for p in passages]
    others = {r.article_id for r in story[0].also_in}
    assert others == {"wire", "gazette", "tribune"} - {story[0].article_id}
    answer = engine.ask(question)
    assert not answer.refused
    assert {r.source for r in answer.citations[0].also_in} == {
        f"{a}.example" for a in ("wire", "gazette", "tribune")} - {answer.citations[0].source}
    assert "also in: " in render(answer)


def test_copies_share_one_key_for_the_cap_that_no_article_id_can_be(engine: Engine, tmp_path: Path) -> None:
    """`DuplicateGroups.keys` (what the per-article cap counts a candidate as) is one row per article: the copies
    share a key, every other article has its own, and a key never equals an article id (an article literally
    named like a key would otherwise share a story's slot)."""
    ingest(engine, tmp_path, copies())
    assert engine.groups is not None
    keys = engine.groups.keys(["wire", "gazette", "tribune", "apples", "never-indexed"])
    assert keys["wire"] == keys["gazette"] == keys["tribune"] != keys["apples"]
    assert "never-indexed" not in keys
    assert not set(keys.values()) & {r["id"] for r in engine.manifest.listing()}
    header = engine.manifest.headers(["wire", "never-indexed"])  # what citations read: no text, no record
    assert header == {"wire": {"article_id": "wire", "title": "Council approves Harbor Street bridge rebuild",
                               "date": "2026-03-03", "url": None, "source": "wire.example"}}


def test_without_grouping_the_copies_crowd_the_passages(tmp_path: Path) -> None:
    engine = build_engine(make_settings(tmp_path / "data", duplicate_threshold=0))
    ingest(engine, tmp_path, copies())
    ids = [p.article_id for p in engine.retriever.retrieve("When will work on the Harbor Street bridge begin?", 6)]
    assert len({"wire", "gazette", "tribune"} & set(ids)) > 1


def test_groups_follow_changes_removals_and_old_indexes(engine: Engine, tmp_path: Path) -> None:
    ingest(engine, tmp_path, copies())
    engine.remove("tribune")
    assert engine.groups is not None and engine.groups.count() == (1, 2)
    changed = copies()[:2]
    changed[1]["text"] = OTHER.replace("apple", "pear") + " A second paragraph about pears and their growers."
    ingest(engine, tmp_path, changed)  # the gazette now carries (a copy of) the harvest story: it is regrouped
    assert engine.groups.of(["wire", "gazette"]) == {"gazette": ["apples", "gazette"]}
    engine.manifest.db.execute("DELETE FROM near_duplicates")  # an index from before grouping ...
    engine.manifest.db.execute("DELETE FROM meta WHERE key = 'duplicate_bands'")  # ... had no bands either
    ingest(engine, tmp_path, copies())
    assert engine.groups.count() == (1, 3)
