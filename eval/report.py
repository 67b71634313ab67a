"""Write a run to `--out DIR`: results.jsonl (every question with its Answer, verdicts and reasons),
summary.json, report.md and report.html (plots embedded as base64 PNGs; the PNGs also go in DIR/plots/).

Both reports give every metric with its n and bootstrap 95% interval, the failures with why, and the table of every
question (eval/question_table.py; filterable in report.html)."""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eval.metrics import Stat
from eval.plots import make_plots
from eval.question_table import html_table, markdown_table, question_rows
from eval.summary import ANSWER, JUDGED, RETRIEVAL, stats_from_summary

SECTIONS = [("Retrieval (gold articles)", RETRIEVAL), ("Answers", ANSWER), ("Faithfulness and citations", JUDGED)]
PLOT_TITLES = {"hit_at_k.png": "hit@k curve", "score_distributions.png": "Score distributions",
               "latency.png": "Latency per stage"}


def failure_rows(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for r in records:
        if not r["failures"]:
            continue
        answer = r.get("answer") or {}
        rank = (r.get("retrieval") or {}).get("first_gold_rank")
        bad = [c for c in r["claims"] if c["supported"] is not True]
        rows.append({"id": r["id"], "question": r["question"], "failures": "; ".join(r["failures"]),
                     "gold": " | ".join(r["answers"]) or ("(unanswerable)" if not r["answerable"] else "-"),
                     "answer": r.get("error") or answer.get("text", ""),
                     "gold rank": "-" if rank is None and r.get("retrieval") is None else str(rank or ">10"),
                     "why": "; ".join(f"{c['text'][:60]}... -> {c['reason']}" for c in bad[:2])})
    return rows


def _metric_rows(summary: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    stats: dict[str, Stat] = stats_from_summary(summary)
    out = []
    for section, names in SECTIONS:
        for name in names:
            s = stats.get(name)
            if s is None:
                continue
            value = "n/a" if s.value is None else f"{s.value:.3f}"
            if s.ci95:
                value += f" [{s.ci95[0]:.3f}, {s.ci95[1]:.3f}]"
            note = ""
            if s.judge_failures:
                note = f"{s.judge_failures} judge failures (bounds {s.lower:.3f}-{s.upper:.3f})" \
                    if s.lower is not None and s.upper is not None else f"{s.judge_failures} judge failures"
            out.append((section, name, value, f"{s.n}" + (f"; {note}" if note else "")))
    return out


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def markdown(summary: dict[str, Any], records: list[dict[str, Any]], plots: list[str], command: str) -> str:
    run = summary["run"]
    lines = ["# newsrag eval report", "", f"`{command}`", "",
             "| run | |", "|---|---|", *(f"| {k} | {v} |" for k, v in run.items()),
             f"| questions | {summary['questions']} (errors: {summary['errors']}) |",
             f"| judge | {summary['judge']['name']}: {summary['judge']['calls']} calls, "
             f"{summary['judge']['failures']} failures |", "",
             "## Metrics", "", "Each value with its bootstrap 95% interval over the questions [low, high].", "",
             "| metric | value [95% CI] | n |", "|---|---|---|"]
    lines += [f"| **{sec}** | | |" if row is None else "| {} | {} | {} |".format(*row)
              for sec, row in _sectioned(summary)]
    lines += ["", "Counts: " + ", ".join(f"{k} {v}" for k, v in summary["counts"].items()), "",
              "## Latency (ms)", "", "| stage | p50 | p95 | n |", "|---|---|---|---|"]
    lines += [f"| {s} | {v['p50']} | {v['p95']} | {v['n']} |" for s, v in summary["latency_ms"].items()]
    for name in plots:
        lines += ["", f"![{PLOT_TITLES.get(name, name)}](plots/{name})"]
    rows = failure_rows(records)
    lines += ["", f"## Failures ({len(rows)} of {len(records)} questions)", "",
              "| id | question | failures | gold | gold rank | answer | why |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        cells = [_short(row[c]).replace("|", "\\|") for c in ("id", "question", "failures", "gold", "gold rank",
                                                               "answer", "why")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", *markdown_table(question_rows(records), _short)]
    return "\n".join(lines) + "\n"


def _sectioned(summary: dict[str, Any]) -> Iterator[tuple[str, tuple[str, str, str] | None]]:
    """The metric rows, each section announced once by a (section, None) item before its rows."""
    section = ""
    for sec, name, value, n in _metric_rows(summary):
        if sec != section:
            yield sec, None
            section = sec
        yield sec, (name, value, n)


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f2f2f2}code{background:#f5f5f5;padding:2px 4px}
.sec td{background:#fafafa;font-weight:bold}img{max-width:100%;margin:.5em 0}
.filters select,.filters input{font:inherit;padding:2px 4px}#nr-qsearch{width:18em}"""


def html_report(summary: dict[str, Any], records: list[dict[str, Any]], plots: dict[str, bytes],
                command: str) -> str:
    e = html.escape
    run = summary["run"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>newsrag eval</title><style>{CSS}</style>"
             "</head><body><h1>newsrag eval report</h1>", f"<p><code>{e(command)}</code></p><table>"]
    parts += [f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in run.items()]
    judge = summary["judge"]
    parts.append(f"<tr><th>questions</th><td>{summary['questions']} (errors: {summary['errors']})</td></tr>"
                 f"<tr><th>judge</th><td>{e(judge['name'])}: {judge['calls']} calls, {judge['failures']} failures"
                 "</td></tr></table><h2>Metrics</h2><p>Each value with its bootstrap 95% interval over the questions "
                 "[low, high].</p><table><tr><th>metric</th><th>value [95% CI]</th><th>n</th></tr>")
    parts += [f"<tr class='sec'><td colspan='3'>{e(sec)}</td></tr>" if row is None else
              f"<tr><td>{e(row[0])}</td><td>{row[1]}</td><td>{e(row[2])}</td></tr>" for sec, row in _sectioned(summary)]
    parts.append("</table><p>Counts: " + e(", ".join(f"{k} {v}" for k, v in summary["counts"].items())) + "</p>")
    parts.append("<h2>Latency (ms)</h2><table><tr><th>stage</th><th>p50</th><th>p95</th><th>n</th></tr>")
    parts += [f"<tr><td>{e(s)}</td><td>{v['p50']}</td><td>{v['p95']}</td><td>{v['n']}</td></tr>"
              for s, v in summary["latency_ms"].items()]
    parts.append("</table>")
    for name, png in plots.items():
        data = base64.b64encode(png).decode()
        parts.append(f"<h2>{e(PLOT_TITLES.get(name, name))}</h2>"
                     f"<img alt='{e(name)}' src='data:image/png;base64,{data}'>")
    rows = failure_rows(records)
    cols = ["id", "question", "failures", "gold", "gold rank", "answer", "why"]
    parts.append(f"<h2>Failures ({len(rows)} of {len(records)} questions)</h2><table><tr>"
                 + "".join(f"<th>{c}</th>" for c in cols) + "</tr>")
    parts += ["<tr>" + "".join(f"<td>{e(_short(row[c], 300))}</td>" for c in cols) + "</tr>" for row in rows]
    parts.append("</table>")
    parts.append(html_table(question_rows(records), _short))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(out: Path, summary: dict[str, Any], records: list[dict[str, Any]], command: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    results.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    plots = make_plots(records)
    if plots:
        (out / "plots").mkdir(exist_ok=True)
        for name, png in plots.items():
            (out / "plots" / name).write_bytes(png)
    (out / "report.md").write_text(markdown(summary, records, list(plots), command), encoding="utf-8")
    (out / "report.html").write_text(html_report(summary, records, plots, command), encoding="utf-8")
    return [results, out / "summary.json", out / "report.md", out / "report.html"]
