"""Chat models behind one interface. The OpenAI client serves OpenAI, Ollama, vLLM or LM Studio."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any, Protocol

from .errors import LLMError
from .settings import Settings

log = logging.getLogger(__name__)


class ChatModel(Protocol):
    name: str

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        """Yield text deltas; raise LLMError on any failure, including a truncated stream."""
        ...


def complete(model: ChatModel, messages: list[dict[str, str]], max_tokens: int) -> str:
    return "".join(model.stream(messages, max_tokens))


class OpenAIChatModel:
    def __init__(self, settings: Settings) -> None:
        import openai

        self.settings = settings
        self.name = settings.openai_model
        t = settings.openai_timeout
        # read timeout catches a stalled stream; connect fails fast when nothing listens
        self.client = openai.OpenAI(
            api_key=settings.openai_api_key or "not-needed",  # Ollama and LM Studio ignore it
            base_url=settings.openai_base_url,
            timeout=openai.Timeout(t, connect=min(5.0, t)),
            max_retries=settings.openai_max_retries,
        )

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[str]:
        import openai

        deadline = time.monotonic() + self.settings.openai_timeout * (
            self.settings.openai_max_retries + 2
        )
        finish = None
        try:
            stream: Any = self.client.chat.completions.create(
                model=self.name,
                messages=messages,  # type: ignore[arg-type]
                stream=True,
                max_tokens=max_tokens,
                temperature=0.1,
            )
            with stream:
                for chunk in stream:
                    if time.monotonic() > deadline:
                        raise LLMError("The model took too long to answer.")
                    for choice in chunk.choices:
                        if choice.delta and choice.delta.content:
                            yield choice.delta.content
                        if choice.finish_reason:
                            finish = choice.finish_reason
        except openai.AuthenticationError as exc:
            raise LLMError(
                "The model endpoint rejected the API key.", "Check OPENAI_API_KEY."
            ) from exc
        except openai.RateLimitError as exc:
            raise LLMError("The model endpoint is rate-limiting us (429) after retries.") from exc
        except openai.APITimeoutError as exc:
            raise LLMError("The model endpoint timed out.") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"The model endpoint failed with HTTP {exc.status_code}.") from exc
        except openai.APIConnectionError as exc:
            raise LLMError("Cannot reach the model endpoint.", "Check OPENAI_BASE_URL.") from exc
        except openai.OpenAIError as exc:
            raise LLMError(f"The model call failed: {exc}") from exc
        if finish is None:
            raise LLMError("The model's answer stopped before it finished.")
        if finish == "length":
            log.info("answer hit the max_tokens bound (%d)", max_tokens)
