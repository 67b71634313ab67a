"""The answering embedding cache: same vectors as the embedder, each text embedded once, bounded."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from app.answering.embed_cache import CachedEmbedder
from app.engine import Engine
from index.embedding.hashing import HashEmbedder


class Recording(HashEmbedder):
    """The hash embedder, remembering every batch it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super().embed(texts)


def test_same_vectors_and_each_text_embedded_once() -> None:
    inner = Recording()
    cached = CachedEmbedder(inner)
    first = cached.embed(["a cat", "a dog", "a cat"])
    assert inner.calls == [["a cat", "a dog"]]  # duplicates in one call are embedded once
    np.testing.assert_array_equal(first, HashEmbedder().embed(["a cat", "a dog", "a cat"]))
    second = cached.embed(["a dog", "a bird", "a cat"])
    assert inner.calls[-1] == ["a bird"]  # only what was never seen, in one batch
    np.testing.assert_array_equal(second, HashEmbedder().embed(["a dog", "a bird", "a cat"]))
    assert cached.embed([]).shape == (0, cached.dim)
    assert (cached.hits, cached.misses) == (2, 3)  # rows served from the cache; texts embedded
    assert (cached.name, cached.backend, cached.dim) == (inner.name, inner.backend, inner.dim)


def test_least_recently_used_texts_are_dropped_first() -> None:
    inner = Recording()
    cached = CachedEmbedder(inner, max_items=2)
    cached.embed(["one", "two"])
    cached.embed(["one"])  # "one" is now the most recently used
    cached.embed(["three"])  # evicts "two"
    assert len(cached) == 2
    inner.calls.clear()
    cached.embed(["one", "three", "two"])
    assert inner.calls == [["two"]]
    cached.clear()
    assert len(cached) == 0


@pytest.mark.slow
def test_asking_again_embeds_nothing_and_answers_the_same(real_engine: Engine) -> None:
    question = "How many civilians were killed in the raids?"
    assert isinstance(real_engine.embedder, CachedEmbedder)
    real_engine.embedder.clear()
    first = real_engine.ask(question)
    misses = real_engine.embedder.misses
    assert misses > 5  # the question and the candidate sentences of the passages
    again = real_engine.ask(question)
    assert real_engine.embedder.misses == misses
    assert again.model_dump(exclude={"timings_ms"}) == first.model_dump(exclude={"timings_ms"})
    assert not first.refused and "at least 33 civilians" in first.text


@pytest.mark.slow
def test_an_int8_vector_does_not_depend_on_the_other_texts(real_engine: Engine) -> None:
    """INT8 dynamic quantisation scales per batch: embedded among others, a sentence's vector would change with them
    (and a cached one would depend on which question brought it in first)."""
    cached = real_engine.embedder
    assert isinstance(cached, CachedEmbedder) and cached.backend.startswith("onnx")
    sentence = "Russia says its airstrikes in Syria target the Islamic State group."
    others = ["Kerry spoke at the UN.", "The strikes hit Homs and Hama provinces, killing at least 33 civilians, "
              "according to activists monitoring the conflict from the United Kingdom."] * 5
    cached.clear()
    alone = cached.embed([sentence])[0]
    cached.clear()
    together = cached.embed([*others, sentence])[-1]
    np.testing.assert_array_equal(alone, together)
