"""What the page tests share: the recorded runs under data/ (a real `loadtest race` and a real
10-second `loadtest quick`: their verdict JSON and samples), a small DOM to read a page with, and
the check that a page references nothing over the network."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

DATA = Path(__file__).parent / "data"


def fixture(name: str) -> tuple[dict, dict]:
    verdict = json.loads((DATA / f"{name}_verdict.json").read_text())
    samples = json.loads((DATA / f"{name}_samples.json").read_text())
    return verdict, samples


class Node:
    def __init__(self, tag: str, attrs: dict, parent=None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node] = []
        self.text_parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(
            part if isinstance(part, str) else part.text for part in self._content()
        ).strip()

    def _content(self):
        return self.text_parts

    def find_all(self, tag: str | None = None, **attrs) -> list["Node"]:
        found = []
        for child in self.children:
            if (tag is None or child.tag == tag) and all(
                child.attrs.get(key.replace("_", "-")) == value for key, value in attrs.items()
            ):
                found.append(child)
            found += child.find_all(tag, **attrs)
        return found

    def by_id(self, element_id: str) -> "Node":
        matches = [node for node in self.find_all() if node.attrs.get("id") == element_id]
        assert len(matches) == 1, f"#{element_id}: {len(matches)} elements"
        return matches[0]


VOID = {"meta", "br", "img", "input", "link", "hr", "source", "col", "area", "base", "wbr"}


class Tree(HTMLParser):
    """A small DOM: enough to read the page's tables, attributes and scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", {})
        self.attributes: list[tuple[str, str, str]] = []  # (tag, name, value) of every attribute
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.attributes += [(tag, name, value) for name, value in attributes.items()]
        node = Node(tag, attributes, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        node = self.current
        while node is not None:
            node.text_parts.append(data)
            node = node.parent


def cells(row: Node) -> dict[str, str]:
    return {cell.attrs.get("class", ""): cell.text for cell in row.find_all("td")}


def number(text: str) -> float:
    return float(text.replace(",", ""))


def page_data(root: Node) -> dict:
    return json.loads(root.by_id("page-data").text)


URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "data", "background"}


def assert_offline(html: str) -> None:
    tree = Tree(html)
    for tag, name, value in tree.attributes:
        if name in URL_ATTRIBUTES:
            assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//)", value, re.I), (tag, name, value)
        assert not (tag == "script" and name == "src"), "scripts are inlined"
    assert not tree.root.find_all("link"), "no <link>: styles are inlined"
    assert not tree.root.find_all("iframe") and not tree.root.find_all("img")
    for style in tree.root.find_all("style"):
        assert "@import" not in style.text and "url(" not in style.text
    scripts = " ".join(script.text for script in tree.root.find_all("script"))
    for call in ("fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "import(", "sendBeacon"):
        assert call not in scripts, call
