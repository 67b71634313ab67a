"""Small measuring tools the bench shares: stage timers, percentiles, peak RSS, the share of text an embedder sees,
Hit@k against gold article ids."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

MODEL_WINDOW = 254  # MiniLM reads 256 word pieces, two of them [CLS] and [SEP]


class Stages:
    """Seconds spent per named stage, accumulated by wrapping the functions that do the work."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
        return timed

    def wrap_iter(self, name: str, fn: Callable[..., Iterable[Any]]) -> Callable[..., Iterator[Any]]:
        """For generators: only the time spent producing items counts, not the consumer's."""
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            it = iter(fn(*args, **kwargs))
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    return
                finally:
                    self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
                yield item
        return timed

    def rounded(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.seconds.items()}


def percentiles(samples_ms: list[float]) -> dict[str, float | None]:
    if not samples_ms:
        return {"p50": None, "p95": None, "p99": None, "n": 0}
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)
    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "n": len(ordered)}


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Coverage:
    """How much of each article an embedder actually reads: MiniLM truncates every input at 256 word pieces."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        from index.embedding.onnx_export import model_dir

        self.tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self.tok.no_truncation()
        self.tok.no_padding()
        self.spans: dict[str, list[tuple[int, int]]] = {}
        self.pieces = 0

    def add(self, article_id: str, embedded: str, body_at: int, start: int, end: int) -> None:
        """`embedded` is the exact input string; the chunk body (article chars start..end) begins at `body_at`."""
        enc = self.tok.encode(embedded, add_special_tokens=False)
        self.pieces += min(len(enc.ids), MODEL_WINDOW) + 2
        cut = len(embedded) if len(enc.ids) <= MODEL_WINDOW else enc.offsets[MODEL_WINDOW - 1][1]
        seen = max(0, min(end - start, cut - body_at))
        if seen:
            self.spans.setdefault(article_id, []).append((start, start + seen))

    def share(self, texts: dict[str, str]) -> float:
        """The share of the articles' non-space characters inside some embedded window (the whitespace between
        chunks is not text a reader could miss)."""
        import numpy as np

        covered = total = 0
        for article_id, text in texts.items():
            letters = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
            visible = ~np.isin(letters, [9, 10, 11, 12, 13, 32, 160])
            seen = np.zeros(len(text), dtype=bool)
            for s, e in self.spans.get(article_id, []):
                seen[s:e] = True
            covered += int((seen & visible).sum())
            total += int(visible.sum())
        return round(covered / total, 4) if total else 0.0


def hit_at(ranked_article_ids: list[list[str]], gold: list[list[str]], k: int = 5) -> float | None:
    pairs = [(r, set(g)) for r, g in zip(ranked_article_ids, gold, strict=True) if g]
    if not pairs:
        return None
    return round(sum(1 for r, g in pairs if g & set(r[:k])) / len(pairs), 4)


def read_questions(path: Path | None) -> list[dict[str, Any]]:
    """Answerable questions with gold article ids (others cannot score Hit@k)."""
    if path is None or not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("answerable", True) and r.get("gold_article_ids")]
