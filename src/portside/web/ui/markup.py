"""Repository descriptions as safe HTML: every character is HTML-escaped first, then a tiny
Markdown subset is applied to the escaped text (headings, paragraphs, `- ` lists, fenced
and inline code, **bold**, *italic*, and links to http(s) URLs only). Nothing a user
writes can produce a tag or attribute other than the ones made here."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_LINK_RE = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)\"'<>]{1,500})\)")
_BOLD_RE = re.compile(r"\*\*([^*\n]+)\*\*")
_ITALIC_RE = re.compile(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])")
_CODE_RE = re.compile(r"`([^`\n]+)`")
_HEADING_RE = re.compile(r"^(#{1,4})\s+(.*)$")
MAX_SOURCE = 64 * 1024


def _inline(escaped: str) -> str:
    """Inline markup on already-escaped text (code spans are left alone)."""
    parts = _CODE_RE.split(escaped)
    for index in range(0, len(parts), 2):
        text = _LINK_RE.sub(r'<a href="\2" rel="nofollow noopener">\1</a>', parts[index])
        text = _BOLD_RE.sub(r"<strong>\1</strong>", text)
        parts[index] = _ITALIC_RE.sub(r"<em>\1</em>", text)
    for index in range(1, len(parts), 2):
        parts[index] = f"<code>{parts[index]}</code>"
    return "".join(parts)


def render_markdown(source: str) -> Markup:
    """The description as HTML (escaped first, so `<script>` shows as text)."""
    lines = str(escape(source[:MAX_SOURCE])).replace("\r\n", "\n").split("\n")
    html: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            html.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            html.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    for line in lines:
        if code is not None:
            if line.strip().startswith("```"):
                html.append("<pre><code>" + "\n".join(code) + "</code></pre>")
                code = None
            else:
                code.append(line)
            continue
        stripped = line.strip()
        heading = _HEADING_RE.match(stripped)
        if stripped.startswith("```"):
            flush()
            code = []
        elif heading:
            flush()
            level = len(heading.group(1)) + 2  # h3..h6: the page has its own h1/h2
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif stripped.startswith(("- ", "* ")):
            if paragraph:
                flush()
            items.append(stripped[2:])
        elif not stripped:
            flush()
        else:
            if items:
                flush()
            paragraph.append(stripped)
    if code is not None:
        html.append("<pre><code>" + "\n".join(code) + "</code></pre>")
    flush()
    return Markup("\n".join(html))
