"""The chat web app: a thin FastAPI shell over :class:`tutor.tutor.Tutor`.

``web.app.create_app()`` builds the app; ``web.app.serve(host, port)`` runs it with uvicorn.
"""

from __future__ import annotations

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> object:
    # Lazy: importing ``web`` must not pull in FastAPI, the embedder or Chroma.
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(name)
