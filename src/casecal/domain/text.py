"""HTML bodies (as Graph returns them) to plain text, and plain text to minimal HTML.

Uses only the standard library's ``html.parser``: block elements and ``<br>`` make line breaks,
paragraphs a blank line, list items a bullet or number; entities are decoded.
"""

from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {"div", "p", "ul", "ol", "li", "tr", "table", "blockquote", "pre", "hr"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"}
)
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"})
_HIDDEN = frozenset({"head", "script", "style", "title", "template"})
_SPACE_RE = re.compile(r"[ \t\r\n\f\v]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.hidden = 0
        self.pre = 0
        self.lists: list[list[int]] = []  # one counter per open list; [-1] marks <ul>

    def _newline(self, blank: bool = False) -> None:
        text = "".join(self.out)
        if not text:
            return
        want = "\n\n" if blank else "\n"
        trailing = len(text) - len(text.rstrip("\n"))
        if trailing < len(want):
            self.out.append(want[trailing:])

    def _at_line_start(self) -> bool:
        return not self.out or "".join(self.out[-1:]).endswith("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in _BLOCKS:
            self._newline(blank=tag in _PARAGRAPHS)
            if tag == "pre":
                self.pre += 1
            elif tag == "ul":
                self.lists.append([-1])
            elif tag == "ol":
                self.lists.append([0])
            elif tag == "li":
                self._bullet()

    def _bullet(self) -> None:
        indent = "  " * max(len(self.lists) - 1, 0)
        if self.lists and self.lists[-1][0] >= 0:
            self.lists[-1][0] += 1
            self.out.append(f"{indent}{self.lists[-1][0]}. ")
        else:
            self.out.append(f"{indent}- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in _BLOCKS:
            if tag == "pre":
                self.pre = max(self.pre - 1, 0)
            elif tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self._newline(blank=tag in _PARAGRAPHS)

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        data = data.replace("\xa0", " ")
        if not self.pre:
            data = _SPACE_RE.sub(" ", data)
            if self._at_line_start():
                data = data.lstrip(" ")
        if data:
            self.out.append(data)


@functools.lru_cache(maxsize=1024)
def html_to_text(markup: str) -> str:
    """Plain text of an HTML body: line breaks for blocks and ``<br>``, entities decoded.
    Cached: every occurrence of a series carries the same body."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.out).split("\n")]
    return "\n".join(lines).strip("\n")


def text_to_html(text: str) -> str:
    """Minimal HTML for a plain-text body: escaped, one ``<br>`` per line break."""
    body = "<br>\n".join(html.escape(line, quote=False) for line in text.split("\n"))
    return f"<html><body><div>{body}</div></body></html>"


def body_text(content: str, content_type: str) -> str:
    """Plain text of a Graph ``body`` whatever its ``contentType`` (``html`` or ``text``)."""
    if content_type.lower() == "html":
        return html_to_text(content)
    return content.replace("\r\n", "\n")
