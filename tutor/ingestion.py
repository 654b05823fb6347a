"""Load corpus files and clean what real scraped pages contain, into headed sections.

Everything here is pure: it reads files and returns ``Document`` objects, so a bad file is
reported before the index is touched.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from . import front_matter
from .errors import CorpusError

GUIDE_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm"}
MAX_FILE_BYTES = 1_000_000  # a role guide is tens of KB; a 5 MB "guide" is a mistake, not a guide
ROLE_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass
class Section:
    path: list[str]  # heading path below the document title
    text: str


@dataclass
class Document:
    id: str
    role: str
    role_title: str
    title: str
    source: str
    source_url: str | None
    as_of: str
    file: str
    sha256: str
    sections: list[Section] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # other names for the role: "csm"

    @property
    def meta(self) -> dict[str, Any]:
        return {
            "guide": self.id,
            "role": self.role,
            "role_title": self.role_title,
            "title": self.title,
            "source": self.source,
            "source_url": self.source_url or "",
            "as_of": self.as_of,
            "file": self.file,
            # flat, as Chroma's metadata must be: front matter forbids commas inside an alias
            "aliases": ", ".join(self.aliases),
        }


# --- decoding -------------------------------------------------------------------------------


def read_text(path: Path) -> tuple[str, str]:
    """Return (text, sha256) or raise CorpusError saying what to do."""
    try:
        if not path.exists():
            raise CorpusError(
                f"{path}: no such file.", "Check the path, or remove it from the corpus."
            )
        if path.is_dir():
            raise CorpusError(f"{path}: is a directory, not a guide file.")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CorpusError(
                f"{path}: {size / 1e6:.1f} MB is larger than the {MAX_FILE_BYTES / 1e6:.0f} MB limit for a guide.",
                "Split it into one file per role guide, or remove it from the corpus.",
            )
        raw = path.read_bytes()
    except PermissionError as exc:
        raise CorpusError(
            f"{path}: cannot be read ({exc.strerror}).", "Fix its permissions."
        ) from exc
    except OSError as exc:
        if isinstance(exc, CorpusError):
            raise
        raise CorpusError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        raise CorpusError(f"{path}: the file is empty.", "Write the guide, or delete the file.")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), digest
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{path}: invalid UTF-16 text.", "Re-save it as UTF-8.") from exc
    if b"\x00" in raw[:8192]:
        raise CorpusError(
            f"{path}: looks like a binary file, not text.",
            "Guides must be .md, .txt or .html text; convert it or remove it.",
        )
    try:
        return raw.decode("utf-8-sig"), digest
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path}: is not valid UTF-8 (byte {exc.start}).",
            "Re-save the file as UTF-8 (e.g. `iconv -f WINDOWS-1252 -t UTF-8`).",
        ) from exc


# --- cleaning -------------------------------------------------------------------------------


def _mojibake_table() -> dict[str, int]:
    """Map each character of a Windows-1253 decode back to its byte.

    Seed 002 is UTF-8 that was read as Windows-1253; the bytes 1253 leaves undefined (0x9F,
    0x9C...) came out as their Windows-1252 characters ("Ÿ", "œ"), which plain 1253 cannot
    encode, so ftfy gives up on it.
    """
    table: dict[str, int] = {}
    for b in range(0x80, 0x100):
        for enc in ("cp1253", "cp1252", "latin-1"):
            try:
                ch = bytes([b]).decode(enc)
            except UnicodeDecodeError:
                continue
            table.setdefault(ch, b)
            break
    return table


_MOJI = _mojibake_table()
_MOJI_RUN = re.compile("[" + re.escape("".join(sorted(_MOJI))) + "]{2,}")


def _utf8_len(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _repair_run(run: str) -> str:
    """Decode only the byte sequences that form valid UTF-8; keep every other character."""
    data = [_MOJI[c] for c in run]
    out: list[str] = []
    i = 0
    while i < len(data):
        n = _utf8_len(data[i])
        if n and i + n <= len(data):
            try:
                out.append(bytes(data[i : i + n]).decode("utf-8"))
                i += n
                continue
            except UnicodeDecodeError:
                pass
        out.append(run[i])
        i += 1
    return "".join(out)


def repair_mojibake(text: str) -> str:
    import ftfy  # 0.05 s of imports that only ingest needs, not a cold `tutor search`

    text = _MOJI_RUN.sub(lambda m: _repair_run(m.group(0)), text)
    return ftfy.fix_text(text)


# Page chrome that must never become a passage. Seed 000: "Unlock all 3 phases"; seed 002:
# the Jobicy+ plans and "Go to account"; seed 001: the closing call to action.
_CHROME_LINE = re.compile(
    r"""^(?:
        unlock\ all\ \d+\ phases.*
      | see\ the\ full\ .{0,80}\ roadmap.*
      | you'll\ unlock:.*
      | share\ (?:this\ )?career\ guide
      | go\ to\ account.*
      | get\ a\ personali[sz]ed\ roadmap.*
      | ready\ to\ start\ your\ .{0,80}career\?
      | sign\ up.* | log\ ?in | subscribe.*
      | gtm\ career\ path
      | related\ career\ paths | roles\ that\ share\ .{0,40}skills.*
      | sources\ &\ references
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# From here to the end of the page is a pricing table or footer.
_CHROME_TAIL = re.compile(
    r"^(?:\S+\+\ subscription|.*professionals\ pay\ to\ access.*|usd\ \$\d+/month)$",
    re.IGNORECASE | re.VERBOSE,
)
_BULLET = re.compile(r"^\s*(?:[•·▪●◦‣∙*+-]\s*)+")
_LEADING_SYMBOLS = re.compile(r"^[^\w$€£₹(\"'“]+", re.UNICODE)


def _strip_symbols(s: str) -> str:
    """Drop decorative emoji and flags ahead of a heading: "📈 Market Demand" -> "Market Demand"."""
    return _LEADING_SYMBOLS.sub("", s).strip()


def _normalize_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text).replace("\u00a0", " ").replace("\u200b", "")
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t]+", " ", line).strip()
        if _BULLET.match(line) and not re.match(r"^[-*]\s*\$?\d", line.lstrip("•· ")):
            line = "- " + _BULLET.sub("", line).strip()
        lines.append(line)
    return lines


def drop_chrome(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        bare = line[2:] if line.startswith("- ") else line
        bare = _strip_symbols(bare) or bare
        if _CHROME_TAIL.match(bare):
            break
        if _CHROME_LINE.match(bare):
            continue
        out.append(line)
    return out


def drop_repeats(lines: list[str], min_chars: int = 80) -> list[str]:
    """Remove blocks the scraper captured twice.

    Seed 001 repeats every roadmap section back to back; other pages repeat a paragraph far
    apart. Both go: an immediately repeated run of lines, and any long line seen before.
    """
    out: list[str] = []
    seen_long: set[str] = set()
    i = 0
    n = len(lines)
    while i < n:
        skipped = False
        for size in range(min(40, (n - i) // 2), 0, -1):
            block = lines[i : i + size]
            if block == lines[i + size : i + 2 * size] and sum(len(x) for x in block) >= min_chars:
                out.extend(block)
                seen_long.update(x.lower() for x in block if len(x) >= min_chars)
                i += 2 * size
                # a block may be repeated more than twice
                while lines[i : i + size] == block:
                    i += size
                skipped = True
                break
        if skipped:
            continue
        line = lines[i]
        key = line.lower()
        if len(line) >= min_chars and key in seen_long:
            i += 1
            continue
        if len(line) >= min_chars:
            seen_long.add(key)
        out.append(line)
        i += 1
    return out


def clean_text(text: str) -> list[str]:
    return drop_repeats(drop_chrome(_normalize_lines(repair_mojibake(text))))


# --- structure ------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")


def _looks_like_heading(line: str, nxt: str | None) -> bool:
    """Heuristic for plain-text scrapes, which lost their <h2>s."""
    if not line or line.startswith("- ") or len(line) > 90:
        return False
    words = re.findall(r"[A-Za-z][A-Za-z'’&-]*", line)
    if len(words) < 1 or len(line.split()) > 12:
        return False
    if re.search(r"[.!,;:]$", line) or re.match(r"^[\d$€£₹%+~]", line):
        return False
    # "Transition time: 6 months", "Source: Glassdoor, StepStone EU 2025" are facts, not headings
    if re.match(r"^[A-Za-z /&+-]{2,25}: .*\d", line) or line.lower().startswith("source:"):
        return False
    if nxt is None:
        return False
    if line.endswith("?"):
        return len(nxt.split()) >= 3 or nxt.startswith("- ")
    return not line[0].islower()


def _sections_from_lines(lines: list[str], markdown: bool) -> tuple[str | None, list[Section]]:
    title: str | None = None
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    body: list[str] = []

    def flush() -> None:
        text = "\n".join(body).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
        # any words at all: "Entry-Level" over "$67,500" is a short section, not noise
        if re.search(r"\w", text):
            sections.append(Section([h for _, h in stack], text))
        body.clear()

    nonblank = [i for i, x in enumerate(lines) if x]
    nxt_of = {a: lines[b] for a, b in zip(nonblank, nonblank[1:], strict=False)}
    pending_txt_heading: list[str] = []
    for i, line in enumerate(lines):
        m = _MD_HEADING.match(line) if markdown else None
        if m:
            level, heading = len(m.group(1)), _strip_symbols(m.group(2))
            flush()
            if level == 1 and title is None:
                title = heading
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            continue
        if not markdown and line and _looks_like_heading(line, nxt_of.get(i)):
            # consecutive short lines ("Months 1–2" / "Fundamentals: ...") form one heading,
            # but a question closes one: "How Much Does a CSM Earn?" is a heading on its own
            if pending_txt_heading and pending_txt_heading[-1].endswith("?"):
                flush()
                stack = [(2, " — ".join(pending_txt_heading))]
                pending_txt_heading = []
            pending_txt_heading.append(_strip_symbols(line))
            continue
        if pending_txt_heading:
            flush()
            heading = " — ".join(pending_txt_heading)
            pending_txt_heading = []
            if title is None and not sections:
                title = heading
            else:
                stack = [(2, heading)]
        if title is None and not markdown and line:
            title = line
            continue
        body.append(line)
    flush()
    return title, sections


class _HTMLToMarkdown(HTMLParser):
    """Keep headings, paragraphs and list items; drop scripts, navigation and footers."""

    SKIP = {
        "script",
        "style",
        "nav",
        "footer",
        "header",
        "aside",
        "form",
        "button",
        "noscript",
        "svg",
        "template",
    }
    BLOCK = {"p", "div", "section", "article", "br", "tr", "ul", "ol", "table", "main", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.title: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "title":
            self._in_title = True
        elif not self.skip:
            if re.fullmatch(r"h[1-6]", tag):
                self.out.append("\n" + "#" * int(tag[1]) + " ")
            elif tag == "li":
                self.out.append("\n- ")
            elif tag in self.BLOCK:
                self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self._in_title = False
        elif not self.skip and (re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCK or tag == "li"):
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = (self.title or "") + data.strip()
        elif not self.skip:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_markdown(html: str) -> tuple[str | None, str]:
    parser = _HTMLToMarkdown()
    parser.feed(html)
    parser.close()
    text = "".join(parser.out)
    return parser.title, "\n".join(x.strip() for x in text.split("\n"))


# --- metadata -------------------------------------------------------------------------------


def slugify(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


_ROLE_FROM_TITLE = [
    re.compile(r"become an? (.+?)(?: in \d{4})?$", re.I),
    re.compile(r"^(.+?) career (?:path|guide)", re.I),
    re.compile(r"^(.+?) (?:role )?guide\b", re.I),
]


def infer_role(title: str) -> str | None:
    for rx in _ROLE_FROM_TITLE:
        m = rx.search(title.strip())
        if m:
            slug = slugify(m.group(1))
            if slug:
                return slug
    return None


def role_title_from_slug(slug: str) -> str:
    return " ".join(w.capitalize() for w in slug.split("-"))


def validate_role_slug(role: str) -> str:
    if not ROLE_SLUG.match(role):
        raise CorpusError(
            f"'{role}' is not a role slug.",
            "Use lowercase words joined by hyphens, e.g. customer-success-manager.",
        )
    return role


def load_document(path: Path, root: Path | None = None, role: str | None = None) -> Document:
    """Read, clean and structure one guide file."""
    suffix = path.suffix.lower()
    if why := not_supported_yet(path):
        raise CorpusError(f"{path}: {why}.", CONVERT_HINT)
    if suffix not in GUIDE_SUFFIXES:
        raise CorpusError(
            f"{path}: unsupported file type '{suffix or '(none)'}'.",
            "Guides must be .md, .txt or .html files.",
        )
    text, digest = read_text(path)
    meta: dict[str, Any] = {}
    if suffix in (".md", ".markdown"):
        meta, text = front_matter.parse(text, path)
    html_title = None
    if suffix in (".html", ".htm"):
        html_title, text = html_to_markdown(text)
    lines = clean_text(text)
    title, sections = _sections_from_lines(lines, markdown=suffix != ".txt")
    title = str(
        meta.get("title") or title or html_title or path.stem.replace("-", " ").replace("_", " ")
    )
    title = _strip_symbols(title) or title
    slug = role or meta.get("role") or infer_role(title)
    if not slug:
        raise CorpusError(
            f"{path}: cannot tell which role this guide is about.",
            "Add front matter with `role:`, or pass `--role SLUG` to `tutor ingest`.",
        )
    try:
        slug = validate_role_slug(str(slug))
    except CorpusError as exc:  # name the file: the slug came from its front matter or title
        raise CorpusError(f"{path}: {exc.message}", exc.hint) from exc
    if not sections:
        raise CorpusError(
            f"{path}: no text left after cleaning.", "Is it only page chrome? Check the file."
        )
    try:
        shown = str(path.resolve().relative_to(root.resolve())) if root else str(path)
    except ValueError:
        shown = str(path.resolve())
    return Document(
        id=str(meta.get("id") or slugify(path.stem)),
        role=slug,
        role_title=str(meta.get("role_title") or role_title_from_slug(slug)),
        title=title,
        source=str(meta.get("source") or path.name),
        source_url=str(meta["source_url"]) if meta.get("source_url") else None,
        as_of=str(meta.get("as_of") or "undated"),
        file=shown,
        sha256=digest,
        sections=sections,
        aliases=list(meta.get("aliases") or []),
    )


# Documents people drop into a corpus that we cannot read yet: say so instead of ignoring them.
NOT_YET = {".pdf": "PDF", ".doc": "Word", ".docx": "Word", ".odt": "OpenDocument", ".rtf": "RTF"}
CONVERT_HINT = "Convert it to .md, .txt or .html first (e.g. `pdftotext guide.pdf guide.txt`)."


def not_supported_yet(path: Path) -> str | None:
    kind = NOT_YET.get(path.suffix.lower())
    return f"{kind} files are not supported yet" if kind else None


def discover(root: Path, skipped: list[str] | None = None) -> list[Path]:
    """Every guide file under ``root`` (roadmaps are YAML and live beside them).

    A symlink is followed only while it stays inside ``root``. A corpus link to /etc/passwd
    aborted the whole ingest, and a link to a guide elsewhere pulled that file in and kept it
    live after the link was deleted. Such links, broken links and documents we cannot read yet
    (PDF) are noted in ``skipped``, and the rest of the corpus goes on.
    """
    if not root.is_dir():
        return []
    notes = skipped if skipped is not None else []
    real_root = root.resolve()
    found: list[Path] = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or p.name.startswith("README"):
            continue
        wanted = p.suffix.lower() in GUIDE_SUFFIXES
        if p.is_symlink():
            try:
                target = p.resolve(strict=True)
            except (OSError, RuntimeError):  # dangling, or a loop
                if wanted:
                    notes.append(f"{p}: a broken symlink, skipped.")
                continue
            if not target.is_relative_to(real_root):
                notes.append(f"{p}: a symlink to {target}, outside {root}, skipped.")
                continue
        if not p.is_file():
            continue
        if wanted:
            found.append(p)
        elif why := not_supported_yet(p):
            notes.append(f"{p}: {why}, skipped. {CONVERT_HINT}")
    return found
