"""One typed Settings object, read once from NEWSRAG_* variables and an optional .env file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.answering.registry import ANSWERERS, RERANKERS
from index.embedding.factory import EMBEDDERS

# Libraries that phone home or reach for a model hub read these at import time, so they are set
# here, once, before the wiring imports them. They are constants of the product, not user settings.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}


def go_offline() -> None:
    """Pin the offline/telemetry switches before any heavy library is imported."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


class Settings(BaseSettings):
    """Every knob of newsrag. Each field is also the variable NEWSRAG_<FIELD> (see .env.example)."""

    model_config = SettingsConfigDict(env_prefix="NEWSRAG_", env_file=".env", extra="ignore")

    # where things live
    data_dir: Path = Path("newsrag-data")
    chroma_url: str = ""
    model_cache_dir: Path | None = None

    # indexing
    embedder: Annotated[str, AfterValidator(EMBEDDERS.check)] = "minilm"
    embed_backend: Literal["auto", "torch", "onnx", "onnx-int8"] = "auto"
    embed_batch_size: int = 8
    chunk_tokens: int = 200
    chunk_overlap: int = 30
    ingest_batch_articles: int = 64
    max_file_mb: float = 20.0

    # retrieval and answering
    top_k: int = 6
    answerer: Annotated[str, AfterValidator(ANSWERERS.check)] = "extractive"
    reranker: Annotated[str, AfterValidator(RERANKERS.check)] = "none"
    max_sentences: int = 3
    min_support: float = 0.42

    # LLM answerer (any OpenAI-compatible endpoint)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 30.0
    llm_temperature: float = 0.0
    llm_seed: int = 0
    llm_max_tokens: int = 512
    llm_max_concurrent: int = 8
    drop_unsupported: bool = True

    # web server, API and widget
    host: str = "127.0.0.1"
    port: int = 7860
    admin_token: str | None = None
    widget_origins: str = ""
    rate_limit_per_minute: int = 30
    trusted_proxies: str = ""
    max_request_mb: float = 1.0

    def fingerprint(self) -> str:
        """A short hash of the settings that change answers (never includes secrets)."""
        keys = ("embedder", "embed_backend", "chunk_tokens", "chunk_overlap", "top_k", "answerer", "reranker",
                "max_sentences", "min_support", "llm_model", "llm_temperature", "llm_seed", "drop_unsupported")
        payload = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def models_dir(self) -> Path:
        """Where exported ONNX models are cached (shared by every data dir that points here)."""
        return Path(self.model_cache_dir) if self.model_cache_dir else Path(self.data_dir) / "models"

    def allowed_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.widget_origins.split(",") if o.strip()]
