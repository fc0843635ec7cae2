"""A flame graph (SVG, root at the bottom, hover a box for its name and share) from collapsed
stacks, coloured by the breakdown's category of each frame's own file, so the picture and the
table read the same way. Written here rather than taken from py-spy's own SVG because the
profiles are merged from several recordings (runs, and one recording per pass)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from bench.profiles.breakdown import ASYNCIO, CATEGORIES, frames, waiting

WIDTH, ROW, FONT = 1200.0, 16, 11
CHAR = 6.4  # px per character of the 11 px monospace font
MIN_WIDTH = 0.3  # px: narrower boxes are left out
COLOURS = {
    "HTTP client": "#e8a33c",
    "JSON": "#d4d44a",
    "canonical event": "#6cc070",
    "provider codec": "#9ad38a",
    "ORM and SQL": "#5b9bd5",
    "plan": "#b57edc",
    "logging": "#e07070",
    "metrics": "#c09060",
    "asyncio": "#bbbbbb",
    "own": "#f0c9a0",
    "other": "#dddddd",
}


@dataclass
class Node:
    name: str
    count: int = 0
    children: dict[str, Node] = field(default_factory=dict)


def colour(path: str) -> str:
    for name, prefixes in CATEGORIES:
        if path.startswith(prefixes):
            return COLOURS[name]
    if path.startswith(ASYNCIO):
        return COLOURS["asyncio"]
    return COLOURS["own"] if path.startswith(("casecal/", "bench/")) else COLOURS["other"]


def tree(folded: Path) -> Node:
    root = Node("all")
    for line in folded.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text:
            continue
        count, stack = int(count_text), frames(stack_text)
        if waiting(stack):
            continue
        root.count += count
        node = root
        for func, path in stack:
            key = f"{func} ({path})"
            node = node.children.setdefault(key, Node(key))
            node.count += count
    return root


def depth(node: Node) -> int:
    return 1 + max((depth(c) for c in node.children.values()), default=0)


def write_svg(folded: Path, out: Path) -> None:
    root = tree(folded)
    if root.count == 0:
        return
    height = (depth(root) + 2) * ROW
    scale = WIDTH / root.count
    boxes: list[str] = []

    def draw(node: Node, x: float, level: int) -> None:
        width = node.count * scale
        if width < MIN_WIDTH:
            return
        y = height - (level + 1) * ROW
        path = node.name.rpartition(" (")[2].rstrip(")")
        share = node.count / root.count
        label = escape(f"{node.name}: {node.count} samples, {share:.1%}")
        text = node.name if level else f"{folded.stem}: all {root.count} samples"
        fits = int((width - 4) / CHAR)
        shown = escape(text if len(text) <= fits else text[: max(0, fits - 2)] + "..")
        boxes.append(
            f'<g><title>{label}</title><rect x="{x:.2f}" y="{y}" width="{width:.2f}" '
            f'height="{ROW - 1}" fill="{colour(path) if level else "#cccccc"}" rx="2"/>'
            + (f'<text x="{x + 2:.2f}" y="{y + ROW - 4}">{shown}</text>' if fits > 2 else "")
            + "</g>"
        )  # fmt: skip
        child_x = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            draw(child, child_x, level + 1)
            child_x += child.count * scale

    draw(root, 0.0, 0)
    legend = " ".join(
        f'<rect x="{i * 108}" y="2" width="10" height="10" fill="{c}"/>'
        f'<text x="{i * 108 + 13}" y="11">{escape(n)}</text>'
        for i, (n, c) in enumerate(COLOURS.items())
    )
    out.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0f}" height="{height + ROW}" '
        f'font-family="monospace" font-size="{FONT}">'
        f'<g transform="translate(0,0)">{legend}</g>'
        f'<g transform="translate(0,{ROW})">{"".join(boxes)}</g></svg>\n'
    )
