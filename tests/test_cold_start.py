"""What `newsrag ask` loads: the heavy libraries stay off its path (the cold start does not regress silently), and the
light Chroma reader it queries through returns what the chromadb client returns."""

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


def test_the_reader_returns_what_the_client_returns(sample_engine: Engine, settings: Settings) -> None:
    code = ("import json, sys, numpy as np\nfrom pathlib import Path\nfrom index.store import ChromaStore\n"
            "from tests.test_cold_start import _probes\n"
            "store = ChromaStore(Path(sys.argv[1]))\n"
            "light = [store.query(v, 5) for v in _probes()]\n"
            "assert 'chromadb' not in sys.modules\n"
            "store.count()\n"
            "full = [store.query(v, 5) for v in _probes()]\n"
            "assert 'chromadb' in sys.modules\n"
            "print(json.dumps([light, full]))\n")
    done = subprocess.run([sys.executable, "-c", code, str(settings.data_dir)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    light, full = json.loads(done.stdout)
    assert light == full
    assert all(len(hits) == 5 for hits in light)


def reads_what_it_wrote(data_dir: str) -> None:
    """Run in a new process: one store reads through the light reader; another store in the same process then writes
    to the same data dir; the first one's queries see the new vector (the reader closes once a client opens there)."""
    reader = ChromaStore(Path(data_dir))
    probe = _probes(1)[0]
    before = reader.query(probe, 3)
    assert before and "chromadb" not in sys.modules
    writer = ChromaStore(Path(data_dir))
    writer.add([Chunk(id="probe:0", article_id="probe", ordinal=0, start=0, end=5, text="probe")],
               probe[None, :], {"probe": "Probe"})
    after = reader.query(probe, 3)
    assert after[0][0] == "probe:0" and abs(after[0][1] - 1.0) < 1e-4
    assert after[1:] == before[:2]


def test_a_process_reads_what_it_wrote(sample_engine: Engine, settings: Settings) -> None:
    code = f"from tests.test_cold_start import reads_what_it_wrote; reads_what_it_wrote({str(settings.data_dir)!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr


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
