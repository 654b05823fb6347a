"""Optional LLM-judge tier: faithfulness and answer relevance from an OpenAI-compatible endpoint.

Each judgment is asked `repeats` times (mean and spread are reported) and cached by a hash of
its full content (model, prompt version, messages, repeat number) as one JSON file under
settings.home/"judge-cache", so a rerun of the same suite makes no requests and returns the same
numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any

from ..settings import Settings

PROMPT_VERSION = "judge-v1"
MAX_CONTEXT_CHARS = 6000

_FAITH_SYSTEM = (
    "You check whether an answer is supported by reference passages. Judge only against the "
    "passages, not your own knowledge. Reply with one JSON object and nothing else: "
    '{"score": <number from 0 to 1>, "reason": "<one short sentence>"}. '
    "1 means every claim in the answer is stated in the passages; 0 means none is."
)
_RELEVANCE_SYSTEM = (
    "You check whether an answer addresses the learner's question. Reply with one JSON object and "
    'nothing else: {"score": <number from 0 to 1>, "reason": "<one short sentence>"}. '
    "1 means the answer directly and fully addresses the question; 0 means it is off topic. "
    "Saying plainly that the sources do not cover the question counts as relevant."
)


class JudgeError(Exception):
    """The judge tier was asked for but cannot run (no model configured)."""


def judge_configured(settings: Settings) -> bool:
    return bool(settings.judge_model and (settings.openai_base_url or settings.openai_api_key))


def parse_score(text: str) -> tuple[float, str] | None:
    """The score (0..1) and reason from a reply such as '{"score": 0.8, "reason": "..."}'."""
    m = re.search(r"\{.*\}", text or "", re.S)
    if not m:
        return None
    try:
        obj = json.loads(m.group(0))
        score = float(obj["score"])
    except (ValueError, KeyError, TypeError):
        return None
    if not 0.0 <= score <= 1.0:
        return None
    return score, str(obj.get("reason") or "")


class Judge:
    def __init__(
        self,
        settings: Settings,
        repeats: int = 3,
        cache_dir: Path | None = None,
        client: Any = None,
    ) -> None:
        if not settings.judge_model:
            raise JudgeError("No judge model is configured (set TUTOR_JUDGE_MODEL).")
        self.model = settings.judge_model
        self.repeats = max(1, int(repeats))
        self.cache_dir = cache_dir or settings.home / "judge-cache"
        if client is None:
            import openai

            client = openai.OpenAI(
                api_key=settings.openai_api_key or "not-needed",
                base_url=settings.openai_base_url,
                timeout=settings.openai_timeout,
                max_retries=settings.openai_max_retries,
            )
        self.client = client
        self.requests = 0
        self.cache_hits = 0
        self.failures = 0
        self.errors: list[str] = []

    # --- one judgment ---------------------------------------------------------------------------

    def _key(self, metric: str, messages: list[dict[str, str]], repeat: int) -> str:
        blob = json.dumps(
            {
                "v": PROMPT_VERSION,
                "model": self.model,
                "metric": metric,
                "messages": messages,
                "repeat": repeat,
            },
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(blob.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def _ask(
        self, metric: str, messages: list[dict[str, str]], repeat: int
    ) -> dict[str, Any] | None:
        key = self._key(metric, messages, repeat)
        path = self._path(key)
        if path.is_file():
            try:
                rec = json.loads(path.read_text(encoding="utf-8"))
                self.cache_hits += 1
                return rec
            except (OSError, json.JSONDecodeError):
                pass  # a damaged cache file is asked again and rewritten
        import openai

        self.requests += 1
        try:
            resp = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                temperature=0.0 if self.repeats == 1 else 0.7,
                max_tokens=200,
            )
            text = resp.choices[0].message.content or ""
        except openai.OpenAIError as exc:
            self.failures += 1
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return None
        parsed = parse_score(text)
        if parsed is None:
            self.failures += 1
            self.errors.append(f"unparseable judge reply: {text[:120]!r}")
            return None
        rec = {
            "metric": metric,
            "model": self.model,
            "repeat": repeat,
            "score": parsed[0],
            "reason": parsed[1],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(rec, fh, sort_keys=True)
        os.replace(tmp, path)
        return rec

    def _repeat(self, metric: str, messages: list[dict[str, str]]) -> dict[str, Any]:
        recs = [r for r in (self._ask(metric, messages, i) for i in range(self.repeats)) if r]
        scores = [float(r["score"]) for r in recs]
        return {
            "scores": scores,
            "n": len(scores),
            "mean": round(statistics.fmean(scores), 4) if scores else None,
            "spread": round(statistics.pstdev(scores), 4) if scores else None,
            "min": min(scores) if scores else None,
            "max": max(scores) if scores else None,
            "reasons": [r.get("reason", "") for r in recs],
        }

    # --- one answer -----------------------------------------------------------------------------

    def judge(self, question: str, answer_text: str, contexts: list[str]) -> dict[str, Any]:
        ctx = ""
        for i, c in enumerate(contexts, 1):
            piece = f"[{i}] {c.strip()}\n\n"
            if len(ctx) + len(piece) > MAX_CONTEXT_CHARS:
                break
            ctx += piece
        faith = [
            {"role": "system", "content": _FAITH_SYSTEM},
            {
                "role": "user",
                "content": f"Passages:\n{ctx.strip()}\n\nAnswer:\n{answer_text.strip()}",
            },
        ]
        rel = [
            {"role": "system", "content": _RELEVANCE_SYSTEM},
            {
                "role": "user",
                "content": f"Question:\n{question.strip()}\n\nAnswer:\n{answer_text.strip()}",
            },
        ]
        return {
            "faithfulness": self._repeat("faithfulness", faith),
            "relevance": self._repeat("relevance", rel),
        }

    def stats(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "repeats": self.repeats,
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "failures": self.failures,
            "errors": self.errors[:5],
            "cache_dir": str(self.cache_dir),
        }
