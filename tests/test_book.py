"""The book: build it, check the rendered HTML, and check the checker and the pipeline's guards.

The build test executes every chapter of ``_toc.yml`` through ``calstudy.book.build`` (papermill,
then ``jupyter-book build``), writing to the git-ignored ``book/executed`` and ``book/_build``;
chapters that read a dataset get a store made by the ``tiny`` sweep preset. Set
``CALSTUDY_BOOK_CHAPTERS=primer,rq6_bin_count`` to build only some chapters while working on them.

The HTML checks run in headless Chromium when ``scripts/install_browser.sh`` could install it,
and as static HTML checks always.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
import yaml
from PIL import Image

from calstudy import book, htmlcheck
from calstudy.htmlcheck import Problem

REPO_ROOT = Path(__file__).resolve().parent.parent
BROWSER_MISSING = htmlcheck.browser_unavailable()
needs_browser = pytest.mark.skipif(BROWSER_MISSING is not None, reason=str(BROWSER_MISSING))
IMAGE_MIME_TYPES = ("image/png", "image/jpeg", "image/svg+xml")


# --------------------------------------------------------------------------------------------
# Helpers


def toc_files() -> list[str]:
    """Every ``file:`` of ``_toc.yml`` (root included), in order, without suffix."""
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    files.append(str(node[key]))
            for value in node.values():
                if isinstance(value, list | dict):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return files


def toc_chapters() -> list[str]:
    """Names of the executed chapters in ``_toc.yml`` (``book/executed/<name>``)."""
    prefix = "book/executed/"
    return [file[len(prefix) :] for file in toc_files() if file.startswith(prefix)]


def selected_chapters() -> list[str]:
    chosen = os.environ.get("CALSTUDY_BOOK_CHAPTERS", "")
    if not chosen:
        return toc_chapters()
    return [name.strip() for name in chosen.split(",") if name.strip()]


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def by_page(problems: list[Problem]) -> dict[str, list[Problem]]:
    grouped: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        grouped[problem.page].append(problem)
    return grouped


# --------------------------------------------------------------------------------------------
# The built book


@pytest.fixture(scope="module")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Execute the selected chapters and render the HTML once for this module."""
    chapters = selected_chapters()
    missing = [name for name in chapters if not (book.NOTEBOOK_DIR / f"{name}.py").exists()]
    assert not missing, f"chapters in _toc.yml without a notebooks/<name>.py source: {missing}"
    needs_store = [
        name
        for name in chapters
        if "store" in book.notebook_parameters(book.NOTEBOOK_DIR / f"{name}.py")
    ]
    store: Path | None = None
    if needs_store:
        store = tmp_path_factory.mktemp("tiny-store")
        subprocess.run(
            [sys.executable, "-m", "calstudy", "sweep", "--preset", "tiny", "--out", str(store)],
            check=True,
            cwd=REPO_ROOT,
        )
        # RQ viii reads early-training signals from <store>/early, as the demo store has them.
        early = ["--preset", "tiny", "--space", "tss", "--dataset", "cifar10", "--epochs", "1"]
        subprocess.run(
            [sys.executable, "-m", "calstudy", "early", *early, "--n-val", "500", "--quiet",
             "--out", str(store / "early")],
            check=True,
            cwd=REPO_ROOT,
        )  # fmt: skip
        # ... and its noise ceiling from <store>/early-full: full runs of every network, 3 seeds.
        seeds = store.parent / "tiny-seeds.yaml"
        seeds.write_text(
            "preset: tiny\nname: tiny-seeds\narchs:\n  tss: 3\ndatasets: [cifar10]\n"
            "seeds: [0, 1, 2]\n",
            encoding="utf-8",
        )
        for seed in ("0", "1", "2"):
            subprocess.run(
                [sys.executable, "-m", "calstudy", "early", "--config", str(seeds), "--seed",
                 seed, *early[2:], "--n-val", "500", "--quiet", "--out",
                 str(store / "early-full")],
                check=True,
                cwd=REPO_ROOT,
            )  # fmt: skip
    html_dir = book.build(store=None if store is None else str(store), only=chapters)
    assert (html_dir / "index.html").is_file()
    return html_dir


@pytest.mark.slow
def test_every_toc_entry_has_a_page(built_book: Path) -> None:
    built = set(selected_chapters())
    expected = [
        file
        for file in toc_files()
        if not file.startswith("book/executed/") or file.removeprefix("book/executed/") in built
    ]
    assert expected, "_toc.yml lists no files"
    missing = [file for file in expected if not (built_book / f"{file}.html").is_file()]
    assert not missing, f"no HTML page for these _toc.yml entries: {missing}"


@pytest.mark.slow
def test_no_page_outside_the_toc(built_book: Path) -> None:
    """Stray documents (a README in a cache folder, a leftover notebook) must not be published."""
    allowed = {f"{file}.html" for file in toc_files()} | {"index.html"}
    stray = [page for page in htmlcheck.book_pages(built_book) if page not in allowed]
    assert not stray, f"pages not in _toc.yml were published: {stray}"


@pytest.mark.slow
def test_chapters_link_their_sources_on_binder_and_serve_mathjax(built_book: Path) -> None:
    for name in selected_chapters():
        html = (built_book / "book" / "executed" / f"{name}.html").read_text(encoding="utf-8")
        assert f"urlpath=lab/tree/notebooks/{name}.py" in html, name
        assert "mybinder.org/v2/gh" not in html.replace(
            f"mybinder.org/v2/gh/calstudy/calstudy/main?urlpath=lab/tree/notebooks/{name}.py", ""
        ), f"{name}: a Binder link to something other than the chapter's source"
    assert (built_book / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()


@pytest.mark.slow
def test_executed_notebooks_have_images_and_no_errors(built_book: Path) -> None:
    for name in selected_chapters():
        executed = nbformat.read(book.EXECUTED_DIR / f"{name}.ipynb", as_version=4)
        images = 0
        for cell in executed.cells:
            tags = cell.metadata.get("tags", [])
            if "parameters" in tags or "injected-parameters" in tags:
                assert not any(t.startswith(("hide-", "remove-")) for t in tags), (
                    f"{name}: the parameter cell is hidden"
                )
            elif cell.cell_type == "code":  # analysis folded, checks removed from the page
                assert {"hide-input", "remove-cell", "remove-input"} & set(tags), (name, tags)
            for output in cell.get("outputs", []):
                assert output.output_type != "error", f"{name}: error output {output.ename}"
                for mime in IMAGE_MIME_TYPES:
                    if mime in output.get("data", {}):
                        images += 1
                        payload = output.data[mime]
                        if mime == "image/svg+xml":
                            assert "<svg" in payload, f"{name}: empty SVG output"
                        else:
                            with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
                                assert min(image.size) > 0, f"{name}: {image.size} image"
        page = built_book / "book" / "executed" / f"{name}.html"
        rendered = [
            src
            for src in htmlcheck._parse_page(page.read_text(encoding="utf-8")).images
            if src and "_images/" in src
        ]
        assert len(rendered) >= images, f"{name}: {images} figures, {len(rendered)} rendered"
        for src in rendered:
            file = (page.parent / src).resolve()
            assert file.is_file() and file.stat().st_size > 0, f"{name}: {src} missing or empty"


@pytest.mark.slow
def test_built_book_passes_static_checks(built_book: Path) -> None:
    problems = htmlcheck.check_book_static(built_book)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.slow
@needs_browser
def test_built_book_renders_without_problems_in_chromium(built_book: Path) -> None:
    shots = built_book.parent / "screenshots"
    problems = htmlcheck.check_book(built_book, screenshots=shots)
    assert not problems, "\n".join(map(str, problems))
    chapters = sorted(p.stem for p in (built_book / "book" / "executed").glob("*.html"))
    taken = sorted(p.stem for p in shots.rglob("*.png"))
    assert chapters and set(chapters) <= set(taken), (chapters, taken)


# --------------------------------------------------------------------------------------------
# The checker catches what it claims to catch

CLEAN = '<p id="top">Fine.</p><a href="other.html#here">ok</a><a href="#top">self</a>'
# (page, body, problem kind, text the detail must contain); one defect per page.
DEFECTS = [
    ("broken_link.html", '<a href="missing.html">x</a>', "link", "no file missing.html"),
    ("broken_fragment.html", '<a href="other.html#nope">x</a>', "link", "no id 'nope'"),
    ("missing_image.html", '<img src="img/missing.png">', "image", "img/missing.png"),
    ("empty_image.html", '<img src="img/empty.png">', "image", "img/empty.png"),
    ("corrupt_image.html", '<img src="img/corrupt.png">', "image", "img/corrupt.png"),
    ("empty_data_image.html", '<img src="data:image/png;base64,">', "image", "data:image/png"),
    (
        "traceback_text.html",
        "<pre>Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'a'</pre>",
        "traceback",
        "KeyError: 'a'",
    ),
    (
        "traceback_output.html",
        '<div class="cell_output"><div class="output traceback highlight-ipythontb"><pre>'
        "ZeroDivisionError                   Traceback (most recent call last)\n"
        "ZeroDivisionError: division by zero</pre></div></div>",
        "traceback",
        "ZeroDivisionError",
    ),
    (
        "stderr_exception.html",
        '<div class="output stderr"><pre>warnings\nValueError: bad bins</pre></div>',
        "traceback",
        "ValueError: bad bins",
    ),
]
# Pages that look alarming but are fine: the checker must not report them.
BENIGN = {
    "clean.html": CLEAN,
    "stderr_warning.html": '<div class="output stderr"><pre>UserWarning: slow</pre></div>',
    "expected_error.html": (
        '<div class="cell tag_raises-exception"><div class="output traceback"><pre>'
        "Traceback (most recent call last):\nValueError: shown on purpose</pre></div></div>"
    ),
    "data_image.html": (
        f'<img src="data:image/png;base64,{base64.b64encode(png_bytes()).decode()}">'
        '<img src="img/good.png"><a href="img/">folder</a>'
    ),
    "other.html": '<h1 id="here">Other</h1>',
}
# Only a browser sees these.
BROWSER_DEFECTS = [
    ("script_error.html", "<script>throw new Error('boom in page')</script>", "console", "boom"),
    ("console_error.html", "<script>console.error('logged failure')</script>", "console", "logged"),
    ("missing_css.html", '<link rel="stylesheet" href="missing.css">', "resource", "missing.css"),
]


def write_site(root: Path, pages: dict[str, str]) -> Path:
    (root / "img").mkdir(parents=True)
    (root / "img" / "good.png").write_bytes(png_bytes())
    (root / "img" / "index.html").write_text("<p>images</p>", encoding="utf-8")
    (root / "img" / "empty.png").write_bytes(b"")
    (root / "img" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    (root / "_static").mkdir()
    (root / "_static" / "ignored.html").write_text('<a href="nowhere.html">x</a>', "utf-8")
    for name, body in pages.items():
        html = f"<!DOCTYPE html><html><head><title>{name}</title></head><body>{body}</body></html>"
        (root / name).write_text(html, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def fabricated_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pages = dict(BENIGN)
    pages.update({name: body for name, body, _, _ in DEFECTS + BROWSER_DEFECTS})
    return write_site(tmp_path_factory.mktemp("site"), pages)


@pytest.fixture(scope="module")
def static_problems(fabricated_site: Path) -> dict[str, list[Problem]]:
    return by_page(htmlcheck.check_book_static(fabricated_site))


@pytest.fixture(scope="module")
def browser_problems(fabricated_site: Path) -> dict[str, list[Problem]]:
    if BROWSER_MISSING is not None:
        pytest.skip(BROWSER_MISSING)
    return by_page(htmlcheck.check_book(fabricated_site))


def assert_reported(problems: list[Problem], kind: str, text: str) -> None:
    assert any(p.kind == kind and text in p.detail for p in problems), (
        f"expected a {kind!r} problem mentioning {text!r}, got: {[str(p) for p in problems]}"
    )


@pytest.mark.parametrize(("page", "body", "kind", "text"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_static_check_reports_each_defect(
    static_problems: dict[str, list[Problem]], page: str, body: str, kind: str, text: str
) -> None:
    assert_reported(static_problems[page], kind, text)


@needs_browser
@pytest.mark.parametrize(
    ("page", "body", "kind", "text"),
    DEFECTS + BROWSER_DEFECTS,
    ids=[d[0] for d in DEFECTS + BROWSER_DEFECTS],
)
def test_browser_check_reports_each_defect(
    browser_problems: dict[str, list[Problem]], page: str, body: str, kind: str, text: str
) -> None:
    if kind == "link" and "no file" in text:
        text = "HTTP 404"  # through the server, a missing page is a 404
    assert_reported(browser_problems[page], kind, text)


def test_static_check_accepts_benign_pages(static_problems: dict[str, list[Problem]]) -> None:
    for page in [*BENIGN, *(name for name, *_ in BROWSER_DEFECTS)]:
        assert static_problems.get(page, []) == [], page
    assert set(static_problems) == {name for name, *_ in DEFECTS}, "pages under _static/ skipped"


@needs_browser
def test_browser_check_accepts_benign_pages(browser_problems: dict[str, list[Problem]]) -> None:
    for page in BENIGN:
        assert browser_problems.get(page, []) == [], page
    assert set(browser_problems) == {name for name, *_ in DEFECTS + BROWSER_DEFECTS}


def test_redirect_page_target_is_checked(tmp_path: Path) -> None:
    site = write_site(tmp_path / "site", {"index.html": ""})
    (site / "index.html").write_text(
        '<meta http-equiv="Refresh" content="0; url=book/intro.html" />', encoding="utf-8"
    )
    assert htmlcheck.check_book_static(site) == [
        Problem("index.html", "link", "broken link 'book/intro.html': no file book/intro.html")
    ]
    (site / "book").mkdir()
    (site / "book" / "intro.html").write_text("<p>intro</p>", encoding="utf-8")
    assert htmlcheck.check_book_static(site) == []


def test_checker_rejects_a_missing_directory_and_an_empty_book(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="html_dir"):
        htmlcheck.check_book_static(tmp_path / "nope")
    assert htmlcheck.check_book_static(tmp_path) == [Problem(".", "load", "no HTML pages found")]
    with pytest.raises(FileNotFoundError, match="browser"):
        htmlcheck.check_book(tmp_path, browser=str(tmp_path / "no-chromium"))


def test_cli_exit_status_and_report(fabricated_site: Path, tmp_path: Path, capsys) -> None:
    assert htmlcheck.main([str(fabricated_site), "--static"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "broken_link.html: link: broken link 'missing.html': no file missing.html" in out
    assert len(out) == len(DEFECTS)

    clean = write_site(
        tmp_path / "clean", {"index.html": CLEAN, "other.html": BENIGN["other.html"]}
    )
    assert htmlcheck.main([str(clean), "--static"]) == 0
    assert capsys.readouterr().out == ""
    assert htmlcheck.main([str(tmp_path / "absent")]) == 2


def test_server_serves_the_directory_then_shuts_down(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>served</p>", encoding="utf-8")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with htmlcheck.serve(tmp_path) as origin:
        assert origin.startswith("http://127.0.0.1:")
        with opener.open(f"{origin}/page.html", timeout=10) as reply:
            assert reply.status == 200 and b"served" in reply.read()
        with pytest.raises(urllib.error.HTTPError) as missing:
            opener.open(f"{origin}/absent.html", timeout=10)
        assert missing.value.code == 404
    with pytest.raises(urllib.error.URLError):
        opener.open(f"{origin}/page.html", timeout=10)


# --------------------------------------------------------------------------------------------
# The pipeline's guards


def test_unknown_parameter_is_rejected_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_binz") as error:
        book.execute_chapter("primer", parameters={"n_binz": 3}, output=tmp_path / "p.ipynb")
    assert "n_bins" in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_unknown_chapter_is_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no_such_chapter"):
        book.execute_chapter("no_such_chapter", output=tmp_path / "x.ipynb")


def test_build_rejects_an_unknown_chapter() -> None:
    with pytest.raises(ValueError, match="primr"):
        book.build(only=["primr"], html=False)


@pytest.mark.slow
def test_failing_notebook_leaves_nothing_behind(tmp_path: Path) -> None:
    import papermill

    output = tmp_path / "out" / "primer.ipynb"
    output.parent.mkdir()
    with pytest.raises(papermill.PapermillExecutionError, match="n_bins ≥ 1"):
        book.execute_chapter("primer", parameters={"n_bins": 0}, output=output)
    assert list(output.parent.iterdir()) == [], "a failed run left files behind"


@pytest.mark.slow
def test_successful_run_writes_the_executed_notebook(tmp_path: Path) -> None:
    output = tmp_path / "primer.ipynb"
    written = book.execute_chapter(
        "primer", parameters={"n_samples": 2000, "n_bins": 10}, output=output
    )
    assert written == output and sorted(tmp_path.iterdir()) == [output]
    executed = json.loads(output.read_text(encoding="utf-8"))
    injected = [
        cell
        for cell in executed["cells"]
        if "injected-parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    assert len(injected) == 1 and "n_bins = 10" in "".join(injected[0]["source"])


# --------------------------------------------------------------------------------------------
# Chapters side by side (book.execute_chapters)

TINY_CHAPTER = '''# %% [markdown]
# # {title}

# %% tags=["parameters"]
fail = False  # raise in the chapter

# %%
import os
import time

assert not fail, "this chapter was asked to fail"
time.sleep(0.5)
print("threads", os.environ.get("OMP_NUM_THREADS"))
'''


def _tiny_chapters(directory: Path, names: list[str]) -> list[book.Chapter]:
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / f"{name}.py").write_text(TINY_CHAPTER.format(title=name), encoding="utf-8")
    return [book.Chapter(name, name) for name in names]


@pytest.mark.slow
def test_chapters_run_side_by_side_with_their_threads_shared(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(book, "NOTEBOOK_DIR", tmp_path / "notebooks")
    chapters = _tiny_chapters(tmp_path / "notebooks", ["a", "b", "c"])
    out = tmp_path / "executed"
    runs = [(c, {}, out / f"{c.name}.ipynb") for c in chapters]
    took = book.execute_chapters(runs, jobs=2, durations=out / book.DURATIONS_FILE)
    assert sorted(took) == ["a", "b", "c"]
    assert all(run.error is None and run.seconds > 0.4 for run in took.values())
    assert json.loads((out / book.DURATIONS_FILE).read_text()).keys() == {"a", "b", "c"}
    threads = max(1, len(os.sched_getaffinity(0)) // 2)
    for c in chapters:
        text = (out / f"{c.name}.ipynb").read_text(encoding="utf-8")
        assert f"threads {threads}" in text


@pytest.mark.slow
def test_a_failing_chapter_stops_the_build_and_is_named(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(book, "NOTEBOOK_DIR", tmp_path / "notebooks")
    chapters = _tiny_chapters(tmp_path / "notebooks", ["good", "bad"])
    out = tmp_path / "executed"
    runs = [(c, {"fail": c.name == "bad"}, out / f"{c.name}.ipynb") for c in chapters]
    with pytest.raises(RuntimeError, match=r"(?s)Chapter bad .*asked to fail"):
        book.execute_chapters(runs, jobs=2)
    assert not (out / "bad.ipynb").exists()
    took = book.execute_chapters(runs, jobs=2, keep_going=True)
    assert took["good"].error is None and "asked to fail" in took["bad"].error
    assert (out / "good.ipynb").exists() and not (out / "bad.ipynb").exists()


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_jobs_must_be_a_positive_integer(jobs) -> None:
    with pytest.raises(ValueError, match="`jobs`"):
        book.execute_chapters([], jobs=jobs)


def test_default_jobs_reads_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(book.JOBS_ENV, "3")
    assert book.default_jobs() == 3
    monkeypatch.setenv(book.JOBS_ENV, "many")
    with pytest.raises(ValueError, match=book.JOBS_ENV):
        book.default_jobs()
    monkeypatch.delenv(book.JOBS_ENV)
    assert 1 <= book.default_jobs() <= book.MAX_DEFAULT_JOBS
