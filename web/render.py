"""Model output to safe HTML: Markdown with raw HTML disabled, then an nh3 allow-list.

Two independent layers, so a bug in one is caught by the other:

1. markdown-it-py with ``html=False`` (raw HTML in the text is escaped, never passed through),
   ``linkify`` off, image syntax rendered back as its own text (``![x](url)`` is shown, never
   loaded: no external images, no beacons), and links kept only when they are absolute
   ``https`` URLs without credentials; every other link (``mailto:``, ``//host``, ``http:``,
   relative, ``javascript:``) becomes its label as plain text. Kept links open in a new tab.
2. nh3 (ammonia) with a minimal allow-list of tags and attributes, ``https`` links only,
   ``rel="noopener noreferrer nofollow"`` on every link, and ``<script>``/``<style>`` removed
   with their content.

Citation markers ``[n]`` (and ``[n, m]``) that match a citation of the answer become
``<sup class="cite"><a href="#fn-<anchor>-n">n</a></sup>``; other bracketed numbers stay text.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "sup", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "target"}, "ol": {"start"}}


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "target":
        return "_blank" if value == "_blank" else None
    if tag == "a" and attr == "href" and not (value.startswith("#fn-") or safe_link(value)):
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    url_schemes={"https"},
    allowed_classes={"sup": {"cite"}},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def safe_link(href: str) -> bool:
    """An absolute https URL with a host and no credentials (``https://bank@evil`` misleads)."""
    try:
        parts = urlsplit(href)
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and parts.username is None
        and parts.password is None
        and not any(ch.isspace() or ord(ch) < 32 for ch in href)
    )


def _links_as_text(state: StateCore) -> None:
    """Unwrap every link whose href is not a safe https URL: its label stays, as text."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out: list[Token] = []
        dropping: list[bool] = []  # per open link: was it unwrapped?
        for tok in block.children:
            if tok.type == "link_open":
                bad = not safe_link(str(tok.attrGet("href") or ""))
                dropping.append(bad)
                if bad:
                    continue
                tok.attrSet("target", "_blank")
            elif tok.type == "link_close" and dropping and dropping.pop():
                continue  # the close of an unwrapped link
            out.append(tok)
        block.children = out


def _render_image(
    self: Any, tokens: Sequence[Any], idx: int, options: Any, env: dict[str, Any]
) -> str:
    """``![alt](src)`` is shown as the text the author wrote: nothing is loaded."""
    tok = tokens[idx]
    title = tok.attrGet("title")
    src = str(tok.attrGet("src") or "")
    suffix = f' "{title}"' if title else ""
    return escapeHtml(f"![{tok.content}]({src}{suffix})")


_CITE_RE = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_ANCHOR_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _citation_rule(state: StateInline, silent: bool) -> bool:
    if state.src[state.pos] != "[":
        return False
    m = _CITE_RE.match(state.src, state.pos)
    if not m:
        return False
    known: set[int] = state.env.get("citations", set())
    nums = [int(x) for x in re.split(r"\s*,\s*", m.group(1))]
    if not nums or any(n not in known for n in nums):
        return False
    if not silent:
        state.pending = state.pending.rstrip(" ")  # "pay [1]" reads as "pay¹"
        for n in nums:
            token = state.push("citation", "", 0)
            token.meta = {"n": n}
    state.pos = m.end()
    return True


def _render_citation(
    self: Any, tokens: Sequence[Any], idx: int, options: Any, env: dict[str, Any]
) -> str:
    n = int(tokens[idx].meta["n"])
    anchor = env.get("anchor", "a")
    return f'<sup class="cite"><a href="#fn-{anchor}-{n}">{n}</a></sup>'


def _make_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.core.ruler.push("links_as_text", _links_as_text)
    md.add_render_rule("citation", _render_citation)
    md.add_render_rule("image", _render_image)
    return md


_MD = _make_markdown()


def sanitize(html: str) -> str:
    return str(_CLEANER.clean(html))


def markdown_to_html(text: str, citations: Sequence[int] = (), anchor: str = "a") -> str:
    """Markdown (no raw HTML) to sanitised HTML, turning known ``[n]`` markers into footnote links."""
    if not _ANCHOR_RE.match(anchor):
        raise ValueError(f"bad anchor {anchor!r}")
    env = {"citations": {int(n) for n in citations}, "anchor": anchor}
    return sanitize(_MD.render(text or "", env))


def new_anchor() -> str:
    return "a" + secrets.token_hex(4)


def render_answer(answer: dict[str, Any], anchor: str | None = None) -> dict[str, Any]:
    """A copy of an Answer dict with ``html`` (sanitised) and ``anchor`` (footnote id prefix).

    Footnote ``n`` of this answer has the element id ``fn-<anchor>-<n>``; the client builds the
    footnotes from ``citations`` with textContent, so passages never need sanitising.
    """
    anchor = anchor or new_anchor()
    numbers = [int(c["n"]) for c in answer.get("citations") or [] if "n" in c]
    out = dict(answer)
    out["anchor"] = anchor
    out["html"] = markdown_to_html(str(answer.get("answer") or ""), numbers, anchor)
    return out
