"""htmlcheck's reader rules for chapter pages (issue 16), on small hand-written pages.

A chapter page (``book/executed/*.html``) must open with an answer box in the first screen,
show no code but the parameters cell, put every image in a numbered, captioned figure with alt
text, and keep ``NaN``, ``0.0000``, ``-0.0`` and raw dicts out of its tables; the browser also
screenshots it and measures its figures. The same defects on a page that is not a chapter
(intro, reproduce, API) are not reported.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from calstudy import htmlcheck
from calstudy.htmlcheck import Problem

BROWSER_MISSING = htmlcheck.browser_unavailable()
needs_browser = pytest.mark.skipif(BROWSER_MISSING is not None, reason=str(BROWSER_MISSING))

ANSWER = (
    '<div class="tip admonition"><p class="admonition-title">This chapter in one box</p>'
    "<p><strong>Answer.</strong> τ = 0.62 [0.55, 0.69] against the paper's 0.71.</p></div>"
)
PARAMETERS = (
    '<div class="cell tag_parameters docutils container"><div class="cell_input docutils '
    'container"><pre>n_bins = 15</pre></div></div>'
)
FOLDED = (
    '<div class="cell tag_hide-input docutils container"><details class="admonition hide '
    'above-input"><summary><p class="admonition-title">Show code cell source</p></summary>'
    '<div class="cell_input docutils container"><pre>table = analysis.rq1(study)</pre></div>'
    '</details><div class="cell_output docutils container">{output}</div></div>'
)
VISIBLE_CODE = (
    '<div class="cell docutils container"><div class="cell_input docutils container">'
    "<pre>fig, ax = plt.subplots()</pre></div></div>"
)
FIGURE = (
    '<figure class="align-default" id="fig-x"><img alt="{alt}" src="{src}" />'
    '<figcaption><p><span class="caption-number">Fig. 3.1 </span><span class="caption-text">'
    "Kendall τ between the datasets.</span></p></figcaption></figure>"
)
GOOD_ALT = "Scatter plot of ECE on CIFAR-10 against ECE on CIFAR-100; the points rise together."
TABLE = (
    '<table class="dataframe"><thead><tr><th>metric</th><th>ours</th><th>paper</th></tr></thead>'
    "<tbody>{rows}</tbody></table>"
)
GOOD_ROWS = (
    "<tr><th>ECE</th><td>0.62</td><td>—</td></tr><tr><th>p</th><td>&lt; 1e-4</td><td>0.05</td></tr>"
    "<tr><th>Δ</th><td>-0.01</td><td>0.00001</td></tr><tr><th>nanmean</th><td>{x}</td><td>x</td></tr>"
)


def page(*body: str) -> str:
    """A chapter page as jupyter-book lays it out: navigation outside the article."""
    return (
        "<!DOCTYPE html><html><head><title>chapter</title></head><body>"
        '<nav><img src="../../_static/logo.png"></nav><main><article class="bd-article">'
        "<section><h1>3. RQ i</h1>" + "".join(body) + "</section></article></main></body></html>"
    )


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


GOOD = page(
    ANSWER,
    PARAMETERS,
    "<section><h2>3.1 Transfer</h2>",
    FOLDED.format(output=FIGURE.format(alt=GOOD_ALT, src="../../_images/small.png")),
    FOLDED.format(output=TABLE.format(rows=GOOD_ROWS)),
    '<div class="cell tag_hide-input"><details class="hide"><div class="cell_input"><pre>x'
    '</pre></details><div class="output text_plain"><pre>τ = 0.62</pre></div></div>',
    '<div class="admonition dropdown"><p class="admonition-title">Answer</p><p>42</p></div>',
    "</section>",
)


def kinds(html: str) -> list[str]:
    return sorted(kind for kind, _ in htmlcheck.chapter_defects(html))


def details(html: str, kind: str) -> list[str]:
    return [detail for k, detail in htmlcheck.chapter_defects(html) if k == kind]


def test_a_page_following_every_rule_passes() -> None:
    assert htmlcheck.chapter_defects(GOOD) == []


def test_chapter_pages_are_the_executed_notebooks() -> None:
    assert htmlcheck.is_chapter_page("book/executed/rq1_transfer.html")
    assert not htmlcheck.is_chapter_page("book/intro.html")
    assert not htmlcheck.is_chapter_page("book/api.html")
    assert not htmlcheck.is_chapter_page("index.html")


# ---------------------------------------------------------------------------------------------
# Answer box


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(["<p>No box at all.</p>", PARAMETERS], id="none"),
        pytest.param(["<section><h2>3.1 Setup</h2>", ANSWER, "</section>"], id="after-section"),
        pytest.param(
            ['<div class="admonition"><p class="admonition-title">In one box, 3 lines</p>'
             "<p>The answer is computed below.</p></div>"],  # fmt: skip
            id="no-number-in-body",
        ),
        pytest.param(
            ['<div class="admonition dropdown"><p class="admonition-title">Answer</p>'
             "<p>τ = 0.62</p></div>"],  # fmt: skip
            id="folded-dropdown",
        ),
        pytest.param(
            ['<div class="note admonition"><p class="admonition-title">Note</p>'
             "<p>The demo trained 2 seeds.</p></div>"],  # fmt: skip
            id="a-note-with-a-digit",
        ),
    ],
)
def test_answer_box_is_required_before_the_first_section(body: list[str]) -> None:
    html = page(*body)
    assert kinds(html) == ["answer"]
    assert "no answer box before the first section" in details(html, "answer")[0]


# ---------------------------------------------------------------------------------------------
# Code


def test_visible_code_is_reported_but_parameters_and_folded_cells_are_not() -> None:
    html = page(ANSWER, PARAMETERS, FOLDED.format(output=""), VISIBLE_CODE)
    assert details(html, "code") == ["code shown by default: fig, ax = plt.subplots()"]
    injected = VISIBLE_CODE.replace('"cell docutils', '"cell tag_injected-parameters docutils')
    assert htmlcheck.chapter_defects(page(ANSWER, injected)) == []
    assert htmlcheck.chapter_defects(page(ANSWER, VISIBLE_CODE), code=False) == []


# ---------------------------------------------------------------------------------------------
# Figures


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        ('<img alt="" src="../../_images/ab.png">', ["no alt text", "is not in a figure"]),
        (
            '<img alt="../../_images/0123456789abcdef0123.png" src="../../_images/0123456789abcde'
            'f0123.png">',
            ["0123456789ab….png has a file path for alt text", "is not in a figure"],
        ),
        (FIGURE.format(alt="_images/plot.png", src="../../_images/plot.png"), ["file path"]),
        (FIGURE.format(alt="plot.png", src="x.png"), ["file path"]),
        (
            FIGURE.format(alt=GOOD_ALT, src="a.png").replace(
                '<span class="caption-number">Fig. 3.1 </span>', ""
            ),
            ["caption is not numbered"],
        ),
        (
            f'<figure><img alt="{GOOD_ALT}" src="a.png"><figcaption><p> </p></figcaption></figure>',
            ["in a figure without a caption"],
        ),
    ],
)
def test_every_image_needs_a_numbered_caption_and_alt_text(figure: str, expected: list[str]) -> None:
    found = details(page(ANSWER, FOLDED.format(output=figure)), "figure")
    assert len(found) == len(expected), found
    for detail, text in zip(found, expected, strict=True):
        assert text in detail, (detail, text)


def test_images_outside_the_article_are_not_figures() -> None:
    assert htmlcheck.chapter_defects(page(ANSWER)) == []  # the navigation's logo has no caption


# ---------------------------------------------------------------------------------------------
# Tables and text outputs


@pytest.mark.parametrize(
    ("cell", "what"),
    [
        ("NaN", "NaN"),
        ("nan %", "NaN"),
        ("&lt;NA&gt;", "NaN"),
        ("0.0000", "0.0000"),
        ("+0.00000", "0.0000"),
        ("-0.00000", "-0.0"),
        ("-0.0", "-0.0"),
        ("−0.00 %", "-0.0"),
        ("[-0, 1]", "-0.0"),
        ("{'tss': 122, 'sss': 48}", "a raw Python dict"),
        ('{"a": 1}', "a raw Python dict"),
    ],
)
def test_tables_may_not_show_missing_or_rounded_away_values(cell: str, what: str) -> None:
    rows = GOOD_ROWS + f"<tr><th>τ</th><td>{cell}</td><td>{cell}</td></tr>"
    found = details(page(ANSWER, FOLDED.format(output=TABLE.format(rows=rows))), "table")
    assert len(found) == 1, found
    assert found[0].startswith(f"table 1 shows {what}") and "2 cell(s), e.g. " in found[0], found


def test_text_outputs_may_not_show_them_either() -> None:
    output = '<div class="output text_plain highlight-myst-ansi"><pre>{\'a\': nan}</pre></div>'
    found = details(page(ANSWER, FOLDED.format(output=output)), "table")
    assert [d.split(":")[0] for d in found] == [
        "text output shows NaN (write — for a value that was not reported or cannot be "
        "computed)",
        "text output shows a raw Python dict (format it as a table or a sentence)",
    ]


# ---------------------------------------------------------------------------------------------
# Names: a reader meets display names; a column named on purpose is set as code


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("<p>Largest |τ|: pre_ECE_15, τ = 0.4.</p>", ["pre_ECE_15"], id="prose"),
        pytest.param(TABLE.format(rows="<tr><th>n_params</th><td>0.1</td><td>x</td></tr>"),
                     ["n_params"], id="table-label"),  # fmt: skip
        pytest.param("<figcaption>τ with fgsm_Linf_acc0_1 and edge_3_0</figcaption>",
                     ["fgsm_Linf_acc0_1", "edge_3_0"], id="caption"),  # fmt: skip
        pytest.param("<p>Rerun with <code>metric = 'post_ECE_15'</code>.</p>", [], id="code"),
        pytest.param("<p>15-bin ECE before scaling; pre-scaling ECE; n_bins = 15; pre_x</p>", [],
                     id="display-names-and-words"),  # fmt: skip
    ],
)
def test_raw_column_names_are_reported_outside_code(body: str, expected: list[str]) -> None:
    found = details(page(ANSWER, body), "names")
    if not expected:
        assert found == []
        return
    assert len(found) == 1 and found[0].startswith(f"raw column names in the text: {len(expected)}")
    assert all(name in found[0] for name in expected), found


def test_raw_names_in_folded_code_do_not_count() -> None:
    assert details(page(ANSWER, FOLDED.format(output="<p>τ = 0.1</p>").replace(
        "analysis.rq1(study)", "study['pre_ECE_15']")), "names") == []  # fmt: skip


# ---------------------------------------------------------------------------------------------
# In a book: chapter pages only, statically and in the browser


def write_book(root: Path, chapters: dict[str, str], others: dict[str, str]) -> Path:
    (root / "_images").mkdir(parents=True)
    (root / "_images" / "small.png").write_bytes(png(600, 300))
    (root / "_images" / "wide.png").write_bytes(png(2400, 600))
    (root / "_static").mkdir()
    (root / "_static" / "logo.png").write_bytes(png(40, 40))
    (root / "book" / "executed").mkdir(parents=True)
    for name, html in chapters.items():
        (root / "book" / "executed" / name).write_text(html, encoding="utf-8")
    for name, html in others.items():
        (root / name).write_text(html, encoding="utf-8")
    return root


BAD = page("<p>Intro.</p>", VISIBLE_CODE, TABLE.format(rows="<tr><td>NaN</td></tr>"))


def test_static_check_applies_the_rules_to_chapter_pages_only(tmp_path: Path) -> None:
    root = write_book(tmp_path, {"good.html": GOOD, "bad.html": BAD}, {"intro.html": BAD})
    problems = htmlcheck.check_book_static(root)
    assert {p.page for p in problems} == {"book/executed/bad.html"}
    assert sorted(p.kind for p in problems) == ["answer", "code", "table"]


def test_cli_names_the_chapter_pages_and_their_verdicts(tmp_path: Path, capsys) -> None:
    root = write_book(tmp_path, {"good.html": GOOD, "bad.html": BAD}, {"intro.html": BAD})
    assert htmlcheck.main([str(root), "--static"]) == 1
    err = capsys.readouterr().err
    assert "chapter book/executed/good.html: passes" in err
    assert "chapter book/executed/bad.html: 3 problem(s)" in err
    assert "intro.html" not in err


RAW_NAMES = page(ANSWER, "<p>Transfers: pre_ECE_15 and fgsm_Linf_acc0_1.</p>")


@pytest.mark.parametrize("static", [True, pytest.param(False, marks=needs_browser)])
def test_the_dataset_chapter_may_name_columns_and_no_other(tmp_path: Path, static: bool) -> None:
    root = write_book(tmp_path, {"rq1.html": RAW_NAMES, "dataset.html": RAW_NAMES}, {})
    found = htmlcheck.check_book_static(root) if static else htmlcheck.check_book(root)
    assert [(p.page, p.kind) for p in found] == [("book/executed/rq1.html", "names")], found
    assert htmlcheck.SCHEMA_PAGE == "book/executed/dataset.html"


# Pass statically, fail in the browser: an answer box pushed below the first screen, code in a
# <details> opened by default, and a figure shrunk 4× into a 600 px column.
LATE_ANSWER = page('<div style="height: 1200px">A long preamble.</div>', ANSWER)
OPEN_CODE = page(ANSWER, FOLDED.format(output="").replace("<details ", "<details open "))
WIDE = page(
    "<style>article { width: 600px; } figure { margin: 0; } img { max-width: 100%; }</style>",
    ANSWER,
    FOLDED.format(output=FIGURE.format(alt=GOOD_ALT, src="../../_images/wide.png")),
    FOLDED.format(output=FIGURE.format(alt=GOOD_ALT, src="../../_images/small.png")),
)


@needs_browser
def test_browser_measures_what_the_html_cannot_say(tmp_path: Path) -> None:
    chapters = {"good.html": GOOD, "late.html": LATE_ANSWER, "open.html": OPEN_CODE,
                "wide.html": WIDE}  # fmt: skip
    root = write_book(tmp_path / "html", chapters, {"intro.html": LATE_ANSWER})
    assert all(htmlcheck.chapter_defects(html) == [] for html in chapters.values())
    shots = tmp_path / "shots"
    result = htmlcheck.inspect_book(root, screenshots=shots)
    problems = {(p.page.rsplit("/", 1)[-1], p.kind): p.detail for p in result.problems}
    assert set(problems) == {("late.html", "answer"), ("open.html", "code"),
                             ("wide.html", "legibility")}, result.problems  # fmt: skip
    assert "below the first screen (1280×900 px)" in problems[("late.html", "answer")]
    assert problems[("open.html", "code")] == "code shown by default: table = analysis.rq1(study)"
    assert "shrunk 4.0×" in problems[("wide.html", "legibility")]
    assert result.chapter_verdicts() == {
        "book/executed/good.html": 0,
        "book/executed/late.html": 1,
        "book/executed/open.html": 1,
        "book/executed/wide.html": 1,
    }
    assert [shot.name for shot in result.screenshots] == [
        "good.png", "late.png", "open.png", "wide.png"
    ]  # fmt: skip
    with Image.open(shots / "late.png") as image:
        assert image.width == htmlcheck.VIEWPORT["width"] and image.height > 1200  # full page
    wide, *rest = [f for f in result.figures if f.page == "book/executed/wide.html"]
    assert (wide.natural_width, wide.natural_height) == (2400, 600)
    assert wide.width == pytest.approx(600) and wide.height == pytest.approx(150)
    assert wide.downscale == pytest.approx(4.0) and result.figures[0] == wide  # largest first
    assert [(f.natural_width, f.width) for f in rest] == [(600, pytest.approx(600))]


@needs_browser
def test_check_book_returns_the_problems_and_cli_lists_the_largest_figures(
    tmp_path: Path, capsys
) -> None:
    root = write_book(tmp_path / "html", {"wide.html": WIDE}, {})
    problems = htmlcheck.check_book(root)
    assert [(p.page, p.kind) for p in problems] == [("book/executed/wide.html", "legibility")]
    assert isinstance(problems[0], Problem)
    assert htmlcheck.main([str(root)]) == 1
    err = capsys.readouterr().err
    assert "largest figures" in err and "600×150 CSS px (natural 2400×600 px, shrunk 4.00×)" in err
    assert (tmp_path / "screenshots" / "wide.png").is_file()  # default: beside the HTML folder

