"""Safe by default: the learner cookie, CSRF, security headers, the body limit, the rate limiter.

Everything here is pure ASGI or plain Python, so it applies to every route, including ones a
later change forgets to protect, and it works on the bytes actually received.

* **Learner identity**: a signed (itsdangerous), HttpOnly, SameSite=Lax cookie holding only an
  opaque random id. The learner id comes *only* from a cookie whose signature verifies; a
  missing or tampered cookie gets a brand-new id, never somebody else's.
* **CSRF**: every state-changing request (anything but GET/HEAD/OPTIONS) must carry an
  ``X-CSRF-Token`` header equal to HMAC(secret, learner id), and must not come from another
  site (``Sec-Fetch-Site`` / ``Origin`` checks). A fresh learner has no token yet, so a forged
  request without the cookie fails too.
* **Headers**: a strict Content-Security-Policy (no inline script or style) and friends.
* **Body limit**: bytes are counted as they arrive; 413 even when Content-Length lies or is
  absent (chunked uploads).
* **Rate limits**: per client address and per learner on chat and on writes, and on minting
  new learner cookies per address (the ``limits`` library).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import os
import re
import secrets
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from tutor.errors import ConfigError, Forbidden, RateLimited, TutorError
from tutor.settings import Settings

Scope = dict[str, Any]
Message = dict[str, Any]

COOKIE_NAME = "tutor_learner"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers honour
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LEARNER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"permissions-policy",
        b"camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class PayloadTooLarge(TutorError):
    status = 413
    exit_code = 2
    code = "too_large"


# --- errors as responses ----------------------------------------------------------------------


def error_body(exc: TutorError) -> dict[str, Any]:
    return exc.to_dict()


def error_headers(exc: TutorError) -> dict[str, str]:
    retry_after = getattr(exc, "retry_after", None)
    return {"Retry-After": str(int(retry_after))} if retry_after is not None else {}


async def send_error(send: Any, exc: TutorError) -> None:
    """Answer from inside a middleware, in the same JSON shape as the app's exception handler."""
    body = json.dumps(error_body(exc)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in error_headers(exc).items()]
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- the secret -------------------------------------------------------------------------------


MIN_SECRET_BYTES = 32
# Keys people type when a README says "set a secret": each was seen in real deployments.
_WEAK_WORDS = (
    "changeme",
    "change-me",
    "password",
    "secret",
    "default",
    "example",
    "letmein",
    "qwerty",
)
GENERATE_HINT = (
    'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))" '
    "and set TUTOR_SECRET_KEY to it (or unset it: the tutor then generates and keeps one)."
)


def _entropy_bits(text: str) -> float:
    """Shannon estimate of the bits in ``text``: a repeated word scores low however long it is."""
    counts = Counter(text)
    n = len(text)
    return -n * sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def check_secret(secret: str) -> str:
    """Refuse a short or guessable TUTOR_SECRET_KEY.

    The key signs learner cookies: "changeme" was recovered from one cookie in 0.4 ms, and with
    it any learner's cookie can be forged. At least 32 bytes, and about 128 bits by a Shannon
    estimate (token_urlsafe(32) gives ~200; a word repeated to 32 characters gives ~90).
    """
    size = len(secret.encode())
    if size < MIN_SECRET_BYTES:
        raise ConfigError(
            f"TUTOR_SECRET_KEY is {size} bytes long; it must be at least {MIN_SECRET_BYTES} random bytes.",
            GENERATE_HINT,
        )
    lowered = secret.lower()
    word = next((w for w in _WEAK_WORDS if w in lowered), None)
    if word is not None or _entropy_bits(secret) < 128:
        why = f"it contains the word '{word}'" if word else "it is not random enough"
        raise ConfigError(f"TUTOR_SECRET_KEY is refused: {why}.", GENERATE_HINT)
    return secret


def load_secret(settings: Settings) -> str:
    """The configured secret (if strong), else one generated once and kept in ``home/secret_key`` (0600)."""
    if settings.secret_key:
        return check_secret(settings.secret_key)
    path: Path = settings.ensure_home() / "secret_key"
    for _ in range(3):
        try:
            text = path.read_text(encoding="utf-8").strip()
            if len(text) >= 32:
                return text
            # too short or empty: written by a process that died mid-write; replace it
            path.unlink(missing_ok=True)
        except FileNotFoundError:
            pass
        secret = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue  # another worker won the race: read theirs
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secret)
            fh.flush()
            os.fsync(fh.fileno())
        return secret
    raise TutorError(f"Cannot create {path}.", "Set TUTOR_SECRET_KEY instead.")


# --- learner identity and CSRF ----------------------------------------------------------------


class Signer:
    """Signs learner ids into cookie values and derives the learner's CSRF token."""

    def __init__(self, secret: str) -> None:
        self._cookie = URLSafeSerializer(secret, salt="tutor.learner.v1")
        self._csrf_key = hashlib.sha256(b"tutor.csrf.v1\x00" + secret.encode()).digest()

    @staticmethod
    def new_learner_id() -> str:
        return secrets.token_urlsafe(24)

    def dump(self, learner_id: str) -> str:
        return str(self._cookie.dumps(learner_id))

    def load(self, value: str | None) -> str | None:
        """The learner id in a cookie whose signature verifies; None for anything else."""
        if not value or len(value) > 512:
            return None
        try:
            learner = self._cookie.loads(value)
        except (BadSignature, ValueError, UnicodeError):
            return None
        if not isinstance(learner, str) or not LEARNER_ID_RE.match(learner):
            return None
        return learner

    def csrf_token(self, learner_id: str) -> str:
        return hmac.new(self._csrf_key, learner_id.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, learner_id: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(learner_id), str(token))


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return v.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        k, sep, v = part.strip().partition("=")
        if sep and k == name:
            return v.strip().strip('"')
    return None


def _own_origin(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    host = _header(scope, b"host")
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] in (None, 80, 443) else f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}".lower()


def cross_site_reason(scope: Scope) -> str | None:
    """Why a state-changing request looks cross-site, or None when it looks same-origin."""
    fetch_site = _header(scope, b"sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return f"Sec-Fetch-Site is {fetch_site}"
    origin = _header(scope, b"origin")
    if origin is not None and origin.lower() != _own_origin(scope):
        return f"Origin {origin} is not this site"
    return None


class LearnerMiddleware:
    """Puts the verified learner id in ``scope['state']['learner_id']``; checks CSRF.

    A request without a valid cookie gets a fresh id and a Set-Cookie on its response (at most
    TUTOR_NEW_LEARNERS_PER_HOUR per client address). No database row exists for it until its
    first write.
    """

    def __init__(self, app: Any, signer: Signer, limits: RateLimits | None = None) -> None:
        self.app = app
        self.signer = signer
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        learner = self.signer.load(_cookie(scope, COOKIE_NAME))
        fresh = learner is None
        if learner is None:
            learner = self.signer.new_learner_id()
        scope.setdefault("state", {})["learner_id"] = learner

        path: str = scope.get("path", "")
        issue = fresh and path != "/healthz" and not path.startswith("/static/")
        if issue and self.limits is not None:
            try:
                self.limits.check("mint", client_address(scope))
            except Throttled as exc:
                await send_error(send, exc)  # no cookie: that would be the identity refused
                return

        async def send_with_cookie(message: Message) -> None:
            if issue and message["type"] == "http.response.start":
                secure = "; Secure" if scope.get("scheme") == "https" else ""
                cookie = (
                    f"{COOKIE_NAME}={self.signer.dump(learner)}; Path=/; Max-Age={COOKIE_MAX_AGE}; "
                    f"HttpOnly; SameSite=Lax{secure}"
                )
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())],
                }
            await send(message)

        if scope["method"] not in SAFE_METHODS:
            reason = cross_site_reason(scope)
            if reason is not None:
                await send_error(
                    send_with_cookie,
                    Forbidden(
                        f"Cross-site request refused ({reason}).", "Use the tutor's own page."
                    ),
                )
                return
            if fresh or not self.signer.check_csrf(learner, _header(scope, CSRF_HEADER.encode())):
                await send_error(
                    send_with_cookie,
                    Forbidden(
                        "Missing or invalid CSRF token.",
                        "Reload the page; API clients send the csrf_token of GET /api/session "
                        "in an X-CSRF-Token header, with the session cookie.",
                    ),
                )
                return
        await self.app(scope, receive, send_with_cookie)


# --- headers ----------------------------------------------------------------------------------


class SecurityHeadersMiddleware:
    """CSP and friends on every response, errors and static files included."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if b"cache-control" not in present and not scope["path"].startswith("/static/"):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- body limit -------------------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, counting the bytes actually received.

    A declared Content-Length over the limit is refused before the app runs. Otherwise the
    ``receive`` channel counts bytes as they arrive (chunked bodies, or a Content-Length that
    lies); past the limit it raises inside the app, whatever the app then tries to send is
    dropped, and the client gets the 413 instead.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The request body is larger than {self.max_bytes} bytes.", "Send a shorter message."
        )

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await send_error(send, self._too_large())
                return

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _BodyTooLarge
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's reaction to the error is replaced by our 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await send_error(send, self._too_large())


# --- rate limits ------------------------------------------------------------------------------


def client_address(scope: Mapping[str, Any]) -> str:
    """The key rates are counted by: the peer's address (a trusted proxy's forwarded one, once
    ProxyHeadersMiddleware has run), with IPv6 reduced to its /64, which one host usually owns.
    """
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


_REFUSALS = {
    "chat": (
        "You are sending messages faster than the tutor can answer.",
        "Wait {s} s and try again.",
    ),
    "write": ("Too many changes in a short time.", "Wait {s} s and try again."),
    "mint": (
        "Too many new sessions from your network.",
        "Wait {s} s; a browser that keeps the tutor's cookie needs only one.",
    ),
}


class Throttled(RateLimited):
    """429 with the seconds until the window has room again (sent as Retry-After)."""

    def __init__(self, kind: str, retry_after: int) -> None:
        message, hint = _REFUSALS[kind]
        super().__init__(message, hint.format(s=retry_after))
        self.retry_after = retry_after


class RateLimits:
    """Moving-window limits from the ``limits`` library, per client address and per learner.

    Keyed by learner only, 25 freshly minted cookies sent 500 chats in 14 s against a limit of
    20 a minute: the address budget holds however many identities a client mints, and minting
    itself is limited per address. Windows live in memory (one process; see the README for
    several workers) and expire by themselves, so rotating keys do not grow it for long.
    """

    def __init__(self, settings: Settings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self.rules: dict[str, tuple[RateLimitItem, RateLimitItem | None]] = {
            "chat": (
                RateLimitItemPerMinute(settings.chat_rate_per_address),
                RateLimitItemPerMinute(settings.chat_rate_per_minute),
            ),
            "write": (
                RateLimitItemPerMinute(settings.write_rate_per_address),
                RateLimitItemPerMinute(settings.write_rate_per_minute),
            ),
            "mint": (RateLimitItemPerHour(settings.new_learners_per_hour), None),
        }

    def check(self, kind: str, address: str, learner: str | None = None) -> None:
        """Count one request; raise Throttled when the address or the learner is over its rate."""
        per_address, per_learner = self.rules[kind]
        for item, key in ((per_address, f"a:{address}"), (per_learner, f"l:{learner}")):
            if item is None or (learner is None and key.startswith("l:")):
                continue
            if not self._limiter.hit(item, kind, key):
                reset = self._limiter.get_window_stats(item, kind, key).reset_time
                raise Throttled(kind, max(1, math.ceil(reset - time.time())))
