"""calstudy.report: the book's number formatting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import report


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.0499, "0.05"), (0.01234, "0.012"), (1e-4, "0.0001"), (9.9e-5, "< 1e-4"), (0.0, "< 1e-4"),
     (1.0, "1"), (np.nan, "—"), (None, "—")],
)
def test_pvalue(p, text) -> None:
    assert report.pvalue(p) == text


def test_no_negative_zero_and_no_nan() -> None:
    assert report.fixed(-0.001) == "+0.00"
    assert report.fixed(-0.001, signed=False) == "0.00"
    assert report.ci(-0.004, -0.2, 0.19) == "+0.00 [-0.20, +0.19]"
    assert report.num(-1e-12) == "0"
    assert report.ci(np.nan, 0, 1) == "—"
    assert report.ci(0.5, np.nan, 1) == "+0.50"


def test_tau_reads_results_rows_and_mappings() -> None:
    row = pd.Series({"tau": -0.231, "low": -0.3, "high": -0.15, "n": 15625})
    assert report.tau(row) == "τ = -0.23 [-0.30, -0.15], n = 15,625"

    class Result:
        tau, low, high, n = 0.1, 0.0, 0.2, 3

    assert report.tau(Result()) == "τ = +0.10 [+0.00, +0.20], n = 3"


def test_words() -> None:
    assert report.join([]) == "none"
    assert report.join(["a"]) == "a"
    assert report.join(["a", "b", "c"], last="or") == "a, b or c"
    assert report.plural(1, "edge") == "1 edge" and report.plural(0, "edge") == "0 edges"
    assert report.pct(0.0412) == "4.1 %"


def test_format_table() -> None:
    table = pd.DataFrame(
        {"edge": ["a", None], "coef": [0.123456, np.nan], "p": [1e-9, 0.2], "p_holm": [0.3, 1.0],
         "ece": [0.041, 0.05]}
    )
    out = report.format_table(table, percent=["ece"], decimals={"coef": 2})
    assert out.to_dict("list") == {
        "edge": ["a", "—"],
        "coef": ["0.12", "—"],
        "p": ["< 1e-4", "0.2"],
        "p_holm": ["0.3", "1"],
        "ece": ["4.1 %", "5.0 %"],
    }


def test_format_table_shows_column_names_as_display_names() -> None:
    table = pd.DataFrame({"metric": ["pre_ECE_15", "ECE_em", "TSS"], "pre_NLL": [1.0, 2.0, 3.0]},
                         index=pd.Index(["n_params", "c1", "x"], name="term"))  # fmt: skip
    out = report.format_table(table)
    assert out["metric"].tolist() == ["ECE, 15 bins, before scaling", "ECE_em", "TSS"]
    assert list(out.columns) == ["metric", "NLL, before scaling"]
    assert out.index.tolist() == ["parameters", "width of stage 2", "x"] and out.index.name == "term"
    cis = pd.DataFrame({"m": ["post_ECE_15"], "tau": [0.5], "low": [0.4], "high": [0.6]})
    assert report.ci_table(cis, index="m").index.tolist() == ["ECE, 15 bins, after scaling"]


def test_md_joins_paragraphs() -> None:
    assert report.md("a", "", "- b\n- c").data == "a\n\n- b\n- c"


def test_glue_md_hands_markdown_to_myst_nb() -> None:
    pytest.importorskip("myst_nb")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    with shell.builtin_trap:  # glue publishes display data through IPython
        captured = []
        shell.display_pub.publish = lambda data, metadata=None, **kw: captured.append(
            (data, metadata)
        )
        report.glue_md("rq-answer", report.answer("Q?", "No: τ = +0.10."))
    data, metadata = captured[0]
    markdown = next(v for k, v in data.items() if k.endswith("text/markdown"))
    assert markdown.startswith("**Question.** Q?")
    assert metadata["scrapbook"]["name"] == "rq-answer"
