"""Markdown results as real HTML pages for the Snakemake report.

The report shows `.html` outputs inline; markdown inside `<pre>` reads as raw source (pipes,
dashes, `#`). The workflow's markdown uses only headings, paragraphs, bullet lists, pipe
tables, `code` and **bold**, so this small converter covers it without a new dependency;
anything else passes through as escaped paragraph text.
"""

from __future__ import annotations

import html
import re

STYLE = (
    "body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em;line-height:1.4}"
    "table{border-collapse:collapse;font-size:13px;margin:0.8em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
    "code{background:#f3f3f3;padding:0 2px}"
)
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_BULLET = re.compile(r"^\s*[-*]\s+")


def inline(text: str) -> str:
    """Escape `text`, then render `code` and **bold** spans."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") else row
    return [cell.strip() for cell in row.split("|")]


def markdown_to_html(markdown: str) -> str:
    """HTML body for the workflow's markdown (headings, paragraphs, lists, pipe tables)."""
    lines = markdown.splitlines()
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if not line.strip():
            flush()
            i += 1
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
            i += 1
        elif (
            line.lstrip().startswith("|")
            and i + 1 < len(lines)
            and _TABLE_RULE.match(lines[i + 1].strip())
        ):
            flush()
            head = "".join(f"<th>{inline(c)}</th>" for c in _cells(line))
            rows = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in _cells(lines[i])))
                i += 1
            out.append(f"<table><tr>{head}</tr>{''.join(r + '</tr>' for r in rows)}</table>")
        elif _BULLET.match(line):
            flush()
            items = []
            while i < len(lines) and _BULLET.match(lines[i]):
                items.append(f"<li>{inline(_BULLET.sub('', lines[i]))}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
        else:
            paragraph.append(line.strip())
            i += 1
    flush()
    return "\n".join(out)


def page(title: str, body: str) -> str:
    """A self-contained HTML page around an HTML `body`."""
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def markdown_page(title: str, markdown: str) -> str:
    """A markdown text as a rendered, self-contained HTML page."""
    return page(title, markdown_to_html(markdown))
