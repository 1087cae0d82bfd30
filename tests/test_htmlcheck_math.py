"""htmlcheck's maths checks: MathJax from another site is reported; offline MathJax is not."""

from __future__ import annotations

from pathlib import Path

from calstudy import htmlcheck

PAGE = """<html><head><script src="{src}"></script></head>
<body><p><span class="math notranslate nohighlight">\\(x^2\\)</span></p></body></html>"""


def test_static_check_reports_remote_mathjax(tmp_path: Path) -> None:
    (tmp_path / "remote.html").write_text(
        PAGE.format(src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js")
    )
    (tmp_path / "local.html").write_text(PAGE.format(src="_static/mathjax/tex-mml-chtml.js"))
    (tmp_path / "_static" / "mathjax").mkdir(parents=True)
    (tmp_path / "_static" / "mathjax" / "tex-mml-chtml.js").write_text("")
    problems = htmlcheck.check_book_static(tmp_path)
    assert [(p.page, p.kind) for p in problems] == [("remote.html", "math")]
    assert "raw TeX" in problems[0].detail
