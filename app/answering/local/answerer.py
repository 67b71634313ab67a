"""The `local` answerer: the `llm` answer chain (same prompt machinery, verifier, fallback and streaming) talking to
a model that newsrag runs itself, so a user without an API key or a network still gets a generated, cited answer.

The model server (app/answering/local/server.py) is started on the first question on a free loopback port, one per
data dir, and reused by later commands; when it dies mid-answer the chain falls back to quotes, and the next
question starts it again. A small model reads fewer passages (`NEWSRAG_LOCAL_PASSAGES`): on two CPU cores every
passage costs seconds of prompt processing before the first token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from app.answering.extractive import ExtractiveAnswerer
from app.answering.llm import LLMAnswerer
from app.answering.llm_call import Endpoint, endpoint
from app.answering.local.model import check_installed, default_model_path
from app.answering.local.server import LocalServer
from app.answering.prompts import Prompt, load_prompt
from app.answering.support import HeuristicJudge, Judge
from app.settings import Settings
from app.types import Event, Passage
from index.embedding.base import Embedder

ALIAS = "newsrag-local"


def model_path(settings: Settings) -> Path:
    return Path(settings.local_model).expanduser() if settings.local_model else default_model_path()


def local_server(settings: Settings) -> LocalServer:
    return LocalServer(Path(settings.data_dir), model_path(settings), threads=settings.local_threads,
                       idle_minutes=settings.local_idle_minutes, alias=ALIAS)


class LocalAnswerer(LLMAnswerer):
    name = "local"
    cite_uncited = True  # a 1.5B model drops markers from right sentences: the verifier finds their passage

    def __init__(self, server: LocalServer, settings: Settings, judge: Judge, fallback: ExtractiveAnswerer,
                 prompt: Prompt | None = None):
        # the chain's settings: the server's alias as the model, the local deadline for a whole reply
        chain = settings.model_copy(update={"llm_model": server.alias, "llm_timeout": settings.local_timeout})
        super().__init__(None, chain, judge, fallback, prompt or load_prompt("answer", settings.local_prompt))
        self.server = server

    @classmethod
    def build(cls, settings: Settings, embedder: Embedder) -> LocalAnswerer:
        check_installed(model_path(settings))  # a clear error naming the install command, before any question
        return cls(local_server(settings), settings, HeuristicJudge(embedder),
                   ExtractiveAnswerer(embedder, settings.max_sentences, settings.min_support))

    def stream(self, question: str, passages: list[Passage]) -> Iterator[Event]:
        yield from super().stream(question, passages[: max(1, self.settings.local_passages)])

    def connect(self) -> Endpoint:
        """The running server's endpoint, starting the server if there is none (LocalServerError if it cannot).
        One Endpoint per address (app/answering/llm_call.py): a restarted server may listen on another port."""
        return endpoint(self.settings.model_copy(update={"llm_base_url": self.server.ensure().base_url}))
