"""Strict checks of an HTML document with the standard library's parser: well-formed nesting, unique ids, internal
links that resolve, images with alt text, tables with header cells, no reference to anything outside the file."""

from __future__ import annotations

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class StrictHTML(HTMLParser):
    """Collects the problems of a document; :attr:`problems` is empty for a clean one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.problems: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.tables: list[dict[str, int]] = []
        self.doctype = ""
        self.lang = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        line = self.getpos()[0]
        if len(values) != len(attrs):
            self.problems.append(f"line {line}: <{tag}> repeats an attribute")
        if "id" in values:
            if values["id"] in self.ids:
                self.problems.append(f"line {line}: duplicate id {values['id']!r}")
            self.ids.add(str(values["id"]))
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = values.get(name)
            if value is None:
                continue
            if name == "href" and value.startswith("#"):
                self.links.append(value[1:])
            elif not value.startswith("data:"):
                self.problems.append(f"line {line}: <{tag} {name}={value[:60]!r}> refers outside the file")
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "img":
            self.images.append(values)
        if tag == "table":
            self.tables.append({"th": 0, "caption": 0})
        if tag in ("th", "caption") and self.tables:
            self.tables[-1][tag] += 1
        if tag not in VOID:
            self.stack.append((tag, line))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        line = self.getpos()[0]
        if tag in VOID:
            self.problems.append(f"line {line}: end tag of void element </{tag}>")
            return
        if not self.stack or self.stack[-1][0] != tag:
            opened = self.stack[-1] if self.stack else ("nothing", 0)
            self.problems.append(f"line {line}: </{tag}> closes <{opened[0]}> opened on line {opened[1]}")
            return
        self.stack.pop()

    def close(self) -> None:
        super().close()
        for tag, line in self.stack:
            self.problems.append(f"<{tag}> opened on line {line} is never closed")
        for target in self.links:
            if target not in self.ids:
                self.problems.append(f"link to #{target}, which no element has")
        if self.doctype.lower() != "doctype html":
            self.problems.append(f"doctype is {self.doctype!r}, not 'DOCTYPE html'")


def check_html(text: str) -> StrictHTML:
    """Parse ``text``; the returned parser holds the problems, images, tables, ids."""
    parser = StrictHTML()
    parser.feed(text)
    parser.close()
    return parser


def external_references(text: str) -> list[str]:
    """URLs in the document's text, styles and scripts that would make a browser ask the network."""
    found = re.findall(r"(?:https?|ftp|wss?):(?://)?[^\s\"'<>)]+", text, flags=re.IGNORECASE)
    found += [u for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", text) if not u.startswith("data:")]
    found += re.findall(r"@import[^;]+;", text)
    return found


__all__ = ["StrictHTML", "check_html", "external_references"]
