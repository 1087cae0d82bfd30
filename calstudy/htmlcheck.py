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

Usage::

    python -m calstudy.htmlcheck book/_build/html            # browser, else static
    python -m calstudy.htmlcheck book/_build/html --static   # never start a browser
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import functools
import io
import os
import re
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
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

Kind = Literal["load", "console", "resource", "image", "link", "traceback", "math"]

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
    kind : {"load", "console", "resource", "image", "link", "traceback"}
        What is wrong: the page itself, a console error, a same-origin resource that failed,
        an image, an internal link, or a rendered traceback.
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


def _parse_page(html: str) -> _Page:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    root = builder.root
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
    rendered tracebacks, and MathJax loaded from another site.

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
        problems.update(Problem(page, "traceback", detail) for detail in content.tracebacks)
        if _REMOTE_MATHJAX.search((root / page).read_text(encoding="utf-8", errors="replace")):
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


def check_book(html_dir: Path | str, *, browser: str = DEFAULT_BROWSER) -> list[Problem]:
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

    Parameters
    ----------
    html_dir : path
        The built book, e.g. ``book/_build/html``.
    browser : str
        Chromium executable driven by Playwright.

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
        return [Problem(".", "load", "no HTML pages found")]
    problems: set[Problem] = set()
    rendered: dict[str, _Page] = {}
    with (
        serve(root) as origin,
        tempfile.TemporaryDirectory(prefix="calstudy-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=browser, headless=True, args=list(CHROMIUM_ARGS)
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
                content = _check_page(context, origin, page_path, problems)
                if content is not None:
                    rendered[page_path] = content
        finally:
            context.unroute_all(behavior="ignoreErrors")
            context.close()
        problems.update(_check_links_over_http(origin, rendered))
    return sorted(problems)


def _on_origin(url: str, origin: str) -> bool:
    return url == origin or url.startswith(origin + "/")


def _check_page(
    context: BrowserContext, origin: str, page_path: str, problems: set[Problem]
) -> _Page | None:
    """Load one page, record its problems, and return its rendered content (None if unloaded)."""
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
        try:
            images = page.evaluate(_IMAGES_JS)
            math = page.evaluate(_MATH_JS)
            content = _parse_page(page.content())
        except PlaywrightError as error:
            report("load", f"changed while being checked: {_shorten(str(error))}")
            return None
        if math["rendered"] < math["expected"]:
            report(
                "math",
                f"MathJax rendered {math['rendered']} of {math['expected']} formulas "
                "(the browser may load nothing off the book's origin)",
            )
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
    args = parser.parse_args(argv)
    try:
        n_pages = len(book_pages(args.html_dir))
        reason = None if args.static else browser_unavailable(args.browser)
        if args.static or reason is not None:
            if reason is not None:
                print(f"[htmlcheck] {reason}; checking the HTML statically", file=sys.stderr)
            problems = check_book_static(args.html_dir)
        else:
            problems = check_book(args.html_dir, browser=args.browser)
    except FileNotFoundError as error:
        print(f"[htmlcheck] {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    verdict = f"{len(problems)} problem(s)" if problems else "no problems"
    print(f"[htmlcheck] {n_pages} page(s) checked: {verdict}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
