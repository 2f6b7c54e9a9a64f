"""Checks every page must pass: valid HTML, labelled controls, nothing from elsewhere."""

from urllib.parse import urlsplit

import html5lib
from html5lib.constants import namespaces

XHTML = namespaces["html"]
RESOURCE_ATTRIBUTES = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
}


def parse_strict(content: bytes):
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        return parser.parse(content)
    except html5lib.html5parser.ParseError as error:
        raise AssertionError(f"invalid HTML: {error}") from error


def _is_third_party(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) or parts.scheme not in ("", "data")


def problems(content: bytes) -> list[str]:
    document = parse_strict(content)
    found = []
    root = document
    if root.tag != "html" or not root.get("lang"):
        found.append("<html> without lang")
    if root.find(".//main") is None:
        found.append("no <main> landmark")
    if root.find(".//title") is None or not (root.find(".//title").text or "").strip():
        found.append("empty <title>")
    ids = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.get("id"):
            if element.get("id") in ids:
                found.append(f"duplicate id {element.get('id')!r}")
            ids[element.get("id")] = element
        if element.get("style") is not None:
            found.append(f"inline style on <{element.tag}>")
        if any(attribute.startswith("on") for attribute in element.attrib):
            found.append(f"inline event handler on <{element.tag}>")
        if element.tag == "style":
            found.append("<style> element")
        if element.tag == "script" and not element.get("src"):
            found.append("inline <script>")
        attribute = RESOURCE_ATTRIBUTES.get(element.tag)
        if attribute and element.get(attribute) and _is_third_party(element.get(attribute)):
            found.append(f"third-party resource {element.get(attribute)}")
        if element.tag == "link" and element.get("href") and _is_third_party(element.get("href")):
            found.append(f"third-party <link> {element.get('href')}")
    labels = {label.get("for") for label in root.iter("label")}
    for control in [*root.iter("input"), *root.iter("select"), *root.iter("textarea")]:
        if control.get("type") in ("hidden", "submit", "button", "reset", "image"):
            continue
        if control.get("aria-label") or control.get("aria-labelledby"):
            continue
        if control.get("id") in labels:
            continue
        if _inside_label(root, control):
            continue
        found.append(f"unlabelled <{control.tag} name={control.get('name')!r}>")
    return found


def _inside_label(root, control) -> bool:
    return any(control in list(label.iter()) for label in root.iter("label"))
