"""The manifest records how each article was chunked: other chunk settings re-chunk an article on its next ingest
(reported as `rechunked`), never "unchanged" with the old chunks; an index from before the record is checked."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app.engine import Engine, build_engine
from index.manifest import SCHEMA_VERSION
from tests.conftest import SAMPLE, make_settings


def _news(tmp: Path, n: int = 3) -> Path:
    folder = tmp / "news"
    folder.mkdir(exist_ok=True)
    base = SAMPLE.read_text(encoding="utf-8")
    for i in range(n):
        (folder / f"story{i}.txt").write_text(f"Story {i}\n\n{base}\nEdition {i}.", encoding="utf-8")
    return folder


def _engine(data: Path, size: int = 200, overlap: int = 30) -> Engine:
    return build_engine(make_settings(data, chunk_tokens=size, chunk_overlap=overlap))


def _spans(engine: Engine) -> dict[str, list[tuple[int, int]]]:
    return {a["id"]: engine.manifest.chunk_spans(a["id"]) for a in engine.articles()}


def _consistent(engine: Engine) -> None:
    live = engine.manifest.chunk_ids()
    assert engine.store.ids() == live and set(engine.keyword.stored_ids() or []) == live
    assert engine.verify().clean


def test_another_chunk_size_rechunks_instead_of_unchanged(tmp_path: Path) -> None:
    data, news = tmp_path / "data", _news(tmp_path)
    first = _engine(data).ingest([news])
    ids = sorted(first.added)
    before = _spans(_engine(data))
    assert not _engine(data).ingest([news]).rechunked  # same settings: unchanged

    smaller = _engine(data, size=60, overlap=10)
    report = smaller.ingest([news])
    assert sorted(report.rechunked) == ids and not report.unchanged and not report.updated
    assert f"rechunked {len(ids)}" in report.summary().splitlines()[0]
    after = _spans(smaller)
    assert all(len(after[i]) > len(before[i]) for i in ids), "the 60-token chunks must be more and shorter"
    stored = json.loads(smaller.manifest.chunking(ids[0]) or "{}")
    assert stored["size"] == 60 and stored["overlap"] == 10 and stored["tokenizer"] == "hash"
    _consistent(smaller)  # the old vectors and keyword rows are gone, the new ones are live
    assert smaller.ask("What did Kerry say about Assad?").citations

    assert sorted(smaller.ingest([news]).unchanged) == ids  # now chunked as the settings say
    assert sorted(_engine(data, size=60, overlap=20).ingest([news]).rechunked) == ids  # overlap counts too
    back = _engine(data)
    assert sorted(back.ingest([news]).rechunked) == ids
    assert _spans(back) == before
    _consistent(back)


def test_a_rechunked_article_gets_new_chunk_ids(tmp_path: Path) -> None:
    """The same text chunked another way must not reuse the live chunks' ids: the new vectors go into Chroma before
    the manifest switches to them, and a write that dies in between must leave the live ones untouched."""
    data, news = tmp_path / "data", _news(tmp_path, 1)
    engine = _engine(data)
    engine.ingest([news])
    old = engine.manifest.chunk_ids()
    rechunked = _engine(data, size=60, overlap=10)
    rechunked.ingest([news])
    assert not old & rechunked.manifest.chunk_ids()


def test_other_articles_under_old_settings_are_noted(tmp_path: Path) -> None:
    data, news = tmp_path / "data", _news(tmp_path)
    _engine(data).ingest([news])
    one = sorted(news.iterdir())[0]
    smaller = _engine(data, size=60, overlap=10)
    report = smaller.ingest([one])
    assert len(report.rechunked) == 1
    others = len(list(news.iterdir())) - 1
    notes = [n.reason for n in report.notes]
    assert any(f"{others} indexed article" in n and "ingest their files again" in n for n in notes), notes
    assert "chunked under other chunk settings" in smaller.verify().summary()


def test_an_index_from_before_the_record_is_checked_not_trusted(tmp_path: Path) -> None:
    data, news = tmp_path / "data", _news(tmp_path)
    ids = sorted(_engine(data).ingest([news]).added)
    # as a schema 2 manifest: no chunking column
    db = sqlite3.connect(data / "manifest.sqlite")
    db.executescript("DROP INDEX articles_chunking; ALTER TABLE articles DROP COLUMN chunking; "
                     "UPDATE meta SET value = '2' WHERE key = 'schema';")
    db.close()
    same = _engine(data)
    assert same.manifest.meta("schema") == SCHEMA_VERSION and same.manifest.chunking(ids[0]) is None
    report = same.ingest([news])  # chunked as now: found by splitting again, recorded, nothing re-embedded
    assert sorted(report.unchanged) == ids and report.chunks == 0
    assert json.loads(same.manifest.chunking(ids[0]) or "{}")["size"] == 200

    same.manifest.db.execute("UPDATE articles SET chunking = NULL")  # unknown again, and the settings changed:
    report = _engine(data, size=60, overlap=10).ingest([news])
    assert sorted(report.rechunked) == ids and not report.unchanged


def test_counting_other_chunkings_reads_the_index_not_every_article(tmp_path: Path) -> None:
    """Every ingest counts the articles chunked under other settings; grouping every article's row by its chunking
    read all the texts (~10 ms at 3k articles, growing with the index)."""
    engine = _engine(tmp_path / "data")
    engine.ingest([_news(tmp_path, 4)])
    db, spec = engine.manifest.db, engine.indexer.chunker.spec
    db.execute("UPDATE articles SET chunking='other' WHERE id='story0'")
    db.execute("UPDATE articles SET chunking=NULL WHERE id='story1'")  # not recorded: checked when met, not counted
    assert engine.manifest.other_chunkings(spec) == 1 and engine.manifest.other_chunkings("zzz") == 3
    plans: list[str] = []
    db.set_trace_callback(plans.append)
    engine.indexer._other_chunking()
    db.set_trace_callback(None)
    assert len(plans) == 1
    plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + plans[0]))
    assert "USING COVERING INDEX articles_chunking" in plan and "SCAN articles" not in plan.replace("INDEX", ""), plan


CHUNK_IN_A_FRESH_PROCESS = """
import json, sys
{before}
from index.chunk import Chunker
from index.types import Article
text = open(sys.argv[1], encoding="utf-8").read()
chunks = Chunker(lambda s: s.split(), chunk_tokens=60, overlap=10).chunk(Article(id="a", title="T", text=text))
hidden = "scipy.stats" in sys.modules
learn = "sklearn" in sys.modules
import scipy.stats
import sklearn.preprocessing
print(json.dumps({{"spans": [[c.start, c.end] for c in chunks], "stats_before": hidden, "sklearn_before": learn,
                  "fisher": callable(scipy.stats.fisher_exact), "nltk": "nltk" in sys.modules,
                  "sklearn": callable(sklearn.preprocessing.LabelEncoder)}}))
"""


def _chunk_in_a_fresh_process(before: str) -> dict:
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-c", CHUNK_IN_A_FRESH_PROCESS.format(before=before), str(SAMPLE)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_chunking_imports_nltk_without_scipy_stats_or_sklearn_and_splits_the_same() -> None:
    """nltk's init imports scipy.stats and scikit-learn (~1.3 s of a fresh `newsrag ingest`) for tools never used:
    chunking keeps them out, leaves both importable after, and splits exactly as with them loaded."""
    lean = _chunk_in_a_fresh_process("")
    full = _chunk_in_a_fresh_process("import scipy.stats, sklearn")
    assert lean["nltk"] and not lean["stats_before"] and not lean["sklearn_before"]
    assert lean["fisher"] and lean["sklearn"]
    assert full["stats_before"] and full["sklearn_before"]
    assert lean["spans"] == full["spans"] and len(lean["spans"]) > 3
