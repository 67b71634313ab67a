"""The pluggable kinds of the answering side, by name: answerers, follow-up condensers, rerankers.

`Settings` validates NEWSRAG_ANSWERER / NEWSRAG_RERANKER against these names; the CLI's `--answerer` choices, the
web UI's answerer dropdown and the API schema's `answerer` enum read them too. Adding an answerer is one module with
a factory `(settings, embedder) -> Answerer` plus one `ANSWERERS.add` line here (docs/architecture.md).
"""

from __future__ import annotations

from index.registry import Registry

ANSWERERS = Registry("answerer", "NEWSRAG_ANSWERER")
ANSWERERS.add("extractive", "app.answering.extractive:ExtractiveAnswerer.build",
              "verbatim sentences from the articles, each cited (offline, the default)", condenser="rules")
ANSWERERS.add("llm", "app.answering.llm:LLMAnswerer.from_settings",
              "an OpenAI-compatible model (NEWSRAG_LLM_*), every sentence verified", condenser="llm")
ANSWERERS.add("local", "app.answering.local.answerer:LocalAnswerer.build",
              "a model newsrag runs itself (bash setup.sh --llm), every sentence verified", condenser="rules")

CONDENSERS = Registry("condenser", "the answerer's `condenser` option")
CONDENSERS.add("rules", "app.answering.condense:RuleCondenser.build", "deterministic follow-up rewriting")
CONDENSERS.add("llm", "app.answering.condense:build_llm", "the model rewrites follow-ups (rules as fallback)")

RERANKERS = Registry("reranker", "NEWSRAG_RERANKER")
RERANKERS.add("none", "app.answering.rerank:Passthrough.build", "keep the retriever's order")
