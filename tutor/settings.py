"""The one settings object. Nothing else in the package reads ``os.environ``."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "career-tutor"


class Settings(BaseSettings):
    """Built from the environment and an optional ``.env`` in the working directory."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # Data dir: the SQLite database (manifest, progress, conversations) and the local Chroma store.
    home: Path = Field(default_factory=_default_home, validation_alias="TUTOR_HOME")
    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus", validation_alias="TUTOR_CORPUS")
    prompts_dir: Path = Field(default=PROJECT_ROOT / "prompts", validation_alias="TUTOR_PROMPTS")
    # When set (http://host:port), the index lives in a Chroma server instead of TUTOR_HOME.
    chroma_url: str | None = Field(default=None, validation_alias="TUTOR_CHROMA_URL")
    collection: str = Field(default="role-guides", validation_alias="TUTOR_COLLECTION")
    # "minilm" (offline, bundled all-MiniLM-L6-v2) or "openai:<model>".
    embedder: str = Field(default="minilm", validation_alias="TUTOR_EMBEDDER")
    chunk_tokens: int = Field(default=200, ge=32, le=2000, validation_alias="TUTOR_CHUNK_TOKENS")

    # Answer engine: "auto" picks OpenAI when a key or base URL is configured, offline otherwise.
    engine: Literal["auto", "offline", "openai"] = Field(
        default="auto", validation_alias="TUTOR_ENGINE"
    )
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_model: str = Field(default="gpt-4o-mini", validation_alias="OPENAI_MODEL")
    openai_timeout: float = Field(default=30.0, gt=0, validation_alias="OPENAI_TIMEOUT")
    openai_max_retries: int = Field(default=2, ge=0, le=10, validation_alias="OPENAI_MAX_RETRIES")
    max_output_tokens: int = Field(default=600, ge=16, validation_alias="TUTOR_MAX_OUTPUT_TOKENS")
    context_window: int = Field(default=16000, ge=1024, validation_alias="TUTOR_CONTEXT_WINDOW")

    tiktoken_cache_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")
    )

    # Web
    secret_key: str | None = Field(default=None, validation_alias="TUTOR_SECRET_KEY")
    max_message_chars: int = Field(default=4000, ge=1, validation_alias="TUTOR_MAX_MESSAGE_CHARS")
    max_body_bytes: int = Field(default=64_000, ge=1024, validation_alias="TUTOR_MAX_BODY_BYTES")
    chat_rate_per_minute: int = Field(default=20, ge=1, validation_alias="TUTOR_CHAT_RATE")

    # Eval judge (optional tier)
    judge_model: str | None = Field(default=None, validation_alias="TUTOR_JUDGE_MODEL")

    @property
    def db_path(self) -> Path:
        return self.home / "tutor.db"

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def engine_name(self) -> str:
        if self.engine != "auto":
            return self.engine
        return "openai" if (self.openai_api_key or self.openai_base_url) else "offline"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def hf_offline() -> None:
    """Forbid hub downloads before transformers is imported: the sandbox has no internet."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
