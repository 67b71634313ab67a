"""The bench report as markdown tables, and the plot of retrieval latency against corpus size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PIPELINES = {"newsrag-onnx-int8": "newsrag, ONNX INT8", "newsrag-onnx": "newsrag, ONNX fp32",
             "newsrag-torch": "newsrag, torch fp32", "llamaindex-alltext": "llama-index, 200-token chunks",
             "llamaindex-default": "llama-index tutorial defaults"}


def markdown(result: dict[str, Any], plot_name: str | None) -> str:
    s, m = result["summary"], result["machine"]
    lines = [f"# newsrag bench ({s['mode']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores (CPU flags: {m.get('cpu_flags', '?')}), "
             f"{m['memory_mb'] // 1024} GiB, Python {m['python']}, "
             f"onnxruntime {m['onnxruntime']}; load average at the end {m['load_average']} (a shared machine: "
             f"compare ratios, not absolute times). {m['date']}, {s['seconds']:.0f} s.", "",
             f"Corpus: {result['corpus']}.", "",
             "## Targets (issues 8 and 17)", "", "| what | target | measured | met |", "|---|---|---|---|"]
    lines += [f"| {t['what']} | {t['target']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |"
              for t in result["targets"]]
    lines += ["", "## Ingest race (same articles, same run, each pipeline in a fresh process; model load apart)", "",
              "| pipeline | chunks | articles/s | chunks/s | word pieces/s | ingest s (CPU s) | text embedded | Hit@5 "
              "| peak RSS MB | model load s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in result["ingest"].items():
        if name in PIPELINES:
            lines.append(f"| {PIPELINES[name]} | {r['chunks']} | {r['articles_per_s']} | {r['chunks_per_s']} | "
                         f"{r['wordpieces_per_s']} | {r['ingest_s']} ({r.get('ingest_cpu_s', '?')}) | "
                         f"{r['text_share']:.1%} | {r['hit5']} | {r['peak_rss_mb']} | {r['model_load_s']} |")
    rounds = result["ingest"].get("rounds", {})
    if rounds.get("n", 1) > 1:
        per = "; ".join(f"{r['ingest_ratio']}x / {r['ingest_ratio_default']}x" for r in rounds["ratios"])
        lines.append(f"\n{rounds['n']} interleaved rounds (order rotated each round; the table shows each pipeline's "
                     f"median round): ratio vs all-text / vs defaults per round: {per}; medians "
                     f"{rounds['ingest_ratio']}x / {rounds['ingest_ratio_default']}x.")
    cos = result["ingest"].get("cosine", {})
    for backend, c in cos.items():
        if c:
            lines.append(f"\n{backend} vs torch fp32 over {c['n']} chunk vectors: mean cosine {c['mean']}, "
                         f"min {c['min']}; dense-only Hit@5 {s['hit5_dense']} vs {s['hit5_dense_fp32']}.")
    profile = s["ingest_profile_s"]
    total = sum(profile.values()) or 1.0
    lines += ["", "Where newsrag's ingest time goes: " + ", ".join(
        f"{k} {v:.1f} s ({v / total:.0%})" for k, v in sorted(profile.items(), key=lambda kv: -kv[1])) + "."]
    lines += ["", "## Retrieval and answers by corpus size (warm, one serving process per size)", "",
              "| chunks | retrieve p50 / p95 / p99 ms | embed p50 | dense p50 | BM25 p50 | answer p50 / p95 ms "
              "| peak RSS MB | Chroma write s | BM25 first load s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["scale"]:
        ret, b = r["retrieve"], r["build"]
        lines.append(f"| {r['chunks']} | {ret['p50']} / {ret['p95']} / {ret['p99']} | {r['embed']['p50']} | "
                     f"{r['dense']['p50']} | {r['bm25']['p50']} | {r['answer']['p50']} / {r['answer']['p95']} | "
                     f"{r['peak_rss_mb']} | {b.get('write_chroma_s', '-')} | {b.get('keyword_load_s', '-')} |")
    adds = [(r["chunks"], r["add_one"]) for r in result["scale"] if r.get("add_one")]
    if adds:
        fresh = {r["chunks"]: r.get("add_one_fresh", {}) for r in result["scale"]}
        lines += ["", "Adding one article to the index, then removing it (median of 3 articles; it must not grow "
                  "with the index). In process: `engine.ingest` in a serving process, ms; fresh process: `newsrag "
                  "ingest ONE_FILE` / `newsrag remove ID` each in a new process (interpreter, imports, opening the "
                  "stores included), s:", "", "| chunks | fresh process: ingest s | remove s | in process: ingest "
                  "| of which reconcile | embed | Chroma | manifest + keyword rows | first query after | remove | "
                  "first query after |", "|---" * 11 + "|"]
        lines += [f"| {n} | {fresh[n].get('ingest_s', '-')} | {fresh[n].get('remove_s', '-')} | {a['ingest_ms']} | "
                  f"{a.get('reconcile_ms', '-')} | {a.get('embed_ms', '-')} | "
                  f"{a.get('write_chroma_ms', '-')} | {a.get('write_manifest_ms', '-')} | "
                  f"{a['first_query_after_ms']} | {a['remove_ms']} | {a['first_query_after_remove_ms']} |"
                  for n, a in adds]
    lines += ["", "Sizes are grown from the ingested corpus: whole articles in order, then copies with new ids, the "
              "same text, the title suffixed \"(copy n)\" and the same vectors (no paraphrase, nothing synthetic); "
              "the copies are grouped as near-duplicates, as `newsrag ingest` groups them, and retrieval is "
              "timed with the engine's own retriever."]
    local = next(((r["chunks"], r["local"]) for r in result["scale"] if r.get("local")), None)
    if local:
        chunks, lo = local
        lines += ["", f"Local answers (`--answerer local`, {lo['prompt']}, {lo['passages']} passages, {lo['threads']} "
                  f"thread(s); {lo['questions']} questions at {chunks} chunks; server start {lo['server_start_s']} s "
                  f"apart): first token p50 {lo['first_token']['p50']} ms, answer p50 / p95 {lo['answer']['p50']} / "
                  f"{lo['answer']['p95']} ms, {lo['fallbacks']} fallbacks."]
    cold = result["cold_start"]
    imports = ", ".join(f"{k} {v} s" for k, v in cold["imports"].items())
    lines += ["", f"Cold start (`newsrag ask`, new process to printed answer): median {cold['median_s']} s wall of "
              f"{cold['runs_s']}, {cold['cpu_s']} s CPU" + (f"; import time by package: {imports}" if imports else "")
              + "."]
    if plot_name:
        lines += ["", f"![retrieval latency against corpus size]({plot_name})"]
    return "\n".join(lines) + "\n"


def plot(scale: list[dict[str, Any]], path: Path) -> Path | None:
    if not scale:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    sizes = [r["chunks"] for r in scale]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for key, label in (("retrieve", "retrieve"), ("answer", "answer (extractive)")):
        for q, style in (("p50", "-o"), ("p95", "--o")):
            ax.plot(sizes, [r[key][q] for r in scale], style, label=f"{label} {q}")
    ax.set_xscale("log")
    ax.set_xlabel("chunks indexed")
    ax.set_ylabel("ms")
    ax.set_title("newsrag latency against corpus size")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path
