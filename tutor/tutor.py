"""The tutor API that the CLI and the web app share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .index import IngestReport, Index, ProgressFactory
from .retrieval import Hit, Mode, Retriever
from .settings import Settings, get_settings


class Tutor:
    def __init__(self, settings: Settings, index: Index | None = None) -> None:
        self.settings = settings
        self.index = index or Index(settings)
        self.retriever = Retriever(self.index)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> Tutor:
        return cls(settings or get_settings(), **kwargs)

    # --- knowledge base ----------------------------------------------------------------------

    def ingest(
        self, paths: Sequence[Path] = (), role: str | None = None, progress: ProgressFactory | None = None
    ) -> IngestReport:
        report = self.index.ingest(paths, role=role, progress=progress)
        self.retriever.refresh()
        return report

    def search(self, query: str, role: str | None = None, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        return self.retriever.search(query, role=role, k=k, mode=mode)

    def close(self) -> None:
        self.index.close()
