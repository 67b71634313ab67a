"""The bench's outputs: the summary object (`--json`), the targets of issue 8 with the measured value beside each,
and `bench/results/bench-<mode>.{json,md}` + `latency-<mode>.png`."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from index.embedding.cpu import shown_flags


def summarize(ingest: dict[str, Any], scale: list[dict[str, Any]], cold: dict[str, Any], corpus: Any,
              args: Any, seconds: float) -> dict[str, Any]:
    ours_name = next(k for k in ingest if k.startswith("newsrag-"))
    rounds = ingest["rounds"]  # eval/bench/race.py: the ratios are medians over interleaved rounds
    ours, alltext, default = ingest[ours_name], ingest["llamaindex-alltext"], ingest["llamaindex-default"]
    fp32 = ingest.get("newsrag-torch", {})
    top = scale[-1] if scale else {}
    cos = ingest.get("cosine", {}).get(ours["backend"], {})
    s: dict[str, Any] = {
        "mode": "quick" if args.quick else "full", "backend": ours["backend"], "articles": ours["articles"],
        "ingest_ratio": rounds["ingest_ratio"], "ingest_ratio_default": rounds["ingest_ratio_default"],
        "ingest_rounds": rounds["n"],
        "ingest_articles_per_s": ours["articles_per_s"], "ingest_chunks_per_s": ours["chunks_per_s"],
        "ingest_wordpieces_per_s": ours["wordpieces_per_s"], "cpu_flags": shown_flags(),
        "baseline_chunks_per_s": alltext["chunks_per_s"], "baseline_default_chunks_per_s": default["chunks_per_s"],
        "ingest_ratio_vs_fp32": ratio(ours["articles_per_s"], fp32.get("articles_per_s")),
        "text_share": ours["text_share"], "baseline_text_share": alltext["text_share"],
        "baseline_default_text_share": default["text_share"],
        "hit5": ours["hit5"], "hit5_fp32": fp32.get("hit5"), "baseline_hit5": alltext["hit5"],
        "baseline_default_hit5": default["hit5"], "hit5_dense": ours.get("hit5_dense"),
        "hit5_dense_fp32": fp32.get("hit5_dense"), "hit5_questions": ours["questions"],
        "int8_cosine_mean": cos.get("mean"), "int8_cosine_min": cos.get("min"),
        "retrieval_chunks": top.get("chunks"), "retrieval_p50_ms": top.get("retrieve", {}).get("p50"),
        "retrieval_p95_ms": top.get("retrieve", {}).get("p95"), "retrieval_p99_ms": top.get("retrieve", {}).get("p99"),
        "answer_p50_ms": top.get("answer", {}).get("p50"), "answer_p95_ms": top.get("answer", {}).get("p95"),
        "answer_repeat_p50_ms": top.get("answer_repeat", {}).get("p50"),
        "cold_start_s": cold["median_s"], "cold_start_cpu_s": cold["cpu_s"],
        "serving_peak_rss_mb": top.get("peak_rss_mb"),
        "ingest_peak_rss_mb": ours["peak_rss_mb"], "baseline_peak_rss_mb": alltext["peak_rss_mb"],
        "ingest_profile_s": ours["profile_s"], "seconds": round(seconds, 1),
        "add_one_ms": {r["chunks"]: r["add_one"]["ingest_ms"] for r in scale if r.get("add_one")},
        "add_one_fresh_s": {r["chunks"]: r["add_one_fresh"]["ingest_s"] for r in scale if r.get("add_one_fresh")}}
    local = next((r["local"] for r in scale if r.get("local")), None)
    if local:
        s.update({"local_first_token_p50_ms": local["first_token"]["p50"],
                  "local_answer_p50_ms": local["answer"]["p50"], "local_answer_p95_ms": local["answer"]["p95"],
                  "local_questions": local["questions"]})
    return {"summary": s, "targets": targets(s), "machine": machine(), "corpus": corpus.note, "ingest": ingest,
            "scale": scale, "cold_start": cold}


def ratio(a: float | None, b: float | None) -> float | None:
    """a / b to two decimals; None when either is missing or zero."""
    return round(a / b, 2) if a and b else None


def targets(s: dict[str, Any]) -> list[dict[str, Any]]:
    def ge(a: Any, b: Any) -> bool:
        return a is None or b is None or a >= b  # no questions: Hit@5 cannot be lower

    at = f"at {s['retrieval_chunks']} chunks" if s["retrieval_chunks"] else "not measured"
    full = bool(s["retrieval_chunks"]) and s["retrieval_chunks"] >= 100_000
    rows = [
        ("ingest vs llama-index, all text embedded", ">= 3x articles/s, Hit@5 no lower",
         f"{s['ingest_ratio']}x; Hit@5 {s['hit5']} vs {s['baseline_hit5']}",
         (s["ingest_ratio"] or 0) >= 3 and ge(s["hit5"], s["baseline_hit5"])),
        ("ingest vs llama-index tutorial defaults", ">= 1x articles/s, 100% of text, higher Hit@5",
         f"{s['ingest_ratio_default']}x; text {s['text_share']:.1%} vs {s['baseline_default_text_share']:.1%}; "
         f"Hit@5 {s['hit5']} vs {s['baseline_default_hit5']}",
         (s["ingest_ratio_default"] or 0) >= 1 and s["text_share"] >= 0.99
         and (s["hit5"] is None or s["baseline_default_hit5"] is None or s["hit5"] > s["baseline_default_hit5"])),
        ("ingest throughput", ">= 85 chunks/s", f"{s['ingest_chunks_per_s']} chunks/s",
         s["ingest_chunks_per_s"] >= 85),
        ("ingest word pieces/s, default backend (issue 17)", ">= 12,000 on a CPU with VNNI",
         f"{s['ingest_wordpieces_per_s']:,} ({s['backend']}; CPU flags: {s['cpu_flags']})",
         s["ingest_wordpieces_per_s"] >= 12_000),
        ("retrieval at 100k chunks", "p50 <= 15 ms, p95 <= 40 ms",
         f"p50 {s['retrieval_p50_ms']} ms, p95 {s['retrieval_p95_ms']} ms {at}",
         full and (s["retrieval_p50_ms"] or 1e9) <= 15 and (s["retrieval_p95_ms"] or 1e9) <= 40),
        ("extractive answer, end to end, warm", "p50 <= 60 ms",
         f"p50 {s['answer_p50_ms']} ms {at} (first asking; asked again: p50 {s.get('answer_repeat_p50_ms')} ms)",
         (s["answer_p50_ms"] or 1e9) <= 60),
        ("`newsrag ask` cold start", "<= 3 s", f"{s['cold_start_s']} s wall ({s['cold_start_cpu_s']} s CPU)",
         s["cold_start_s"] <= 3),
        ("peak RSS serving 100k chunks", "<= 1.5 GB", f"{s['serving_peak_rss_mb']} MB {at}",
         full and (s["serving_peak_rss_mb"] or 1e9) <= 1536),
    ]
    return [{"what": w, "target": t, "measured": m, "met": bool(ok)} for w, t, m, ok in rows]


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 for line in _read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal")), 0)
    import onnxruntime

    return {"cpu": cpu, "cores": os.cpu_count(), "cpu_flags": shown_flags(), "memory_mb": mem,
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "onnxruntime": onnxruntime.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def write_results(result: dict[str, Any], out: Path, mode: str) -> dict[str, Path]:
    from eval.bench.table import markdown, plot

    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / f"bench-{mode}.json", "markdown": out / f"bench-{mode}.md"}
    paths["json"].write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    png = plot(result["scale"], out / f"latency-{mode}.png")
    if png:
        paths["plot"] = png
    paths["markdown"].write_text(markdown(result, png.name if png else None), encoding="utf-8")
    return paths
