"""One typed Settings object, read once from NEWSRAG_* variables and an optional .env file."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from dotenv import dotenv_values  # pydantic-settings' own .env reader
from pydantic import AfterValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.answering.registry import ANSWERERS, RERANKERS
from app.errors import ConfigError
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
    fetch_timeout: float = 20.0
    duplicate_threshold: float = 0.5

    # retrieval and answering
    top_k: int = 6
    passages_per_article: Annotated[int, Field(ge=0)] = 1
    answerer: Annotated[str, AfterValidator(ANSWERERS.check)] = "extractive"
    reranker: Annotated[str, AfterValidator(RERANKERS.check)] = "none"
    recency_weight: float = 2.0
    max_sentences: int = 3
    min_support: float = 0.625

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

    # local answerer (NEWSRAG_ANSWERER=local: a model newsrag runs itself; `bash setup.sh --llm` installs it)
    local_model: Path | None = None
    local_threads: int = 1
    local_passages: int = 3
    local_prompt: str = "2"
    local_timeout: float = 180.0
    local_idle_minutes: float = 30.0

    # web server, API and widget
    host: str = "127.0.0.1"
    port: int = 7860
    admin_token: str | None = None
    widget_origins: str = ""
    rate_limit_per_minute: int = 30
    trusted_proxies: str = ""
    max_request_mb: float = 1.0
    access_log: bool = True

    @model_validator(mode="after")
    def _openai_fallbacks(self) -> Settings:
        """OPENAI_BASE_URL and OPENAI_API_KEY, as the `openai` library reads them, when the NEWSRAG_LLM_* ones are
        empty (a set NEWSRAG_LLM_* always wins)."""
        if not self.llm_base_url and os.environ.get("OPENAI_BASE_URL"):
            self.llm_base_url = os.environ["OPENAI_BASE_URL"]
        if not self.llm_api_key and os.environ.get("OPENAI_API_KEY"):
            self.llm_api_key = os.environ["OPENAI_API_KEY"]
        return self

    def fingerprint(self) -> str:
        """A short hash of the settings that change answers (never includes secrets)."""
        keys = ("embedder", "embed_backend", "chunk_tokens", "chunk_overlap", "top_k", "passages_per_article",
                "answerer", "reranker", "max_sentences", "min_support", "llm_model", "llm_temperature", "llm_seed",
                "drop_unsupported", "duplicate_threshold", "recency_weight")
        payload = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def models_dir(self) -> Path:
        """Where exported ONNX models are cached (shared by every data dir that points here)."""
        return Path(self.model_cache_dir) if self.model_cache_dir else Path(self.data_dir) / "models"

    def allowed_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.widget_origins.split(",") if o.strip()]


PREFIX = "NEWSRAG_"
# NEWSRAG_* variables that are not settings: read by setup.sh and the test tools, never by the product
TOOL_VARIABLES = frozenset({"NEWSRAG_SHARED_DATA", "NEWSRAG_MODEL_CACHE", "NEWSRAG_WHEEL_CACHE", "NEWSRAG_LLM_THREADS"})
EXPECTED = {"int_parsing": "a whole number", "int_from_float": "a whole number", "int_type": "a whole number",
            "float_parsing": "a number", "float_type": "a number", "bool_parsing": "true or false",
            "bool_type": "true or false", "path_type": "a file or folder path", "url_parsing": "a URL"}


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Settings for a face (the CLI, a server worker): unknown NEWSRAG_* variables are warned about on stderr (a
    misspelling would otherwise be ignored without a word), and a bad value is a ConfigError of one line naming the
    variable and what it takes, instead of pydantic's traceback."""
    environ = os.environ if environ is None else environ
    for warning in unknown_variables(environ, env_file):
        print(f"warning: {warning}", file=sys.stderr)
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError(explain(exc)) from None


def unknown_variables(environ: Mapping[str, str], env_file: str | Path | None = ".env") -> list[str]:
    """One line per NEWSRAG_* name (in the environment or the .env file) that is no setting, with the nearest one."""
    names = {k.upper(): "the environment" for k in environ if k.upper().startswith(PREFIX)}
    if env_file is not None and Path(env_file).is_file():
        names.update({k.upper(): str(env_file) for k in dotenv_values(env_file) if k.upper().startswith(PREFIX)})
    known = [PREFIX + f.upper() for f in Settings.model_fields]
    out = []
    for name, where in sorted(names.items()):
        if name in known or name in TOOL_VARIABLES:
            continue
        near = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f" (did you mean {near[0]}?)" if near else ""
        out.append(f"{name} (in {where}) is not a newsrag setting and is ignored{hint}; the settings are listed in "
                   ".env.example")
    return out


def explain(exc: ValidationError) -> str:
    """The first bad setting as one sentence: which variable, the value given, what it takes, and its default."""
    lines = []
    for e in exc.errors():
        field = str(e["loc"][0]) if e.get("loc") else ""
        name = PREFIX + field.upper() if field else "a setting"
        given = e.get("input")
        shown = f"={given!r}" if isinstance(given, str | int | float) else ""
        lines.append(f"{name}{shown} is not valid: {_expected(e, field)}{_default(field)}.")
    return " ".join(lines[:3])


def _expected(error: Any, field: str) -> str:
    kind = error.get("type", "")
    if kind == "literal_error":
        return f"expected one of {(error.get('ctx') or {}).get('expected', '')}".replace("'", "")
    if kind in EXPECTED:
        return f"expected {EXPECTED[kind]}"
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def _default(field: str) -> str:
    info = Settings.model_fields.get(field)
    if info is None or info.default is None or info.default == "":
        return ""
    default = str(info.default).lower() if isinstance(info.default, bool) else info.default
    return f" (the default is {default}; see .env.example)"
