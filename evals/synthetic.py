"""A synthetic corpus of about N chunks, recombined from the shipped guides' own sentences.

    python evals/synthetic.py 3000 /tmp/corpus-3000      # writes guides/*.md, prints a summary

Each section is three to five sentences drawn at random from every shipped guide, so chunks
read like the real ones (length, vocabulary, figures) while no two sections are the same text.
One section in twenty is a light edit of an earlier one in another file, so near-duplicate
removal has real work at every size. The same N and seed give the same corpus. Nothing is
written into the repository: the guides are read where they are.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS_PER_FILE = 50
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


def sentences(corpus: Path = ROOT / "corpus") -> list[str]:
    """Prose sentences of the shipped guides (no headings, lists or front matter)."""
    out: list[str] = []
    for path in sorted((corpus / "guides").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("\n---\n", 1)[-1]
        for para in re.split(r"\n\s*\n", body):
            para = " ".join(para.split())
            if not para or para.startswith(("#", "-", "|", "*", ">")):
                continue
            out.extend(s for s in _SENT.split(para) if 6 <= len(s.split()) <= 60)
    return sorted(set(out))


def generate(n_chunks: int, out: Path, seed: int = 7, roles: int = 4) -> dict[str, int]:
    """Write about ``n_chunks`` sections (one chunk each) into ``out/guides``."""
    rng = random.Random(seed)
    pool = sentences()
    guides = out / "guides"
    guides.mkdir(parents=True, exist_ok=True)
    n_files = max(1, -(-n_chunks // SECTIONS_PER_FILE))
    written = near = 0
    previous: list[str] = []
    for f in range(n_files):
        role = f"synthetic-role-{f % roles + 1}"
        title = f"Synthetic guide {f + 1:05d}"
        lines = [
            "---",
            f"id: synthetic-{f + 1:05d}",
            f"role: {role}",
            f"role_title: Synthetic Role {f % roles + 1}",
            f'title: "{title}"',
            'source: "synthetic recombination of the shipped guides"',
            'as_of: "2026"',
            "---",
            "",
            f"# {title}",
            "",
        ]
        for s in range(min(SECTIONS_PER_FILE, n_chunks - written)):
            if previous and rng.random() < 0.05:
                body = previous[rng.randrange(len(previous))].replace(" the ", " this ", 1)
                near += 1
            else:
                body = " ".join(rng.sample(pool, rng.randint(3, 5)))
                previous.append(body)
            lines += [
                f"## Topic {f + 1}.{s + 1}: {body.split()[0]} {body.split()[-1]}",
                "",
                body,
                "",
            ]
            written += 1
        (guides / f"synthetic-{f + 1:05d}.md").write_text("\n".join(lines), encoding="utf-8")
    return {"files": n_files, "sections": written, "near_copies": near, "pool": len(pool)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("chunks", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    print(generate(args.chunks, args.out, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
