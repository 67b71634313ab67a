"""Shared fixtures. Everything runs offline: the fake embedder for unit tests, the packaged MiniLM for
integration tests (marked slow), real Chroma always."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, go_offline

go_offline()

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "examples" / "articles"
SAMPLE = SAMPLE_DIR / "russian-airstrikes-in-syria.txt"
SHARED = ROOT.parent / "shared" / "data"
# The ONNX export of MiniLM (~30 s) is made once per machine, not once per test data dir.
MODEL_CACHE = Path.home() / ".cache" / "newsrag" / "test-models"


# NEWSRAG_MIN_SUPPORT is calibrated for MiniLM; the hash fake's cosines run lower (0.2-0.35 for the sentence that
# answers, where MiniLM gives 0.4-0.5), so tests on the fake use a threshold on its own scale.
HASH_MIN_SUPPORT = 0.5


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": data_dir, "embedder": "hash", "model_cache_dir": MODEL_CACHE,
                                 **overrides}
    if values["embedder"] == "hash":
        values.setdefault("min_support", HASH_MIN_SUPPORT)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def sample_copies(folder: Path, n: int) -> Path:
    """`n` distinct articles in `folder`, each the bundled sample with its own title line and last line."""
    folder.mkdir()
    base = SAMPLE.read_text()
    for i in range(n):
        (folder / f"a{i:03}.txt").write_text(f"Story {i}\n\n{base}\nEdition {i}.")
    return folder


def offline_eval_env(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """The environment of an in-process `newsrag eval` on the hash fake: its own data dir and cache under `tmp`."""
    mp.setenv("NEWSRAG_EMBEDDER", "hash")
    mp.setenv("NEWSRAG_MIN_SUPPORT", str(HASH_MIN_SUPPORT))  # the threshold on the fake's scale (above)
    mp.setenv("NEWSRAG_DATA_DIR", str(tmp / "data"))
    mp.setenv("XDG_CACHE_HOME", str(tmp / "cache"))
    mp.delenv("NEWSRAG_ANSWERER", raising=False)
    mp.chdir(tmp)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def engine(settings: Settings):  # type: ignore[no-untyped-def]
    from app.engine import build_engine

    return build_engine(settings)


@pytest.fixture
def sample_engine(engine):  # type: ignore[no-untyped-def]
    report = engine.ingest([SAMPLE_DIR])
    assert report.added
    return engine


def sample_engine_in(data_dir: Path, **overrides: object):  # type: ignore[no-untyped-def]
    """A fresh engine over the bundled sample in `data_dir` (for module-scoped, read-only fixtures)."""
    from app.engine import build_engine

    engine = build_engine(make_settings(data_dir, **overrides))
    assert engine.ingest([SAMPLE_DIR]).added
    return engine


@pytest.fixture(scope="session")
def real_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The real MiniLM model over the bundled sample, shared by the integration tests."""
    from app.engine import build_engine

    engine = build_engine(make_settings(tmp_path_factory.mktemp("real") / "data", embedder="minilm"))
    engine.ingest([SAMPLE_DIR])
    return engine


@pytest.fixture
def sample_text() -> str:
    from index.load import load_file

    article = next(iter(load_file(SAMPLE)))
    assert not hasattr(article, "reason")
    return article.text  # type: ignore[union-attr]
pytest_plugins = ["tests.fake_openai", "tests.local_llm"]
