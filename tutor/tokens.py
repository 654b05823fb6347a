"""Token counting with tiktoken, falling back to an estimate when no encoding is available.

tiktoken downloads its encodings on first use; this sandbox has no internet, so we only load an
encoding that is already in the cache and otherwise warn once and estimate.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from .settings import get_settings

log = logging.getLogger(__name__)

_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_warned = False


def _cache_dirs() -> list[Path]:
    configured = get_settings().tiktoken_cache_dir
    dirs = [configured] if configured else []
    dirs.append(Path(tempfile.gettempdir()) / "data-gym-cache")  # tiktoken's own default
    return dirs


def encoding_name_for(model: str) -> str:
    m = model.lower()
    if m.startswith(("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4")):
        return "o200k_base"
    return "cl100k_base"


def _cached_file_dir(name: str) -> Path | None:
    key = hashlib.sha1(_BLOB.format(name=name).encode()).hexdigest()
    return next((d for d in _cache_dirs() if (d / key).is_file()), None)


def tiktoken_cached(model: str = "gpt-4o-mini") -> bool:
    """Whether the encoding's file is there, without loading it (loading costs 1 s or more)."""
    return _cached_file_dir(encoding_name_for(model)) is not None


@lru_cache(maxsize=4)
def _encoding(name: str) -> Any | None:
    global _warned
    found = _cached_file_dir(name)
    if found is not None:
        try:
            import tiktoken

            # tiktoken looks in TIKTOKEN_CACHE_DIR itself: point it where we found the file
            os.environ["TIKTOKEN_CACHE_DIR"] = str(found)
            return tiktoken.get_encoding(name)
        except Exception as exc:  # a corrupt cache file must not crash the tutor
            log.debug("tiktoken failed to load %s: %s", name, exc)
    if not _warned:
        _warned = True
        # after `. .venv/bin/activate` nothing sets the variable that `make` sets: say how
        log.warning(
            "tiktoken's %s encoding is not cached, so token counts are estimated. To count "
            "exactly, set TIKTOKEN_CACHE_DIR (in the environment or .env) to a folder holding "
            "tiktoken's cl100k_base and o200k_base files, e.g. ../shared/tiktoken-cache beside "
            "this checkout in CI. See 'The tiktoken cache' in the README.",
            name,
        )
    return None


def count_tokens(text: str, model: str = "gpt-4o-mini") -> int:
    enc = _encoding(encoding_name_for(model))
    if enc is None:
        return estimate_tokens(text)
    return len(enc.encode(text, disallowed_special=()))


def estimate_tokens(text: str) -> int:
    """About four characters a token for English, rounded up so budgets stay safe."""
    return math.ceil(len(text) / 3.5) if text else 0


def have_tiktoken(model: str = "gpt-4o-mini") -> bool:
    return _encoding(encoding_name_for(model)) is not None
