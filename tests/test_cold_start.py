"""What `newsrag ask` and `newsrag ingest` load: the heavy libraries stay off their paths (the cold start does not
regress silently), and the embedded Chroma they read and write through the bindings (index/chroma_local.py) is the
one chromadb's client reads and writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from app.engine import Engine
from app.settings import Settings
from index.store import ChromaStore
from index.types import Chunk
from tests.conftest import ROOT

NOT_ON_THE_ASK_PATH = ["chromadb", "llama_index", "torch", "sentence_transformers", "transformers", "gradio",
                       "fastapi", "uvicorn", "starlette", "openai", "matplotlib", "pandas"]

PROBE = """
import json, sys
from app.cli import main as cli
code = cli.main(["ask", "What did Kerry say about Assad?", "--json"])
print(json.dumps({"code": code, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _ask_in_a_new_process(data_dir: Path) -> tuple[dict, dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    env.update(NEWSRAG_DATA_DIR=str(data_dir), NEWSRAG_EMBEDDER="hash", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    answer, probe = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    return answer, probe


def test_ask_imports_none_of_the_heavy_libraries(sample_engine: Engine, settings: Settings) -> None:
    answer, probe = _ask_in_a_new_process(settings.data_dir)
    assert probe["code"] == 0
    assert not answer["refused"] and "Assad" in answer["text"]
    assert any(p["dense"] is not None for p in answer["passages"] if p["kind"] == "chunk")  # dense search ran
    loaded = set(probe["loaded"])
    assert "chromadb_rust_bindings" in loaded and "bm25s" not in loaded  # BM25 is numpy over SQLite rows
    assert not loaded & set(NOT_ON_THE_ASK_PATH), sorted(loaded & set(NOT_ON_THE_ASK_PATH))


def _probes(n: int = 6) -> list[np.ndarray]:
    vectors = np.random.default_rng(7).normal(size=(n, 384)).astype(np.float32)
    return list(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stdout


CLIENT = ("import json, sys, chromadb\nfrom chromadb.config import Settings\n"
          "from tests.test_cold_start import _probes\n"
          "client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))\n"
          "col = client.get_or_create_collection('newsrag_chunks', embedding_function=None,"
          " metadata={'hnsw:space': 'cosine'})\n")


def test_the_bindings_return_what_the_client_returns(sample_engine: Engine, settings: Settings) -> None:
    """The sample index was written through the bindings; chromadb's own client finds the same neighbours."""
    ours = _run("import json, sys\nfrom pathlib import Path\nfrom index.store import ChromaStore\n"
                "from tests.test_cold_start import _probes\n"
                "store = ChromaStore(Path(sys.argv[1]))\n"
                "hits = [store.query(v, 5) for v in _probes()]\n"
                "assert 'chromadb' not in sys.modules\n"
                "print(json.dumps([[[i for i, _ in h] for h in hits], [[d for _, d in h] for h in hits]]))",
                str(settings.data_dir))
    theirs = _run(CLIENT + "found = [col.query(query_embeddings=[v], n_results=5, include=['distances']) for v in"
                  " _probes()]\nprint(json.dumps([[f['ids'][0] for f in found],"
                  " [[1 - d for d in f['distances'][0]] for f in found]]))", str(settings.data_dir / "chroma"))
    (ids, sims), (their_ids, their_sims) = json.loads(ours), json.loads(theirs)
    assert ids == their_ids and all(len(hits) == 5 for hits in ids)
    assert np.allclose(sims, their_sims, atol=1e-6)


def test_an_index_chromadb_wrote_is_written_and_read_here(tmp_path: Path) -> None:
    """Indexes made before index/chroma_local.py (by chromadb's PersistentClient) keep working, both ways."""
    chroma = tmp_path / "old" / "chroma"
    _run(CLIENT + "vs = _probes(3)\ncol.add(ids=['a:0', 'a:1'], embeddings=vs[:2],"
         " metadatas=[{'article_id': 'a', 'title': 'A', 'start': 0, 'end': 4}] * 2)", str(chroma))
    store = ChromaStore(tmp_path / "old")
    probes = _probes(3)
    assert store.count() == 2 and store.query(probes[1], 1)[0][0] == "a:1"
    store.add([Chunk(id="b:0", article_id="b", ordinal=0, start=0, end=5, text="probe")], probes[2][None, :],
              {"b": "B"})
    store.delete(["a:0"])
    out = _run(CLIENT + "print(json.dumps([sorted(col.get()['ids']), col.query(query_embeddings=[_probes(3)[2]],"
               " n_results=1)['ids'][0]]))", str(chroma))
    assert json.loads(out) == [["a:1", "b:0"], ["b:0"]]


def test_ingest_imports_no_chromadb(tmp_path: Path) -> None:
    """A `newsrag ingest` writes the embedded index without the chromadb package (~1.5 s of a one-article ingest)
    and signs near-duplicates without datasketch's (which imports scipy: ~0.4 s)."""
    from tests.conftest import SAMPLE

    code = ("import json, sys\nfrom app.cli import main as cli\ncode = cli.main(['ingest', sys.argv[1]])\n"
            "print(json.dumps({'code': code, 'chromadb': 'chromadb' in sys.modules,"
            " 'datasketch': 'datasketch' in sys.modules}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSRAG_")}
    env.update(NEWSRAG_DATA_DIR=str(tmp_path / "data"), NEWSRAG_EMBEDDER="hash", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code, str(SAMPLE)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "chromadb": False, "datasketch": False}
    answer, _ = _ask_in_a_new_process(tmp_path / "data")
    assert not answer["refused"] and "Assad" in answer["text"]


def reads_what_it_wrote(data_dir: str) -> None:
    """Run in a new process: one store reads; another store in the same process then writes to the same data dir;
    the first one's queries see the new vector (one Bindings per data dir per process)."""
    reader = ChromaStore(Path(data_dir))
    probe = _probes(1)[0]
    before = reader.query(probe, 3)
    assert before
    writer = ChromaStore(Path(data_dir))
    writer.add([Chunk(id="probe:0", article_id="probe", ordinal=0, start=0, end=5, text="probe")],
               probe[None, :], {"probe": "Probe"})
    after = reader.query(probe, 3)
    assert after[0][0] == "probe:0" and abs(after[0][1] - 1.0) < 1e-4
    assert after[1:] == before[:2]
    assert "chromadb" not in sys.modules


def test_a_process_reads_what_it_wrote(sample_engine: Engine, settings: Settings) -> None:
    _run(f"from tests.test_cold_start import reads_what_it_wrote; reads_what_it_wrote({str(settings.data_dir)!r})")


def test_a_fresh_data_dir_needs_no_chroma_files_to_be_queried(tmp_path: Path) -> None:
    store = ChromaStore(tmp_path / "empty")
    assert store.query(_probes(1)[0], 4) == []
    assert store.count() == 0


def test_ready_loads_what_the_first_question_would(sample_engine: Engine) -> None:
    """`newsrag serve` warms up with Engine.ready(): the keyword index is in memory before anyone asks."""
    from app.engine import build_engine

    fresh = build_engine(sample_engine.settings)
    assert not fresh.keyword.loaded
    status = fresh.ready()
    assert fresh.keyword.loaded
    assert status["vectors"] == sample_engine.store.count() > 0 and status["articles"] == 1


def test_chroma_holds_vectors_and_offsets_but_not_the_text(sample_engine: Engine) -> None:
    """The text lives once, in the manifest: a document in Chroma would be full-text indexed on every add (~4x the
    add's CPU) for nothing that reads it. The metadata still says where each vector's chunk sits."""
    got = sample_engine.store.collection.get(include=["documents", "metadatas"])
    rows = {r["id"]: r for r in sample_engine.manifest.chunk_rows()}
    assert got["ids"] and set(got["ids"]) == set(rows)
    assert all(d is None for d in got["documents"])
    for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
        row = rows[cid]
        assert (meta["article_id"], meta["start"], meta["end"], meta["title"]) == \
            (row["article_id"], row["start"], row["end"], row["title"])


NEIGHBOURS = ("import json, sys\nfrom pathlib import Path\nimport numpy as np\n"
              "from index.chroma_local import LocalCollection\n"
              "col = LocalCollection(Path(sys.argv[1]), 'chunks')\n"
              "probes = np.random.default_rng(1).standard_normal((50, 384)).astype(np.float32)\n"
              "print(json.dumps([col.query(p / np.linalg.norm(p), 100, None)[0] for p in probes]))\n")


def test_every_process_finds_the_same_neighbours(tmp_path: Path) -> None:
    """A reopened index re-applies the records its HNSW graph has not persisted yet, with parallel inserts. With
    Chroma's default (persisted every 1,000 records) a tail of 250 gave each of 3 processes another graph and
    another top 100 for the same probes; a new collection is persisted every 100 (index/chroma_local.py)."""
    from index.chroma_local import LocalCollection

    vectors = np.random.default_rng(0).standard_normal((1250, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    collection = LocalCollection(tmp_path / "chroma", "chunks")
    for i in range(0, len(vectors), 500):
        part = vectors[i:i + 500]
        collection.add([f"c{j}" for j in range(i, i + len(part))], part, [{"n": j} for j in range(len(part))])
    found = [_run(NEIGHBOURS, str(tmp_path / "chroma")) for _ in range(3)]
    assert len(json.loads(found[0])) == 50 and len(set(found)) == 1


def test_an_index_made_with_chromas_default_is_tuned_at_its_next_write(tmp_path: Path) -> None:
    """A collection made before (Chroma's default: persisted every 1,000 records) gets the same sync threshold at
    its first write in a process, and that write persists the tail: then every process finds the same neighbours."""
    import chromadb_rust_bindings

    from index.chroma_local import DATABASE, SYNC_THRESHOLD, TENANT, LocalCollection, _open

    vectors = np.random.default_rng(0).standard_normal((1251, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    bindings = _open((tmp_path / "chroma").resolve(), create=True)
    assert isinstance(bindings, chromadb_rust_bindings.Bindings)
    old = bindings.create_collection("chunks", None, None, {"hnsw:space": "cosine"}, True, TENANT, DATABASE)
    for i in range(0, 1250, 500):  # as an index written before: 250 records left unpersisted
        part = vectors[i:min(i + 500, 1250)]
        bindings.add([f"c{j}" for j in range(i, i + len(part))], str(old.id), list(part),
                     [{"n": j} for j in range(len(part))], None, None, TENANT, DATABASE)
    assert old.configuration["hnsw"]["sync_threshold"] == 1000
    LocalCollection(tmp_path / "chroma", "chunks").add(["c1250"], vectors[1250:], [{"n": 0}])
    tuned = bindings.get_collection("chunks", TENANT, DATABASE)
    assert tuned.configuration["hnsw"]["sync_threshold"] == SYNC_THRESHOLD
    found = [_run(NEIGHBOURS, str(tmp_path / "chroma")) for _ in range(3)]
    assert len(set(found)) == 1
