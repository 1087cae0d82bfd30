"""Check a built HTML book: pages load, images render, internal links resolve, no tracebacks.

Two checkers share one report format, a list of :class:`Problem`:

- :func:`check_book` serves the book on a loopback HTTP server and opens every page in headless
  Chromium (driven by Playwright), so it sees what a reader sees: HTTP errors, failing
  same-origin resources, console errors, images the browser cannot decode.
- :func:`check_book_static` parses the HTML files with :mod:`html.parser` and checks the same
  things a browser is not needed for: image files exist and decode, internal links and their
  fragments resolve, no traceback is rendered. It is the fallback where Chromium is missing.

Pages are every ``*.html`` file under the book directory except Sphinx's generated
``genindex.html``, ``search.html`` and ``py-modindex.html`` and its asset folders (``_static``,
``_images``, …); the navigation sidebar is on every page, so every link in it is checked too.
External links and images (another origin) are not checked: the book must build offline, and
the browser is not allowed to reach the network.

Chapter pages (those built from the executed notebooks, ``book/executed/*.html``) are also
checked as a reader meets them, by the rules of issue 16:

- ``answer``: the chapter opens with its answer box, an admonition stating a number of the run
  before the first section; in the browser, its top is within the first screen
  (:data:`VIEWPORT`);
- ``code``: no code input shows by default except the parameters cell (analysis cells are
  folded, check cells removed, by :mod:`calstudy.book`'s cell tags);
- ``figure``: every image is inside a numbered ``<figure>`` with a caption, and its alt text
  describes it (not empty, not a file path);
- ``table``: no rendered table cell or text output reads ``NaN``, ``0.0000``, ``-0.0`` or a
  raw Python dict;
- ``names``: no raw dataset column name (``pre_ECE_15``, ``fgsm_Linf_acc0_1``, ``n_params``)
  in the page's prose, captions or tables: a reader meets the catalogue's display names
  (:func:`calstudy.catalogue.display_name`); a column named on purpose, as a parameter value,
  is set as code (``<code>``) and is not counted, and the dataset chapter, which documents the
  columns by name (:data:`SCHEMA_PAGE`), is exempt;
- ``legibility`` (browser): no figure is scaled down by more than :data:`MAX_DOWNSCALE`, which
  would shrink its text below legibility.

The browser checker also takes a full-page screenshot of every chapter page and measures every
figure's rendered and natural size (:class:`FigureSize`); ``python -m calstudy.htmlcheck``
prints the pages checked and the largest figures.

Usage::

    python -m calstudy.htmlcheck book/_build/html            # browser, else static
    python -m calstudy.htmlcheck book/_build/html --static   # never start a browser
    python -m calstudy.htmlcheck book/_build/html --screenshots /tmp/shots
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import functools
import io
import math
import os
import re
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Request, Response

#: The Chromium that Playwright drives; ``CALSTUDY_BROWSER`` names another (e.g. Google Chrome).
DEFAULT_BROWSER = os.environ.get("CALSTUDY_BROWSER", "/usr/bin/chromium")
#: Flags for Chromium on a closed network: no sandbox (root in CI), no GPU, and no background
#: connections (updates, sync, QUIC probes) that would be refused and slow every start.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
TRACEBACK_MARKER = "Traceback (most recent call last)"

Kind = Literal[
    "load", "console", "resource", "image", "link", "traceback", "math",
    "answer", "code", "figure", "table", "names", "legibility",
]  # fmt: skip

#: Where the executed chapters' pages sit in the built book; the reader-facing rules (answer
#: box, folded code, captions, tables, legibility) apply to these pages only.
CHAPTER_DIR = "book/executed/"
#: The chapter that documents the store's columns by their names (the dataset card): the
#: ``names`` rule does not apply to it.
SCHEMA_PAGE = CHAPTER_DIR + "dataset.html"
#: The browser's window: a laptop screen. "The first screen" is the top ``height`` CSS pixels.
VIEWPORT = {"width": 1280, "height": 900}
#: A figure whose natural width exceeds this many times its rendered width is shrunk so much
#: that text drawn at a normal font size (10 pt at 100 dpi, about 14 px) falls under ~6 px.
MAX_DOWNSCALE = 2.2

_SKIPPED_PAGES = frozenset({"genindex.html", "search.html", "py-modindex.html"})
_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)
_NON_TEXT_TAGS = frozenset({"script", "style", "template"})
# A line that starts with an exception's name: the last line of a traceback ("ValueError: …")
# or IPython's header ("ValueError    Traceback (most recent call last)").
_EXCEPTION_LINE = re.compile(
    r"^[ \t]*(?:[A-Za-z_][\w.]*\.)?(?:[A-Z]\w*(?:Error|Exception)|KeyboardInterrupt|SystemExit)\b"
    r".*$",
    re.MULTILINE,
)
# myst-nb gives each cell's container a ``tag_<name>`` class; papermill lets a cell tagged
# ``raises-exception`` fail on purpose, so its error output is part of the chapter.
_EXPECTED_ERROR_CLASS = "tag_raises-exception"
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"]+)", re.IGNORECASE)
_PAGE_TIMEOUT_MS = 30_000


@dataclass(frozen=True, order=True)
class Problem:
    """One defect found in the built book.

    Parameters
    ----------
    page : str
        The page it was found on, relative to the book directory (``book/intro.html``).
    kind : str
        One of "load", "console", "resource", "image", "link", "traceback", "math", "answer",
        "code", "figure", "table", "names", "legibility" (:data:`Kind`).
        What is wrong: the page itself, a console error, a same-origin resource that failed,
        an image, an internal link, a rendered traceback, maths MathJax did not typeset; on a
        chapter page, a missing or late answer box, visible code, an uncaptioned figure, a
        table showing ``NaN`` and the like, a raw column name in prose or a table, or a figure
        shrunk below legibility.
    detail : str
        A human-readable description naming the offending URL or text.
    """

    page: str
    kind: Kind
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: {self.kind}: {self.detail}"


# --------------------------------------------------------------------------------------------
# Pages and a small HTML tree


def book_pages(html_dir: Path | str) -> list[str]:
    """The pages to check: ``*.html`` under ``html_dir`` as sorted POSIX paths relative to it.

    Raises
    ------
    FileNotFoundError
        If ``html_dir`` is not a directory.
    """
    root = _book_dir(html_dir)
    pages = []
    for path in root.rglob("*.html"):
        rel = path.relative_to(root)
        if rel.as_posix() in _SKIPPED_PAGES or any(p.startswith("_") for p in rel.parts[:-1]):
            continue
        pages.append(rel.as_posix())
    return sorted(pages)


def _book_dir(html_dir: Path | str) -> Path:
    root = Path(html_dir)
    if not root.is_dir():
        raise FileNotFoundError(
            f"Expected `html_dir` to be a built book directory, got {str(html_dir)!r}."
        )
    return root.resolve()


@dataclass(eq=False)
class _Element:
    tag: str
    attrs: dict[str, str]
    children: list[_Element | str] = field(default_factory=list)

    @property
    def classes(self) -> frozenset[str]:
        return frozenset(self.attrs.get("class", "").split())

    def iter(self) -> Iterator[_Element]:
        yield self
        for child in self.children:
            if isinstance(child, _Element):
                yield from child.iter()

    def text(self) -> str:
        """The text content, without that of ``<script>``, ``<style>`` and ``<template>``."""
        return "".join(
            child if isinstance(child, str) else child.text()
            for child in self.children
            if isinstance(child, str) or child.tag not in _NON_TEXT_TAGS
        )


class _TreeBuilder(HTMLParser):
    """Build an :class:`_Element` tree, tolerating unclosed and stray end tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("#document", {})
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = _Element(tag, {name: value or "" for name, value in attrs})
        self._stack[-1].children.append(element)
        if tag not in _VOID_TAGS:
            self._stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(_Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(data)


@dataclass(frozen=True)
class _Page:
    """What the checks need from one page's HTML."""

    ids: frozenset[str]
    links: tuple[str, ...]
    images: tuple[str | None, ...]
    tracebacks: tuple[str, ...]
    redirect: str | None = None  # target of a <meta http-equiv="refresh">, also in `links`


def _parse_tree(html: str) -> _Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def _parse_page(html: str) -> _Page:
    root = _parse_tree(html)
    ids: set[str] = set()
    links: list[str] = []
    images: list[str | None] = []
    redirect: str | None = None
    for element in root.iter():
        if "id" in element.attrs:
            ids.add(element.attrs["id"])
        if element.tag == "a" and "name" in element.attrs:
            ids.add(element.attrs["name"])
        if element.tag == "a" and "href" in element.attrs:
            links.append(element.attrs["href"])
        if element.tag == "img":
            images.append(element.attrs.get("src"))
        if element.tag == "meta" and element.attrs.get("http-equiv", "").lower() == "refresh":
            match = _REFRESH_URL.search(element.attrs.get("content", ""))
            if match:
                redirect = match.group(1).strip()
                links.append(redirect)
    return _Page(
        frozenset(ids), tuple(links), tuple(images), tuple(_find_tracebacks(root)), redirect
    )


def _find_tracebacks(root: _Element) -> list[str]:
    """Describe every rendered traceback outside cells that are expected to raise.

    Error output areas (``.output.traceback``) always count; stderr areas (``.output.stderr``)
    count when a line starts with an exception name; anywhere else the text
    ``Traceback (most recent call last)`` counts.
    """
    found: list[str] = []
    outside: list[str] = []

    def walk(element: _Element) -> None:
        for child in element.children:
            if isinstance(child, str):
                outside.append(child)
            elif child.tag in _NON_TEXT_TAGS or _EXPECTED_ERROR_CLASS in child.classes:
                continue
            elif "output" in child.classes and child.classes & {"traceback", "stderr"}:
                text = child.text()
                exception = _EXCEPTION_LINE.search(text)
                if "traceback" in child.classes or exception:
                    summary = exception.group(0) if exception else _first_line(text)
                    found.append(f"error output in the page: {_shorten(summary)}")
            else:
                walk(child)

    walk(root)
    rest = "".join(outside)
    start = rest.find(TRACEBACK_MARKER)
    while start != -1:
        exception = _EXCEPTION_LINE.search(rest, start)
        summary = exception.group(0) if exception else TRACEBACK_MARKER
        found.append(f"traceback in the page text: {_shorten(summary)}")
        start = rest.find(TRACEBACK_MARKER, start + len(TRACEBACK_MARKER))
    return found


# --------------------------------------------------------------------------------------------
# Chapter pages: the rules a reader's first visit depends on


def is_chapter_page(page: str) -> bool:
    """Whether ``page`` (relative to the book directory) was built from an executed chapter."""
    return page.startswith(CHAPTER_DIR) and page.endswith(".html")


_PARAMETER_CLASSES = frozenset({"tag_parameters", "tag_injected-parameters"})
_IMAGE_SUFFIX = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|pdf)$", re.IGNORECASE)
# What a table or text output must not show the reader, and what to write instead.
_BAD_VALUES = (
    (re.compile(r"(?<![\w.])(?:nan|<NA>|NaT)(?![\w])", re.IGNORECASE),
     "NaN (write — for a value that was not reported or cannot be computed)"),
    (re.compile(r"(?<![\d.\-−])\+?0\.0000+(?!\d)"),
     "0.0000 (a p-value or estimate rounded to zero: write it as < 1e-4 or with significant "
     "digits)"),
    (re.compile(r"(?<![\w.])[-−]0(?:\.0+)?(?![\d.])"),
     "-0.0 (a negative zero: round before choosing the sign)"),
    (re.compile(r"\{\s*['\"][^'\"]{0,40}['\"]?"), "a raw Python dict (format it as a table or a sentence)"),
)  # fmt: skip


_LITERAL_TAGS = frozenset({"code", "pre", "kbd", "samp"})


def raw_column_names(text: str) -> list[str]:
    """The raw dataset column names in ``text``, as the ``names`` rule finds them.

    Examples
    --------
    >>> raw_column_names("τ with pre_ECE_15 and fgsm_Linf_acc0_1; pre-scaling ECE, n_bins = 15")
    ['pre_ECE_15', 'fgsm_Linf_acc0_1']
    """
    from calstudy.catalogue import RAW_COLUMN  # numpy and scipy come with it: only when asked

    return [match.group(0) for match in RAW_COLUMN.finditer(text)]


def _article_column_names(article: _Element) -> list[str]:
    """Raw column names in the text a reader sees: outside code, literals and code cells."""
    found: list[str] = []

    def walk(element: _Element) -> None:
        for child in element.children:
            if isinstance(child, str):
                found.extend(raw_column_names(child))
            elif not (child.tag in _LITERAL_TAGS or child.tag in _NON_TEXT_TAGS
                      or "cell_input" in child.classes):  # fmt: skip
                walk(child)

    walk(article)
    return found


def _article(root: _Element) -> _Element:
    """The page's content (pydata-sphinx-theme's ``<article class="bd-article">``), or all."""
    for element in root.iter():
        if element.tag == "article" and "bd-article" in element.classes:
            return element
    return root


def _admonition_body(element: _Element) -> str:
    """An admonition's text without its title."""
    return "".join(
        child if isinstance(child, str) else _admonition_body(child)
        for child in element.children
        if isinstance(child, str)
        or ("admonition-title" not in child.classes and child.tag not in _NON_TEXT_TAGS)
    )


ANSWER_BOX_TITLE = "This chapter in one box"
"""The title of every chapter's answer box (its admonition in the chapter's first cell)."""


def _admonition_title(element: _Element) -> str:
    titles = [c for c in element.children
              if not isinstance(c, str) and "admonition-title" in c.classes]  # fmt: skip
    return titles[0].text().strip() if titles else ""


def _is_answer_box(element: _Element) -> bool:
    """An open admonition (not a dropdown, not folded code) titled :data:`ANSWER_BOX_TITLE`
    whose body states a number: the glued answer of the run, since a box's fixed text states
    none (and a note that happens to hold a digit is not the answer box)."""
    return (
        "admonition" in element.classes
        and element.tag != "details"
        and not element.classes & {"dropdown", "hide", "toggle"}
        and _admonition_title(element) == ANSWER_BOX_TITLE
        and re.search(r"\d", _admonition_body(element)) is not None
    )


def chapter_defects(html: str, *, code: bool = True, names: bool = True) -> list[tuple[Kind, str]]:
    """The reader-facing defects of one chapter page's HTML, as ``(kind, detail)`` pairs.

    These are the rules that need no browser: an answer box before the first section
    (``answer``), no code input outside a folded ``<details>`` except the parameters cell
    (``code``; skipped with ``code=False``, where the browser tests visibility itself), every
    image in a numbered, captioned ``<figure>`` with alt text that is not a file path
    (``figure``), no ``NaN``, ``0.0000``, ``-0.0`` or raw dict in a table cell or text output
    (``table``), and no raw column name outside code (``names``; skipped with ``names=False``,
    for the page that documents the columns by name, :data:`SCHEMA_PAGE`). Only the page's
    article is read, not the theme's navigation.
    """
    article = _article(_parse_tree(html))
    found: list[tuple[Kind, str]] = []

    answered = False
    for element in article.iter():
        if element.tag == "h2":
            break
        if _is_answer_box(element):
            answered = True
            break
    if not answered:
        found.append(("answer", "no answer box before the first section: the chapter should "
                      "open with an admonition stating its answer with the run's numbers"))  # fmt: skip

    tables = 0

    def walk(element: _Element, *, folded: bool, parameters: bool, figure: _Element | None) -> None:
        nonlocal tables
        folded = folded or element.tag == "details"
        parameters = parameters or bool(element.classes & _PARAMETER_CLASSES)
        if element.tag == "figure":
            figure = element
        if code and "cell_input" in element.classes and not folded and not parameters:
            first = _shorten(_first_line(element.text()), 80)
            found.append(("code", f"code shown by default: {first}"))
        if element.tag == "img":
            found.extend(("figure", d) for d in _figure_defects(element, figure))
        if element.tag == "table":
            tables += 1
            cells = [c.text() for c in element.iter() if c.tag in ("td", "th")]
            found.extend(("table", f"table {tables} {d}") for d in _value_defects(cells))
        elif "output" in element.classes and element.classes & {"text_plain", "stream"}:
            found.extend(("table", f"text output {d}") for d in _value_defects([element.text()]))
            return
        for child in element.children:
            if isinstance(child, _Element) and child.tag not in _NON_TEXT_TAGS:
                walk(child, folded=folded, parameters=parameters, figure=figure)

    walk(article, folded=False, parameters=False, figure=None)
    raw = _article_column_names(article) if names else []
    if raw:
        shown = ", ".join(dict.fromkeys(raw))
        found.append(("names", f"raw column names in the text: {len(raw)}, "
                      f"{_shorten(shown, 120)} (write the catalogue's display name, or set a "
                      "column named on purpose as code)"))  # fmt: skip
    return found


def _image_name(src: str) -> str:
    """A short name for an image in a message: the file name, a content hash cut to 12."""
    if src.startswith("data:"):
        return _short_src(src)
    stem, dot, suffix = src.rsplit("/", 1)[-1].partition(".")
    return (stem if len(stem) <= 16 else stem[:12] + "…") + dot + suffix


def _figure_defects(image: _Element, figure: _Element | None) -> list[str]:
    src = image.attrs.get("src", "")
    name = _image_name(src)
    defects = []
    alt = " ".join(image.attrs.get("alt", "").split())
    if not alt:
        defects.append(f"image {name} has no alt text")
    elif alt == src or (" " not in alt and ("/" in alt or _IMAGE_SUFFIX.search(alt))):
        defects.append(f"image {name} has a file path for alt text ({_shorten(alt, 60)}): say "
                       "what it shows")  # fmt: skip
    if figure is None:
        defects.append(f"image {name} is not in a figure: give its cell a caption "
                       "(mystnb figure caption and name)")  # fmt: skip
        return defects
    captions = [e for e in figure.iter() if e.tag == "figcaption"]
    text = " ".join(captions[0].text().split()) if captions else ""
    numbered = any("caption-number" in e.classes for c in captions for e in c.iter())
    if not text:
        defects.append(f"image {name} is in a figure without a caption")
    elif not numbered:
        defects.append(f"image {name}: its caption is not numbered ({_shorten(text, 60)}); give "
                       "the figure a name")  # fmt: skip
    return defects


def _value_defects(texts: Sequence[str]) -> list[str]:
    """One line per kind of bad value found in ``texts``, with a count and an example."""
    defects = []
    for pattern, what in _BAD_VALUES:
        hits = [match.group(0) for text in texts for match in pattern.finditer(text)]
        if hits:
            where = "cell" if len(texts) > 1 else "place"
            defects.append(f"shows {what}: {len(hits)} {where}(s), e.g. {hits[0]!r}")
    return defects


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "(empty)")


def _shorten(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --------------------------------------------------------------------------------------------
# Links and images, shared by both checkers

# The static checker resolves links against this origin exactly as a browser resolves them
# against the server's, so both agree on what is internal and where it points.
_STATIC_ORIGIN = "http://book.invalid"


def _internal_target(origin: str, page: str, href: str) -> tuple[str, str] | None:
    """``(path, fragment)`` of ``href`` on ``page`` if it stays on ``origin``, else None.

    ``path`` is relative to the book root, URL-decoded, and names ``index.html`` for a folder.
    """
    url = urllib.parse.urljoin(f"{origin}/{page}", href.strip())
    parts = urllib.parse.urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    path = urllib.parse.unquote(parts.path).lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    return path, urllib.parse.unquote(parts.fragment)


def _image_defect(data: bytes, *, svg: bool) -> str | None:
    """Why ``data`` is not a displayable image, or None when it is one."""
    if not data:
        return "is empty (0 bytes)"
    if svg:
        return None if b"<svg" in data[:4096] else "is not an SVG document"
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError) as error:
        return f"does not decode as an image ({error})"
    return None if width > 0 and height > 0 else f"has size {width}×{height}"


def _decode_data_url(url: str) -> tuple[bytes, bool]:
    """Payload of a ``data:`` URL and whether it declares SVG; ValueError if malformed."""
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma:
        raise ValueError("has no ',' separating header and data")
    media_type = header.split(";")[0].strip().lower()
    if header.lower().endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=True), media_type == "image/svg+xml"
        except binascii.Error as error:
            raise ValueError(f"has invalid base64 ({error})") from error
    return urllib.parse.unquote_to_bytes(payload), media_type == "image/svg+xml"


def _short_src(src: str) -> str:
    return src if not src.startswith("data:") else _shorten(src, 48)


# --------------------------------------------------------------------------------------------
# Static checker


def check_book_static(html_dir: Path | str) -> list[Problem]:
    """Check a built book without a browser, by parsing its HTML files.

    Reports images whose file is missing or does not decode (``data:`` images included),
    internal links to a missing file or to a fragment that is no ``id`` on the target page,
    rendered tracebacks, MathJax loaded from another site, and on chapter pages the reader's
    rules of :func:`chapter_defects` (answer box, folded code, captions, table values).

    Raises
    ------
    FileNotFoundError
        If ``html_dir`` is not a directory.
    """
    root = _book_dir(html_dir)
    pages = book_pages(root)
    if not pages:
        return [Problem(".", "load", "no HTML pages found")]

    @functools.cache
    def parsed(rel: str) -> _Page:
        return _parse_page((root / rel).read_text(encoding="utf-8", errors="replace"))

    def exists(rel: str) -> bool:
        path = (root / rel).resolve()
        return path.is_file() and path.is_relative_to(root)

    problems: set[Problem] = set()
    for page in pages:
        content = parsed(page)
        html = (root / page).read_text(encoding="utf-8", errors="replace")
        problems.update(Problem(page, "traceback", detail) for detail in content.tracebacks)
        if is_chapter_page(page):
            problems.update(Problem(page, kind, detail)
                            for kind, detail in chapter_defects(html, names=page != SCHEMA_PAGE))
        if _REMOTE_MATHJAX.search(html):
            problems.add(Problem(page, "math", "MathJax is loaded from another site: offline, "
                                 "the maths shows as raw TeX"))  # fmt: skip
        for src in content.images:
            defect = _static_image_defect(root, page, src)
            if defect is not None:
                problems.add(Problem(page, "image", defect))
        for href in content.links:
            target = _internal_target(_STATIC_ORIGIN, page, href)
            if target is None:
                continue
            path, fragment = target
            if not exists(path):
                problems.add(Problem(page, "link", f"broken link {href!r}: no file {path}"))
            elif fragment and path.endswith(".html") and fragment not in parsed(path).ids:
                problems.add(
                    Problem(page, "link", f"broken link {href!r}: no id {fragment!r} on {path}")
                )
    return sorted(problems)


def _static_image_defect(root: Path, page: str, src: str | None) -> str | None:
    if not src:
        return "<img> without a src"
    if src.startswith("data:"):
        try:
            data, svg = _decode_data_url(src)
        except ValueError as error:
            return f"image {_short_src(src)} {error}"
        defect = _image_defect(data, svg=svg)
        return None if defect is None else f"image {_short_src(src)} {defect}"
    target = _internal_target(_STATIC_ORIGIN, page, src)
    if target is None:
        return None
    path = (root / target[0]).resolve()
    if not path.is_file() or not path.is_relative_to(root):
        return f"image {src!r} is missing: no file {target[0]}"
    defect = _image_defect(path.read_bytes(), svg=path.suffix.lower() == ".svg")
    return None if defect is None else f"image {src!r} {defect}"


# --------------------------------------------------------------------------------------------
# Browser checker


@dataclass(frozen=True)
class FigureSize:
    """One image of a chapter page as the browser lays it out.

    Parameters
    ----------
    page : str
        The page, relative to the book directory.
    src : str
        The image's ``src`` attribute.
    width, height : float
        Rendered size in CSS pixels (at :data:`VIEWPORT`).
    natural_width, natural_height : int
        The image file's own size in pixels.
    """

    page: str
    src: str
    width: float
    height: float
    natural_width: int
    natural_height: int

    @property
    def downscale(self) -> float:
        """How many times the image is shrunk: natural width over rendered width."""
        return self.natural_width / self.width if self.width > 0 else math.inf

    def __str__(self) -> str:
        return (
            f"{self.page}: {_image_name(self.src)}: {self.width:.0f}×{self.height:.0f} CSS px "
            f"(natural {self.natural_width}×{self.natural_height} px, shrunk "
            f"{self.downscale:.2f}×)"
        )


@dataclass(frozen=True)
class BookReport:
    """What :func:`inspect_book` found.

    Parameters
    ----------
    problems : list of Problem
        Every defect, sorted.
    pages : list of str
        The pages checked; :func:`is_chapter_page` tells which the chapter rules applied to.
    figures : list of FigureSize
        Every visible image of the chapter pages, largest (natural area) first.
    screenshots : list of Path
        One full-page PNG per chapter page.
    """

    problems: list[Problem]
    pages: list[str]
    figures: list[FigureSize] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)

    def chapter_verdicts(self) -> dict[str, int]:
        """Number of problems on each chapter page (0: it passes every rule)."""
        return {
            page: sum(problem.page == page for problem in self.problems)
            for page in self.pages
            if is_chapter_page(page)
        }


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        pass


@contextlib.contextmanager
def serve(html_dir: Path | str) -> Iterator[str]:
    """Serve ``html_dir`` on ``127.0.0.1`` (a free port) in a thread; yield the origin URL.

    The server is shut down and its socket closed when the context exits.
    """
    handler = functools.partial(_QuietHandler, directory=str(_book_dir(html_dir)))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="htmlcheck-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def browser_unavailable(browser: str = DEFAULT_BROWSER) -> str | None:
    """Why :func:`check_book` cannot run here (a sentence), or None when it can."""
    if not (Path(browser).is_file() and os.access(browser, os.X_OK)):
        return f"no Chromium executable at {browser} (run scripts/install_browser.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


# Runs in the page: make lazy images load, wait until each decoded or failed, report them.
# Sphinx writes maths as ``<span class="math">\\(…\\)</span>`` / ``<div class="math">``; MathJax
# fills each with an ``mjx-container`` once it has typeset the page.
_MATH_JS = """
async () => {
  const math = document.querySelectorAll("span.math, div.math");
  if (!math.length) return { expected: 0, rendered: 0 };
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    await window.MathJax.startup.promise.catch(() => null);
  }
  const rendered = Array.from(math).filter((m) => m.querySelector("mjx-container")).length;
  return { expected: math.length, rendered };
}
"""
_REMOTE_MATHJAX = re.compile(r"<script[^>]+src=[\"'](?:https?:)?//[^\"']*mathjax", re.IGNORECASE)

_IMAGES_JS = """
async () => {
  const images = Array.from(document.images);
  for (const image of images) image.loading = "eager";
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
  return images.map((image) => ({
    src: image.getAttribute("src"),
    url: image.currentSrc || image.src,
    width: image.naturalWidth,
  }));
}
"""


# Runs on a chapter page: where the answer box starts, which code inputs show, and every
# visible image's rendered and natural size. An element is visible when the browser lays it out
# (a folded <details> or a dropdown's body is not).
_CHAPTER_JS = """
() => {
  const article = document.querySelector("article.bd-article") || document.body;
  const visible = (el) =>
    el.checkVisibility ? el.checkVisibility({ visibilityProperty: true })
                       : el.getClientRects().length > 0;
  const body = (box) => {
    const copy = box.cloneNode(true);
    copy.querySelectorAll(".admonition-title").forEach((title) => title.remove());
    return copy.textContent;
  };
  const tops = Array.from(article.querySelectorAll(".admonition"))
    .filter((box) => box.tagName !== "DETAILS" && !box.matches(".dropdown, .hide, .toggle"))
    .filter((box) => (box.querySelector(":scope > .admonition-title")?.textContent || "").trim()
                     === "__ANSWER_BOX_TITLE__")
    .filter((box) => /\\d/.test(body(box)) && visible(box))
    .map((box) => box.getBoundingClientRect().top + window.scrollY);
  const code = Array.from(article.querySelectorAll(".cell_input"))
    .filter((el) => !el.closest(".tag_parameters, .tag_injected-parameters") && visible(el))
    .map((el) => el.textContent.trim().split("\\n")[0]);
  const figures = Array.from(article.querySelectorAll("img")).filter(visible).map((img) => {
    const box = img.getBoundingClientRect();
    return { src: img.getAttribute("src") || "", width: box.width, height: box.height,
             naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight };
  });
  return { answerTop: tops.length ? Math.min(...tops) : null, code, figures };
}
""".replace("__ANSWER_BOX_TITLE__", ANSWER_BOX_TITLE)


def check_book(
    html_dir: Path | str,
    *,
    browser: str = DEFAULT_BROWSER,
    screenshots: Path | str | None = None,
) -> list[Problem]:
    """The problems :func:`inspect_book` finds (see there)."""
    return inspect_book(html_dir, browser=browser, screenshots=screenshots).problems


def inspect_book(
    html_dir: Path | str,
    *,
    browser: str = DEFAULT_BROWSER,
    screenshots: Path | str | None = None,
) -> BookReport:
    """Open every page of a built book in headless Chromium and report what is broken.

    The book is served on a loopback HTTP server; the browser may load nothing from any other
    origin. Reported per page:

    - ``load``: the page answers HTTP ≥ 400 or does not finish loading;
    - ``resource``: a same-origin request (CSS, JS, image, font) fails or answers HTTP ≥ 400;
    - ``console``: a console error from our origin, or an uncaught exception in the page;
    - ``image``: an ``<img>`` with no ``src`` or with ``naturalWidth`` 0 once decoded
      (``data:`` images included);
    - ``link``: an ``<a href>`` on our origin that does not answer HTTP 200 through the server,
      or whose fragment is not an ``id`` on the target page;
    - ``traceback``: a rendered Python traceback (see :func:`check_book_static`);
    - ``math``: a formula MathJax did not typeset. Requests off the book's origin are aborted,
      so this also proves the maths renders offline.

    On chapter pages (:func:`is_chapter_page`), also the rules of :func:`chapter_defects`
    on the rendered page, and:

    - ``answer``: the answer box starts below the first screen (``VIEWPORT["height"]`` CSS px);
    - ``code``: a code input other than the parameters cell is visible on load;
    - ``legibility``: an image's natural width exceeds :data:`MAX_DOWNSCALE` times its rendered
      width.

    Parameters
    ----------
    html_dir : path
        The built book, e.g. ``book/_build/html``.
    browser : str
        Chromium executable driven by Playwright.
    screenshots : path, optional
        Folder (created) for a full-page PNG of each chapter page, ``<chapter>.png``; none taken
        when omitted.

    Returns
    -------
    BookReport
        The problems, the pages checked, the chapter pages' figure sizes and the screenshots.

    Raises
    ------
    FileNotFoundError
        If ``html_dir`` is not a directory or ``browser`` is not an executable.
    """
    reason = browser_unavailable(browser)
    if reason is not None:
        raise FileNotFoundError(f"Expected `browser` to be a usable Chromium, got {reason}.")
    from playwright.sync_api import sync_playwright

    root = _book_dir(html_dir)
    pages = book_pages(root)
    if not pages:
        return BookReport([Problem(".", "load", "no HTML pages found")], [])
    shots = None if screenshots is None else Path(screenshots)
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    problems: set[Problem] = set()
    rendered: dict[str, _Page] = {}
    figures: list[FigureSize] = []
    with (
        serve(root) as origin,
        tempfile.TemporaryDirectory(prefix="calstudy-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=browser,
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport=VIEWPORT,
        )
        try:
            # Every page is a first visit: themes that remember state (pydata-sphinx-theme's
            # colour mode) behave the same on every page, whatever order pages are checked in.
            context.add_init_script("try { window.localStorage.clear(); } catch (error) {}")
            context.route(
                "**/*",
                lambda route: (
                    route.continue_() if _on_origin(route.request.url, origin) else route.abort()
                ),
            )
            for page_path in pages:
                served = _parse_page((root / page_path).read_text("utf-8", errors="replace"))
                if served.redirect is not None:
                    # A redirect page (jupyter-book's index.html) navigates away as it loads;
                    # its target is checked as a link, and as a page of its own.
                    rendered[page_path] = served
                    continue
                content = _check_page(context, origin, page_path, problems, figures, shots)
                if content is not None:
                    rendered[page_path] = content
        finally:
            context.unroute_all(behavior="ignoreErrors")
            context.close()
        problems.update(_check_links_over_http(origin, rendered))
    figures.sort(key=lambda f: (-f.natural_width * f.natural_height, f.page, f.src))
    taken = [] if shots is None else [shots / f"{Path(p).stem}.png" for p in pages
                                      if is_chapter_page(p)]  # fmt: skip
    return BookReport(sorted(problems), pages, figures, [p for p in taken if p.is_file()])


def _on_origin(url: str, origin: str) -> bool:
    return url == origin or url.startswith(origin + "/")


def _check_page(
    context: BrowserContext,
    origin: str,
    page_path: str,
    problems: set[Problem],
    figures: list[FigureSize],
    screenshots: Path | None,
) -> _Page | None:
    """Load one page, record its problems (and a chapter page's figure sizes and screenshot),
    and return its rendered content (None if unloaded)."""
    from playwright.sync_api import Error as PlaywrightError

    page = context.new_page()
    url = f"{origin}/{urllib.parse.quote(page_path)}"

    def report(kind: Kind, detail: str) -> None:
        problems.add(Problem(page_path, kind, detail))

    def on_console(message: ConsoleMessage) -> None:
        location = message.location.get("url", "")
        if message.type == "error" and _on_origin(location, origin):
            report("console", f"{_shorten(message.text)} (at {location[len(origin) :]})")

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.url != url and _on_origin(response.url, origin):
            report("resource", f"HTTP {response.status} for {response.url[len(origin) :]}")

    def on_request_failed(request: Request) -> None:
        if request.url != url and _on_origin(request.url, origin):
            report("resource", f"{request.url[len(origin) :]} failed: {request.failure}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: report("console", f"uncaught error: {_shorten(str(error))}"))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    try:
        try:
            response = page.goto(url, wait_until="load", timeout=_PAGE_TIMEOUT_MS)
        except PlaywrightError as error:
            report("load", f"did not load: {_shorten(str(error))}")
            return None
        if response is None or response.status >= 400:
            report("load", f"HTTP {response.status if response else 'no response'} for {url}")
            return None
        chapter = None
        try:
            images = page.evaluate(_IMAGES_JS)
            formulas = page.evaluate(_MATH_JS)
            html = page.content()
            content = _parse_page(html)
            if is_chapter_page(page_path):
                chapter = page.evaluate(_CHAPTER_JS)
                if screenshots is not None:
                    page.screenshot(
                        path=str(screenshots / f"{Path(page_path).stem}.png"), full_page=True
                    )
        except PlaywrightError as error:
            report("load", f"changed while being checked: {_shorten(str(error))}")
            return None
        if formulas["rendered"] < formulas["expected"]:
            report(
                "math",
                f"MathJax rendered {formulas['rendered']} of {formulas['expected']} formulas "
                "(the browser may load nothing off the book's origin)",
            )
        if chapter is not None:
            for kind, detail in chapter_defects(html, code=False, names=page_path != SCHEMA_PAGE):
                report(kind, detail)
            _report_chapter_layout(chapter, page_path, report, figures)
        for image in images:
            src = image["src"]
            if not src:
                report("image", "<img> without a src")
            elif image["width"] == 0 and (
                src.startswith("data:") or _on_origin(image["url"], origin)
            ):
                report("image", f"image {_short_src(src)} did not render (naturalWidth 0)")
    finally:
        page.close()
    problems.update(Problem(page_path, "traceback", detail) for detail in content.tracebacks)
    return content


def _report_chapter_layout(
    chapter: dict, page_path: str, report: Callable[[Kind, str], None], figures: list[FigureSize]
) -> None:
    """Report what only the layout shows (the answer's position, visible code, shrunk figures)
    and record the figures' sizes."""
    screen = VIEWPORT["height"]
    top = chapter["answerTop"]
    if top is not None and top > screen:
        report("answer", f"the answer box starts {top:.0f} px down, below the first screen "
               f"({VIEWPORT['width']}×{screen} px): move it right under the title")  # fmt: skip
    for line in chapter["code"]:
        report("code", f"code shown by default: {_shorten(line, 80)}")
    for image in chapter["figures"]:
        size = FigureSize(
            page_path,
            image["src"],
            float(image["width"]),
            float(image["height"]),
            int(image["naturalWidth"]),
            int(image["naturalHeight"]),
        )
        if size.width <= 0 or size.natural_width <= 0:
            continue  # not laid out, or not decoded: the image checks report the latter
        figures.append(size)
        if size.downscale > MAX_DOWNSCALE:
            report("legibility", f"image {_image_name(size.src)} is shrunk {size.downscale:.1f}× "
                   f"({size.natural_width} px wide, shown at {size.width:.0f} px; at most "
                   f"{MAX_DOWNSCALE:g}×): split it or draw it at the page's width")  # fmt: skip


def _check_links_over_http(origin: str, rendered: dict[str, _Page]) -> set[Problem]:
    """Request every internal link target through the server; check fragments against ids."""
    # Loopback only: never send these requests to a proxy named in the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @functools.cache
    def status(path: str) -> int:
        url = f"{origin}/{urllib.parse.quote(path)}"
        for method in ("HEAD", "GET"):
            try:
                with opener.open(urllib.request.Request(url, method=method), timeout=30) as reply:
                    return int(reply.status)
            except urllib.error.HTTPError as error:
                if error.code != 501:  # HEAD not implemented: retry with GET
                    return int(error.code)
        return 501

    @functools.cache
    def ids(path: str) -> frozenset[str]:
        if path in rendered:
            return rendered[path].ids
        with opener.open(f"{origin}/{urllib.parse.quote(path)}", timeout=30) as reply:
            return _parse_page(reply.read().decode("utf-8", errors="replace")).ids

    problems: set[Problem] = set()
    for page_path, content in rendered.items():
        for href in content.links:
            target = _internal_target(origin, page_path, href)
            if target is None:
                continue
            path, fragment = target
            code = status(path)
            if code != 200:
                problems.add(Problem(page_path, "link", f"broken link {href!r}: HTTP {code}"))
            elif fragment and path.endswith(".html") and fragment not in ids(path):
                problems.add(
                    Problem(
                        page_path, "link", f"broken link {href!r}: no id {fragment!r} on {path}"
                    )
                )
    return problems


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m calstudy.htmlcheck HTML_DIR``: print each problem; exit 1 if there are any."""
    parser = argparse.ArgumentParser(
        prog="python -m calstudy.htmlcheck", description=__doc__.splitlines()[0]
    )
    parser.add_argument("html_dir", help="the built book, e.g. book/_build/html")
    parser.add_argument("--browser", default=DEFAULT_BROWSER, help="Chromium executable")
    parser.add_argument("--static", action="store_true", help="parse the HTML; no browser")
    parser.add_argument(
        "--screenshots",
        metavar="DIR",
        help="folder for a full-page screenshot of each chapter page (default: 'screenshots' "
        "beside HTML_DIR, e.g. book/_build/screenshots)",
    )
    parser.add_argument(
        "--figures", type=int, default=5, metavar="N", help="list the N largest figures (5)"
    )
    args = parser.parse_args(argv)
    shots = Path(args.screenshots or Path(args.html_dir).resolve().parent / "screenshots")
    try:
        pages = book_pages(args.html_dir)
        reason = None if args.static else browser_unavailable(args.browser)
        if args.static or reason is not None:
            if reason is not None:
                print(f"[htmlcheck] {reason}; checking the HTML statically", file=sys.stderr)
            result = BookReport(check_book_static(args.html_dir), pages)
        else:
            result = inspect_book(args.html_dir, browser=args.browser, screenshots=shots)
    except FileNotFoundError as error:
        print(f"[htmlcheck] {error}", file=sys.stderr)
        return 2
    problems = result.problems
    for problem in problems:
        print(problem)
    for page, count in result.chapter_verdicts().items():
        verdict = f"{count} problem(s)" if count else "passes"
        print(f"[htmlcheck] chapter {page}: {verdict}", file=sys.stderr)
    if result.figures:
        print(f"[htmlcheck] largest figures (rendered at {VIEWPORT['width']}×"
              f"{VIEWPORT['height']}):", file=sys.stderr)  # fmt: skip
        for figure in result.figures[: args.figures]:
            print(f"    {figure}", file=sys.stderr)
    if result.screenshots:
        print(f"[htmlcheck] {len(result.screenshots)} screenshot(s) in {shots}", file=sys.stderr)
    verdict = f"{len(problems)} problem(s)" if problems else "no problems"
    print(f"[htmlcheck] {len(pages)} page(s) checked: {verdict}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
