"""Embeddings of the profiles' facts, kept on disk between processes.

Ranking a question against every fact of a profile (tutor/focus.py) embedded about 300 short
texts one by one, 0.9 s of a cold `tutor ask`. They change only when a profile does, so they
are embedded once, in one batch, and stored under TUTOR_HOME keyed by their own text.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def fact_vectors(texts: Sequence[str], embedder: Any, cache_dir: Path) -> dict[str, np.ndarray]:
    """{text: vector} for every text, from the cache when it holds exactly these texts."""
    texts = sorted(set(texts))
    if not texts:
        return {}
    h = hashlib.sha256("\n".join(texts).encode())
    h.update(str(getattr(embedder, "name", type(embedder).__name__)).encode())
    path = cache_dir / f"facts-{h.hexdigest()[:16]}.npy"
    matrix = None
    if path.exists():
        try:
            matrix = np.load(path, allow_pickle=False)
            if matrix.shape[0] != len(texts):
                matrix = None
        except (OSError, ValueError) as exc:  # a torn write: embed again
            log.warning("ignoring a broken fact-vector cache %s: %s", path, exc)
    if matrix is None:
        matrix = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp.npy")
            np.save(tmp, matrix)
            tmp.replace(path)  # atomic: a crash never leaves half a cache
        except OSError as exc:  # a read-only home still answers, only slower
            log.warning("cannot store fact vectors in %s: %s", cache_dir, exc)
    return dict(zip(texts, matrix, strict=True))
