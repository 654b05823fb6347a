"""The chat web app: FastAPI + Jinja2 over the one :class:`tutor.tutor.Tutor`.

The Tutor is built once (in the lifespan, unless one is passed in) and held in ``app.state``.
Routes are thin: they take the learner id from the verified cookie (never from the request
body or path), call the Tutor in the threadpool (its methods are synchronous), and shape the
result with the pydantic models in :mod:`web.schemas`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tutor.conversations import DEFAULT_PAGE, MAX_PAGE
from tutor.errors import InputError, LLMError, NotFound, TutorError
from tutor.progress import MAX_HOURS, MIN_HOURS
from tutor.redaction import model_unavailable
from tutor.settings import Settings, get_settings
from tutor.tutor import Tutor

from . import schemas as s
from .render import render_answer
from .security import (
    BodyLimitMiddleware,
    LearnerMiddleware,
    PayloadTooLarge,
    RateLimits,
    SecurityHeadersMiddleware,
    Signer,
    client_address,
    error_body,
    error_headers,
    load_secret,
)
from .server import HEADER_TIMEOUT_KEY, uvicorn_options

log = logging.getLogger("tutor.web")

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

SUGGESTIONS = [
    "How much does a CSM earn in Germany?",
    "How long does it take to become a Customer Success Manager?",
    "What skills should I learn first?",
    "How is a Customer Success Manager different from a Customer Support Manager?",
]


# --- app state and dependencies ---------------------------------------------------------------


class LearnerCache:
    """Learners created (or whose activity was noted) within the last hour, so most writes skip it."""

    def __init__(self, size: int = 50_000, ttl: float = 3600.0) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._size = size
        self._ttl = ttl
        self._lock = threading.Lock()

    def ensure(self, tutor: Tutor, learner_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            at = self._seen.get(learner_id)
            if at is not None and now - at < self._ttl:
                return
        tutor.ensure_learner(learner_id, anonymous=True)
        with self._lock:
            self._seen[learner_id] = now
            self._seen.move_to_end(learner_id)
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)


def get_tutor(request: Request) -> Tutor:
    tutor = getattr(request.app.state, "tutor", None)
    if tutor is None:
        raise TutorError("The tutor is not ready yet.", "Try again in a moment.")
    return tutor


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


TutorDep = Annotated[Tutor, Depends(get_tutor)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_learner(request: Request) -> str:
    """The learner id from the verified cookie (set by LearnerMiddleware). Reading never
    creates a row: 3,000 cookie-less GETs once made 3,000 learners."""
    learner: str = request.scope["state"]["learner_id"]
    return learner


def writer(kind: str) -> Any:
    """A write's learner: counted against the ``kind`` rate per address and per learner first,
    then created in the database if this is its first write."""

    def dependency(request: Request, tutor: TutorDep) -> str:
        learner: str = request.scope["state"]["learner_id"]
        request.app.state.limits.check(kind, client_address(request.scope), learner)
        request.app.state.learners.ensure(tutor, learner)
        return learner

    return Depends(dependency)


LearnerDep = Annotated[str, Depends(get_learner)]
ChatterDep = Annotated[str, writer("chat")]
WriterDep = Annotated[str, writer("write")]


def check_message(message: str, settings: Settings) -> str:
    text = message.strip(s.BLANK)
    if not text:
        raise InputError("The message is empty.", "Type a question for the tutor.")
    if len(text) > settings.max_message_chars:
        raise PayloadTooLarge(
            f"The message is {len(text)} characters long; the limit is {settings.max_message_chars}.",
            "Shorten the question.",
        )
    return text


# --- shaping ------------------------------------------------------------------------------------


def _progress_out(progress: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in progress.items() if k != "learner"}  # the id stays in the cookie


def _conversation_out(conv: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in conv.items() if k != "learner_id"}
    if "messages" in out:
        messages = []
        for i, m in enumerate(out["messages"]):
            m = dict(m)
            if m.get("answer"):
                m["answer"] = render_answer(m["answer"], anchor=f"m{i}")
            messages.append(m)
        out["messages"] = messages
    return out


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def public_error(exc: TutorError, settings: Settings) -> TutorError:
    """An upstream model's error text is logged (redacted), never sent: it may echo our key."""
    if not isinstance(exc, LLMError):
        return exc
    model_unavailable(exc, [settings.openai_api_key])
    return LLMError("The language model is unavailable right now.", "Try again in a moment.")


def _stream(
    first: dict[str, Any], events: Iterator[dict[str, Any]], settings: Settings
) -> Iterator[str]:
    """Server-sent events; runs in the threadpool (StreamingResponse iterates sync iterators there)."""
    try:
        event: dict[str, Any] | None = first
        while event is not None:
            name, data = event.get("event", "message"), event.get("data", {})
            if name == "answer" and isinstance(data, dict):
                data = render_answer(data)
            yield sse(name, data)
            if name in ("answer", "error"):
                return
            event = next(events, None)
    except TutorError as exc:
        yield sse("error", public_error(exc, settings).to_dict())
    except Exception:
        log.exception("chat stream failed")
        yield sse(
            "error",
            {"error": "internal", "message": "The tutor failed to answer.", "hint": "Try again."},
        )
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # the client went away: let ask_stream release what it holds


# --- the app ----------------------------------------------------------------------------------


def _static_versions() -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10]
        for p in STATIC.iterdir()
        if p.is_file()
    }


class _StaticFiles(StaticFiles):
    """Versioned URLs (?v=<hash>) make long caching safe."""

    async def get_response(self, path: str, scope: Any) -> Any:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def create_app(settings: Settings | None = None, tutor: Tutor | None = None) -> FastAPI:
    """Build the app. With ``tutor`` the caller owns it; otherwise the lifespan builds and closes one."""
    if settings is None:
        settings = tutor.settings if tutor is not None else get_settings()
    signer = Signer(load_secret(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        owned = app.state.tutor is None
        if owned:
            app.state.tutor = await run_in_threadpool(Tutor.from_settings, settings)
            await run_in_threadpool(_warm_up, app.state.tutor)
        try:
            # read by web.server's protocol, per connection, in whichever worker serves it
            yield {HEADER_TIMEOUT_KEY: settings.header_timeout}
        finally:
            if owned and app.state.tutor is not None:
                app.state.tutor.close()
                app.state.tutor = None

    app = FastAPI(
        title="Career tutor",
        summary="Cited answers from curated role guides, a roadmap checklist and conversations.",
        version="0.1.0",
        lifespan=lifespan,
        # The schema is served at /openapi.json; the Swagger and ReDoc pages would load their
        # scripts from a CDN, which the Content-Security-Policy (rightly) blocks.
        docs_url=None,
        redoc_url=None,
        responses={
            400: {"model": s.ErrorOut},
            403: {"model": s.ErrorOut},
            404: {"model": s.ErrorOut},
            409: {"model": s.ErrorOut},
            413: {"model": s.ErrorOut},
            # any request can be throttled: a missing cookie counts against minting
            429: {"model": s.ErrorOut, "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
            503: {"model": s.ErrorOut},
        },
    )
    app.state.settings = settings
    app.state.tutor = tutor
    app.state.signer = signer
    app.state.learners = LearnerCache()
    app.state.limits = RateLimits(settings)
    app.state.static_versions = _static_versions()

    # Outermost last: the real client and scheme (from a trusted proxy), headers on
    # everything, the Host allow-list, then the byte count, then cookie + CSRF.
    app.add_middleware(LearnerMiddleware, signer=signer, limits=app.state.limits)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.allowed_host_list != ["*"]:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_host_list)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.trusted_proxy_list:
        # Behind TLS at nginx or Caddy the app sees http from 127.0.0.1: with the proxy
        # trusted, X-Forwarded-Proto makes the cookie Secure and the Origin check match
        # https://host, and X-Forwarded-For gives the address that rates are counted by.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)

    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals["static_url"] = lambda name: (
        f"/static/{name}?v={app.state.static_versions.get(name, '0')}"
    )
    app.mount("/static", _StaticFiles(directory=str(STATIC)), name="static")

    # --- errors: one handler for every TutorError ---------------------------------------------

    @app.exception_handler(TutorError)
    async def tutor_error(request: Request, exc: TutorError) -> JSONResponse:
        exc = public_error(exc, settings)
        if exc.status >= 500:
            log.warning("%s: %s", type(exc).__name__, exc)
        return JSONResponse(error_body(exc), status_code=exc.status, headers=error_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        err = InputError(
            f"Invalid request: {where or 'body'}: {first.get('msg', 'invalid')}.", None
        )
        return await tutor_error(request, err)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        err: TutorError = (
            NotFound("No such page.", None)
            if exc.status_code == 404
            else TutorError(str(exc.detail))
        )
        err.status = exc.status_code
        response = await tutor_error(request, err)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # Allow lists every method of the path, not the first route's
            path = request.url.path
            methods = {
                m
                for r in app.routes
                if isinstance(r, APIRoute) and r.path_regex.match(path)
                for m in r.methods or ()
            }
            response.headers["Allow"] = ", ".join(sorted(methods))
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await tutor_error(
            request, TutorError("Something went wrong on our side.", "Try again.")
        )

    # --- pages ----------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request, tutor: TutorDep) -> HTMLResponse:
        learner: str = request.scope["state"]["learner_id"]
        problem = None
        try:
            roles = tutor.roles()
        except TutorError as exc:
            roles, problem = [], exc.to_dict()
        if not roles and problem is None:
            problem = {"message": "The guide index is empty.", "hint": "Run `tutor ingest` first."}
        return templates.TemplateResponse(
            request,
            "index.html",
            {
                "roles": roles,
                "csrf_token": signer.csrf_token(learner),
                "max_chars": settings.max_message_chars,
                "min_hours": MIN_HOURS,
                "max_hours": MAX_HOURS,
                "suggestions": SUGGESTIONS,
                "problem": problem,
                "engine": tutor.engine_name,
                "model": getattr(tutor.chat_model, "name", None),
            },
        )

    @app.get("/healthz", response_model=s.HealthOut, tags=["meta"])
    def healthz(tutor: TutorDep) -> dict[str, Any]:
        try:
            roles = len(tutor.roles())
        except TutorError:
            roles = 0
        return {"status": "ok", "engine": tutor.engine_name, "roles": roles}

    # --- API ------------------------------------------------------------------------------------

    @app.get("/api/session", response_model=s.SessionOut, tags=["session"])
    def session(request: Request, tutor: TutorDep) -> dict[str, Any]:
        """The CSRF token for this learner (the cookie is set on this response if it was missing)."""
        learner: str = request.scope["state"]["learner_id"]
        return {
            "csrf_token": signer.csrf_token(learner),
            "max_message_chars": settings.max_message_chars,
            "engine": tutor.engine_name,
        }

    @app.get("/api/roles", response_model=list[s.RoleOut], tags=["guides"])
    def roles(tutor: TutorDep) -> list[dict[str, Any]]:
        return tutor.roles()

    @app.get("/api/roadmap/{role}", response_model=s.RoadmapOut, tags=["roadmap"])
    def roadmap(role: str, tutor: TutorDep) -> dict[str, Any]:
        return tutor.roadmap(role)

    @app.get("/api/progress/{role}", response_model=s.ProgressOut, tags=["roadmap"])
    def get_progress(role: str, tutor: TutorDep, learner: LearnerDep) -> dict[str, Any]:
        return _progress_out(tutor.progress(learner, role))

    @app.put("/api/progress", response_model=s.ProgressOut, tags=["roadmap"])
    def put_progress(body: s.ProgressIn, tutor: TutorDep, learner: WriterDep) -> dict[str, Any]:
        """Tick (or with ``state: null`` untick) one milestone; returns the role's progress."""
        return _progress_out(tutor.set_progress(learner, body.milestone_id, body.state))

    @app.put("/api/hours", response_model=s.HoursOut, tags=["roadmap"])
    def put_hours(body: s.HoursIn, tutor: TutorDep, learner: WriterDep) -> dict[str, Any]:
        """Hours a week the learner can spend; next-step advice paces the roadmap with it."""
        tutor.set_hours(learner, body.hours_per_week)
        return {"hours_per_week": body.hours_per_week}

    @app.post(
        "/api/next",
        response_model=s.AnswerOut,
        tags=["roadmap"],
    )
    def next_steps(body: s.NextIn, tutor: TutorDep, learner: ChatterDep) -> dict[str, Any]:
        """Cited next-step advice from the learner's own progress (the same the sidebar shows)."""
        conv = body.conversation_id or tutor.new_conversation(learner, body.role)["id"]
        return render_answer(tutor.next_steps(learner, body.role, conv).to_dict())

    @app.get("/api/conversations", response_model=list[s.ConversationOut], tags=["conversations"])
    def conversations(
        tutor: TutorDep,
        learner: LearnerDep,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        before: Annotated[str | None, Query(max_length=100)] = None,
    ) -> list[dict[str, Any]]:
        """Newest first, a page at a time: pass the last id of a page as ``before`` for the next."""
        return [_conversation_out(c) for c in tutor.conversations(learner, limit, before)]

    @app.post(
        "/api/conversations",
        response_model=s.ConversationOut,
        status_code=201,
        tags=["conversations"],
    )
    def new_conversation(
        body: s.ConversationIn, tutor: TutorDep, learner: WriterDep
    ) -> dict[str, Any]:
        return _conversation_out(tutor.new_conversation(learner, body.role))

    @app.get(
        "/api/conversations/{conversation_id}",
        response_model=s.ConversationDetailOut,
        tags=["conversations"],
    )
    def conversation(conversation_id: str, tutor: TutorDep, learner: LearnerDep) -> dict[str, Any]:
        """404 unless the conversation is this learner's."""
        return _conversation_out(tutor.conversation(learner, conversation_id))

    @app.post(
        "/api/chat",
        tags=["chat"],
        response_class=StreamingResponse,
        responses={
            200: {
                "description": s.SSE_DESCRIPTION,
                "content": {"text/event-stream": {"schema": s.SSE_EVENT_SCHEMA}},
            },
        },
    )
    def chat(
        body: s.ChatIn, tutor: TutorDep, learner: ChatterDep, web_settings: SettingsDep
    ) -> StreamingResponse:
        """Ask; the answer streams back as server-sent events (see the 200 response)."""
        message = check_message(body.message, web_settings)
        # ask_stream checks that conversation_id is this learner's (NotFound otherwise) and
        # starts a conversation when there is none; errors before the first event are JSON.
        events = iter(
            tutor.ask_stream(
                message, role=body.role, learner_id=learner, conversation_id=body.conversation_id
            )
        )
        first = next(events)
        return StreamingResponse(
            _stream(first, events, web_settings),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return app


def _warm_up(tutor: Tutor) -> None:
    """Load the ONNX model, the vector index and the question understanding (built on first
    use since `tutor search` stopped paying for it) before the first learner waits for them."""
    with contextlib.suppress(TutorError):  # an empty index: the page says to run `tutor ingest`
        tutor.search("warm up", k=1)
        tutor.understand("warm up")


def serve(
    host: str = "127.0.0.1", port: int = 8000, settings: Settings | None = None, workers: int = 1
) -> None:
    """Run the app with uvicorn (``tutor serve``).

    With ``workers`` > 1 uvicorn starts that many processes, each building its own app from
    the environment (``create_app`` as a factory): they share TUTOR_HOME's SQLite (WAL) and
    the vector store.
    """
    import uvicorn

    from tutor.settings import hf_offline

    hf_offline()
    settings = settings or get_settings()
    # the web server's limits (head size, header deadline, keep-alive, connections) apply to
    # every worker; several workers read their settings from the environment
    options = {
        "host": host,
        "port": port,
        "proxy_headers": False,  # the app applies TUTOR_TRUSTED_PROXIES itself
        "log_level": "info",
        **uvicorn_options(settings),
    }
    if workers > 1:
        uvicorn.run("web.app:create_app", factory=True, workers=workers, **options)
        return
    uvicorn.run(create_app(settings), **options)
