"""The one settings object. Nothing else in the package reads ``os.environ``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "career-tutor"
# The only variables we read. HOME, ENGINE or CORPUS_DIR in a user's shell are none of ours.
_OURS = ("tutor_", "openai_")
_ALSO_OURS = {"tiktoken_cache_dir", "data_gym_cache_dir"}


def _default_home() -> Path:
    """The platform's per-user data dir: $XDG_DATA_HOME/career-tutor on Linux."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _only_ours(env: Mapping[str, str | None]) -> dict[str, str | None]:
    return {k: v for k, v in env.items() if k.lower().startswith(_OURS) or k.lower() in _ALSO_OURS}


class _EnvSource(EnvSettingsSource):
    """Environment variables, limited to the documented TUTOR_* and OPENAI_* names.

    Fields can be set by name in code (``Settings(home=...)``), and pydantic-settings then also
    matches a field's bare name in the environment: ``HOME`` redirected the data dir into $HOME.
    """

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return _only_ours(super()._load_env_vars())


class _DotEnvSource(DotEnvSettingsSource):
    def _load_env_vars(self) -> Mapping[str, str | None]:
        return _only_ours(super()._load_env_vars())


class Settings(BaseSettings):
    """Built from the environment and an optional ``.env`` in the working directory."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = getattr(dotenv_settings, "env_file", None)
        return (
            init_settings,
            _EnvSource(settings_cls),
            _DotEnvSource(settings_cls, env_file=env_file),
        )

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

    # Web: abuse limits. Rates are per client address as well as per learner, so minting fresh
    # cookies does not reset them; the address is the socket peer's, or the one forwarded by a
    # trusted proxy (TUTOR_TRUSTED_PROXIES).
    chat_rate_per_address: int = Field(
        default=60, ge=1, validation_alias="TUTOR_CHAT_RATE_PER_ADDRESS"
    )
    write_rate_per_minute: int = Field(default=120, ge=1, validation_alias="TUTOR_WRITE_RATE")
    write_rate_per_address: int = Field(
        default=600, ge=1, validation_alias="TUTOR_WRITE_RATE_PER_ADDRESS"
    )
    new_learners_per_hour: int = Field(
        default=60, ge=1, validation_alias="TUTOR_NEW_LEARNERS_PER_HOUR"
    )
    max_conversations: int = Field(
        default=500, ge=1, le=100_000, validation_alias="TUTOR_MAX_CONVERSATIONS"
    )
    retention_days: int = Field(default=90, ge=1, validation_alias="TUTOR_RETENTION_DAYS")

    # Web: behind a proxy. Addresses (or CIDR ranges) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; "*" trusts any peer (only when nothing else can reach
    # the port). Empty: forwarded headers are ignored.
    trusted_proxies: str = Field(default="", validation_alias="TUTOR_TRUSTED_PROXIES")
    # Host names this site answers to (comma-separated, "*.example.org" allowed); "*" is any.
    allowed_hosts: str = Field(default="*", validation_alias="TUTOR_ALLOWED_HOSTS")

    # Web: the HTTP server (`tutor serve`).
    max_header_bytes: int = Field(
        default=32_768, ge=4096, le=1_048_576, validation_alias="TUTOR_MAX_HEADER_BYTES"
    )
    header_timeout: float = Field(
        default=10.0, gt=0, le=300, validation_alias="TUTOR_HEADER_TIMEOUT"
    )
    keep_alive_timeout: int = Field(
        default=5, ge=1, le=300, validation_alias="TUTOR_KEEP_ALIVE_TIMEOUT"
    )
    # 200 learners on one page each keep a connection open between questions; at 100 the load
    # test's 200-learner level lost 54 of 400 answers to 503s (evals/bench_load.py)
    max_connections: int = Field(default=400, ge=1, validation_alias="TUTOR_MAX_CONNECTIONS")

    # Eval judge (optional tier)
    judge_model: str | None = Field(default=None, validation_alias="TUTOR_JUDGE_MODEL")

    @staticmethod
    def _csv(value: str) -> list[str]:
        return [v.strip() for v in value.split(",") if v.strip()]

    @property
    def trusted_proxy_list(self) -> list[str]:
        return self._csv(self.trusted_proxies)

    @property
    def allowed_host_list(self) -> list[str]:
        return self._csv(self.allowed_hosts) or ["*"]

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
        """The data dir, created 0700 (and chroma/ in it): it holds learners' questions.

        A 0755 home with a 0644 database let any local user read them.
        """
        if not self.home.is_dir():
            self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.home.chmod(0o700)  # mkdir's mode is filtered by the umask
        if self.chroma_url is None and not self.chroma_path.is_dir():
            self.chroma_path.mkdir(mode=0o700, exist_ok=True)
            self.chroma_path.chmod(0o700)
        return self.home


def _variable(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        alias = alias.choices[0]
    return str(alias or field).upper()


def config_error(exc: ValidationError) -> ConfigError:
    """A bad TUTOR_*/OPENAI_* value, named as the user typed it, with what it accepts."""
    problems = []
    for err in exc.errors():
        loc = err.get("loc") or ("?",)
        name = _variable(str(loc[0]))
        got = err.get("input")
        allowed = (err.get("ctx") or {}).get("expected")
        msg = f"{name}={got!r}: {err.get('msg', 'invalid')}"
        if allowed and str(allowed) not in msg:
            msg += f" (allowed: {allowed})"
        problems.append(msg)
    return ConfigError(
        "Bad setting: " + "; ".join(problems) + ".",
        "Fix or unset the variable (in your shell or .env); the README's Configuration table "
        "lists every setting and its default.",
    )


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise config_error(exc) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def hf_offline() -> None:
    """Forbid hub downloads before transformers is imported: the sandbox has no internet."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
