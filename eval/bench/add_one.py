"""Adding one article to an index of N chunks, and removing it again: what a newsroom's ingest every few minutes
costs (issue 17: it must not grow with N). Run inside the scale child after the latency measures, on the sized
index it serves; the index holds the same articles afterwards.

After one untimed round, each round ingests a copy of one of the index's own articles (new id, title suffixed so
the text hash differs), timing the whole `engine.ingest` and its parts (reconcile = the interrupted-write check,
embed, write Chroma, the manifest commit with the keyword rows), then the first keyword query after it (the
reader's catch-up), then `engine.remove`. The median of the rounds is reported.

`fresh_process` is what a newsroom's cron job pays: the wall time of `python -m app.cli ingest ONE_FILE` (and of
`remove`) in a new process each, against the same index after the scale child has exited (a Chroma PersistentClient
must not be shared by two live processes). It includes the interpreter, the imports and opening the stores, which
the in-process figure leaves out.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.bench.corpus import ROOT
from eval.bench.measure import Stages

ROUNDS = 3


def add_one_article(engine: Any, rounds: int = ROUNDS) -> dict[str, float]:
    import json

    ix = engine.indexer
    stages = Stages()
    ix.reconcile = stages.wrap("reconcile", ix.reconcile)
    ix.keyword.sync = stages.wrap("keyword_sync", ix.keyword.sync)
    ix.embedder.embed = stages.wrap("embed", ix.embedder.embed)
    ix.store.add = stages.wrap("write_chroma", ix.store.add)
    ix.manifest.commit = stages.wrap("write_manifest", ix.manifest.commit)
    source = engine.manifest.listing()[:rounds + 1]  # the first round warms up (llama-index's splitter loads)
    samples: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, row in enumerate(source):
            article = engine.manifest.article(row["id"])
            path = Path(tmp) / f"bench-add-{n}.json"
            path.write_text(json.dumps({"id": f"bench-add-{n}", "title": f"{article.title} (bench add {n})",
                                        "text": article.text, "date": article.date, "source": article.source}))
            stages.seconds.clear()
            t0 = time.perf_counter()
            report = engine.ingest([path])
            t1 = time.perf_counter()
            engine.keyword.query(article.title, 10)
            t2 = time.perf_counter()
            engine.remove(f"bench-add-{n}")
            t3 = time.perf_counter()
            engine.keyword.query(article.title, 10)
            t4 = time.perf_counter()
            assert report.added == [f"bench-add-{n}"], report.summary()
            got = {"ingest": t1 - t0, **stages.seconds, "first_query_after": t2 - t1, "remove": t3 - t2,
                   "first_query_after_remove": t4 - t3, "chunks": float(report.chunks)}
            for k, v in got.items():
                if n:
                    samples.setdefault(k, []).append(v)
    return {k if k == "chunks" else f"{k}_ms": round(statistics.median(v) * (1 if k == "chunks" else 1000), 1)
            for k, v in samples.items()}


def fresh_process(data_dir: Path, models_dir: Path, backend: str, rounds: int = ROUNDS) -> dict[str, Any]:
    """Median wall seconds of `newsrag ingest ONE_FILE` and `newsrag remove ID`, each in a new process."""
    import json

    from index.manifest import Manifest

    manifest = Manifest(data_dir / "manifest.sqlite")
    source = [manifest.article(row["id"]) for row in manifest.listing()[-rounds:]]
    manifest.db.close()
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(data_dir), "NEWSRAG_EMBEDDER": "minilm",
           "NEWSRAG_EMBED_BACKEND": backend, "NEWSRAG_MODEL_CACHE_DIR": str(models_dir),
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    ingest_s: list[float] = []
    remove_s: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:  # run there: no .env of the checkout is read
        for n, article in enumerate(a for a in source if a is not None):
            path = Path(tmp) / f"bench-fresh-{n}.json"
            path.write_text(json.dumps({"id": f"bench-fresh-{n}", "title": f"{article.title} (bench fresh {n})",
                                        "text": article.text, "date": article.date, "source": article.source}))
            for command, out in ((["ingest", str(path)], ingest_s), (["remove", f"bench-fresh-{n}"], remove_s)):
                t0 = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "app.cli", *command], cwd=tmp, env=env,
                                      capture_output=True, text=True, timeout=600)
                out.append(time.perf_counter() - t0)
                if done.returncode != 0:
                    raise RuntimeError(f"newsrag {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return {"ingest_s": round(statistics.median(ingest_s), 2), "remove_s": round(statistics.median(remove_s), 2),
            "ingest_runs_s": [round(x, 2) for x in ingest_s]}
