"""Embedder backends: ONNX INT8 stays close to torch fp32, a warm ONNX process never imports torch, and an index
refuses vectors from a backend other than the one that built it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.errors import ConfigError
from index.manifest import Manifest
from index.types import Article, Chunk
from tests.conftest import MODEL_CACHE, ROOT, SAMPLE, SAMPLE_DIR, make_settings

SENTENCES = [
    "Speaking at the UN Security Council, Mr Kerry reiterated Washington's view on Assad.",
    "Russia says its airstrikes in Syria are targeting the Islamic State group.",
    "What did Lavrov say about the strikes?",
    "The central bank raised interest rates by a quarter of a percentage point on Wednesday.",
    "Heavy rain flooded the city centre and closed two railway lines.",
    "BYD overtook Tesla as the world's largest seller of electric vehicles.",
    "short",
    "A much longer passage that goes on " * 40,  # past 256 word pieces: truncated like sentence-transformers
]


@pytest.mark.slow
def test_onnx_backends_match_torch_fp32() -> None:
    from index.embedding.minilm import MiniLMEmbedder
    from index.embedding.onnx_minilm import OnnxMiniLMEmbedder

    reference = MiniLMEmbedder().embed(SENTENCES)
    fp32 = OnnxMiniLMEmbedder(MODEL_CACHE, quantized=False).embed(SENTENCES)
    embedder = OnnxMiniLMEmbedder(MODEL_CACHE, quantized=True, threads=2)
    int8 = embedder.embed(SENTENCES)
    assert int8.shape == (len(SENTENCES), 384) and np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    assert float((reference * fp32).sum(1).min()) >= 0.999
    cos = (reference * int8).sum(1)
    assert float(cos.mean()) >= 0.99 and float(cos.min()) >= 0.97, cos
    # texts run longest first on two threads: each vector must still land on its own row
    assert np.allclose(embedder.embed(SENTENCES[::-1])[::-1], int8, atol=1e-6)
    # and a text's vector is a function of the text alone, not of the texts embedded with it
    alone = np.stack([embedder.embed([text])[0] for text in SENTENCES])
    np.testing.assert_array_equal(alone, int8)


@pytest.mark.slow
def test_warm_onnx_process_never_imports_torch(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from app.engine import build_engine; "
            "from tests.conftest import make_settings; "
            f"e = build_engine(make_settings(Path({str(tmp_path / 'data')!r}), embedder='minilm')); "
            f"e.ingest([Path({str(SAMPLE_DIR)!r})]); e.ask('What did Kerry say about Assad?'); "
            "bad = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", "from index.embedding.onnx_export import exported_model; "
                    "from tests.conftest import "
                    "MODEL_CACHE; exported_model(MODEL_CACHE, True)"], cwd=ROOT, check=True)  # the one-off export
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def _index_one(manifest: Manifest) -> None:
    article = Article(id="a", title="T", text="Some text here.")
    manifest.commit([(article, [Chunk(id="a:x:0", article_id="a", ordinal=0, start=0, end=4, text="Some")], [])])


def test_manifest_records_the_embedder_and_refuses_another(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "m.sqlite")
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "onnx") is None  # an empty index adopts any
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "onnx-int8") is None
    _index_one(manifest)
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "onnx-int8") is None
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "torch") == ("all-MiniLM-L6-v2", "onnx-int8", "")
    assert manifest.meta("embed_backend") == "onnx-int8"


def test_an_index_remembers_the_export_recipe_and_refuses_another(tmp_path: Path) -> None:
    from app.engine import check_embedder
    from app.errors import ConfigError
    from index.embedding.hashing import HashEmbedder
    from index.embedding.onnx_export import RECIPE

    assert RECIPE == "export v2"
    manifest = Manifest(tmp_path / "m.sqlite")
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "onnx-int8", "export v1") is None
    _index_one(manifest)
    manifest.db.execute("DELETE FROM meta WHERE key = 'embed_recipe'")  # as an index from before recipes were kept:
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "onnx-int8", "export v1") is None  # it was made with v1
    assert manifest.meta("embed_recipe") == "export v1"
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "onnx-int8", RECIPE) == \
        ("all-MiniLM-L6-v2", "onnx-int8", "export v1")
    manifest.db.execute("DELETE FROM meta WHERE key = 'embed_recipe'")  # the same old index, met by this newsrag:
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "onnx-int8", RECIPE) == \
        ("all-MiniLM-L6-v2", "onnx-int8", "export v1")  # refused, not adopted: its vectors are v1's

    class NewRecipe(HashEmbedder):  # the same model and backend, exported another way
        name, backend, recipe = "all-MiniLM-L6-v2", "onnx-int8", RECIPE

    with pytest.raises(ConfigError, match="exported as 'export v1', but this newsrag exports it as 'export v2'"):
        check_embedder(manifest, NewRecipe(), tmp_path)


def test_an_index_from_before_the_record_counts_as_torch(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "m.sqlite")
    _index_one(manifest)
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "onnx-int8") == ("all-MiniLM-L6-v2", "torch", "")
    assert manifest.claim_embedder("all-MiniLM-L6-v2", "torch") is None


def test_engine_refuses_a_backend_mismatch_with_a_clear_message(tmp_path: Path) -> None:
    from app.engine import build_engine

    data = tmp_path / "data"
    assert build_engine(make_settings(data)).ingest([SAMPLE_DIR]).added
    with pytest.raises(ConfigError) as refused:
        build_engine(make_settings(data, embedder="minilm", embed_backend="torch"))
    message = str(refused.value)
    assert "built with hash" in message and "NEWSRAG_EMBEDDER=hash" in message and "new NEWSRAG_DATA_DIR" in message
    assert build_engine(make_settings(data)).ask("What did Kerry say about Assad?").citations  # the right one works


TRICKY = ["Ça coûte 3,5 milliards d’euros — selon l’AFP.", "東京で会議 was held\u00a0today", "a\x1cb\x0bc\x85d",
          "x" * 150 + " done", "U.S.-led talks (in Doha) ended; 12.5% agreed!", "tab\tand\nnew  lines\u2028here",
          "zero\u200bwidth and e\u0301 combining", "", "   "]


def test_memoised_word_pieces_equal_the_tokenizer() -> None:
    from tokenizers import Tokenizer

    from index.embedding.base import WordPieces
    from index.embedding.onnx_export import model_dir

    reference = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    reference.no_padding()  # the file pads to 128 and truncates
    reference.no_truncation()
    pieces = WordPieces(model_dir())
    texts = [*TRICKY, *SAMPLE.read_text(encoding="utf-8").split("\n\n")]
    for _ in range(2):  # the second pass is served from the memo
        for text in texts:
            assert pieces(text) == reference.encode(text, add_special_tokens=False).ids, text
    assert "coûte" in pieces.memo and "a\x1cb\x0bc\x85d" not in pieces.memo
    pieces.MAX_WORDS = 5
    assert pieces("one two three four five six seven") == reference.encode("one two three four five six seven",
                                                                          add_special_tokens=False).ids
    assert len(pieces.memo) <= 7


def test_auto_backend_follows_the_cpu_and_an_index_keeps_its_own(tmp_path: Path) -> None:
    from index.embedding.cpu import choose_backend, cpu_flags
    from index.embedding.factory import resolve_backend as embed_backend

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu sse2 avx2 fma\n")
    assert cpu_flags(info) == {"fpu", "sse2", "avx2", "fma"}
    assert choose_backend(frozenset({"avx2", "fma"})) == "onnx"  # AVX2 only: INT8 barely faster, less exact
    assert choose_backend(frozenset({"avx2", "avx512f", "avx512_vnni"})) == "onnx-int8"
    assert choose_backend(frozenset({"avx2", "avx_vnni"})) == "onnx-int8"
    assert choose_backend(frozenset()) == "onnx-int8"  # unknown CPU: the former default
    manifest = Manifest(tmp_path / "m.sqlite")
    assert embed_backend("auto", manifest) == choose_backend()  # an empty index: this CPU's best
    assert embed_backend("torch", manifest) == "torch"  # an explicit choice is kept
    _index_one(manifest)
    assert embed_backend("auto", manifest) == "torch"  # vectors from before the backend was recorded: torch's
    manifest.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('embed_backend', 'onnx')")
    assert embed_backend("auto", manifest) == "onnx"  # whatever this CPU prefers, the index keeps its backend
