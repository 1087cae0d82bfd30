"""The primer as a lecture (issue 16, part 5): the plots behind its pictures, and the chapter.

The first part tests each compute/draw pair the primer uses against the estimator it pictures
(the picture's numbers add up to :mod:`calstudy.metrics`' value) and the interactive reliability
diagram, in a browser where one is installed. The second executes the chapter with small
parameters and checks what the rendered page needs: the answer box, exercises with folded
answers, a caption and alt text on every figure, the interactive figure, no errors, and a
bounded page weight.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats

from calstudy import book, catalogue, estimator_figures, htmlcheck, metrics, plots

matplotlib.use("Agg")

BROWSER_MISSING = htmlcheck.browser_unavailable()
needs_browser = pytest.mark.skipif(BROWSER_MISSING is not None, reason=str(BROWSER_MISSING))

# Total size of the executed primer's outputs (JSON of every code cell's outputs) before the
# lecture, at commit 661cba2 with n_samples=2000, n_sim=20; the lecture may add at most 5 MB.
BASELINE_OUTPUT_BYTES = 262_449
MAX_ADDED_BYTES = 5_000_000


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _example(n: int = 600, k: int = 5, gamma: float = 2.0, seed: int = 0):
    """Logits z, labels drawn from softmax(z), the true probabilities and softmax(γ z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.0, size=(n, k))
    true = metrics.to_probs(z)
    labels = (true.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1).clip(max=k - 1)
    return z, labels, true, metrics.to_probs(gamma * z)


# ---------------------------------------------------------------------------------------------
# Names and the reliability diagram's legend
# ---------------------------------------------------------------------------------------------


def test_estimator_label_uses_the_catalogue_display_names() -> None:
    assert plots.estimator_label("ECE_15") == "ECE, 15 bins"
    assert plots.estimator_label("cwCE_em_5") == "equal-mass classwise ECE, 5 bins"
    assert plots.estimator_label("Brier") == "Brier score"
    with pytest.raises(ValueError, match="Expected `name` to be a catalogue metric"):
        plots.estimator_label("ECE15")


def test_reliability_legend_names_the_histogram() -> None:
    _, labels, _, probs = _example()
    ax = plots.plot_reliability(plots.reliability_data(probs, labels))
    texts = [t.get_text() for a in ax.figure.axes if a.get_legend() for t in a.get_legend().texts]
    assert texts == ["Accuracy", "Gap", "Share of samples per bin", "Perfect calibration"]
    without = plots.plot_reliability(plots.reliability_data(probs, labels), show_counts=False)
    assert [t.get_text() for t in without.get_legend().texts] == [
        "Accuracy",
        "Gap",
        "Perfect calibration",
    ]


# ---------------------------------------------------------------------------------------------
# ECE and MCE: bin gaps
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [1, 5, 15, 100])
@pytest.mark.parametrize("strategy", ["width", "mass"])
def test_bin_gaps_add_up_to_the_ece_and_peak_at_the_mce(n_bins: int, strategy: str) -> None:
    _, labels, _, probs = _example()
    gaps = estimator_figures.bin_gaps(plots.reliability_data(probs, labels, n_bins=n_bins, strategy=strategy))
    ece = (metrics.ece if strategy == "width" else metrics.ece_em)(probs, labels, n_bins=n_bins)
    assert gaps["contribution"].sum() == pytest.approx(ece, abs=1e-12)
    assert gaps["weight"].sum() == pytest.approx(1.0)
    if strategy == "width":
        assert gaps["gap"].abs().max() == pytest.approx(metrics.mce(probs, labels, n_bins=n_bins))


def test_bin_gaps_refuses_other_inputs() -> None:
    with pytest.raises(ValueError, match="Expected `data` to be a ReliabilityData"):
        estimator_figures.bin_gaps({"counts": [1]})


@pytest.mark.parametrize("quantity", ["gap", "contribution"])
def test_plot_bin_gaps_colours_by_sign_and_writes_the_estimate(quantity: str) -> None:
    _, labels, true, _ = _example()
    gaps = estimator_figures.bin_gaps(plots.reliability_data(true, labels, n_bins=10))
    ax = estimator_figures.plot_bin_gaps(gaps, quantity=quantity)
    bars = [p for c in ax.containers for p in c.patches]
    assert len(bars) >= len(gaps)  # one per bin (plus the outline of the MCE's bin)
    words = " ".join(
        t.get_text() for t in [*ax.texts, *ax.get_children()] if hasattr(t, "get_text")
    )
    expected = "MCE = " if quantity == "gap" else "ECE = sum of the bars"
    assert expected in words
    with pytest.raises(ValueError, match="Expected `quantity`"):
        estimator_figures.plot_bin_gaps(gaps, quantity="max")


# ---------------------------------------------------------------------------------------------
# Classwise ECE
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_bins", [3, 15])
@pytest.mark.parametrize("strategy", ["width", "mass"])
def test_classwise_reliability_gives_the_classwise_ece(n_bins: int, strategy: str) -> None:
    _, labels, _, probs = _example(k=4)
    table = estimator_figures.classwise_reliability(probs, labels, n_bins=n_bins, strategy=strategy)
    reference = (metrics.cw_ece if strategy == "width" else metrics.cw_ece_em)(
        probs, labels, n_bins=n_bins
    )
    assert table["contribution"].sum() / 4 == pytest.approx(reference, abs=1e-12)
    assert table.attrs["n_classes"] == 4
    assert (table.groupby("class")["count"].sum() == len(labels)).all()  # every sample, every class


def test_classwise_reliability_checks_its_inputs() -> None:
    with pytest.raises(ValueError, match="Expected `strategy`"):
        estimator_figures.classwise_reliability([[0.5, 0.5]], [0], strategy="quantile")
    with pytest.raises(ValueError, match="Expected `probs`"):
        estimator_figures.classwise_reliability([[0.5, 0.6]], [0])


def test_plot_classwise_reliability_draws_one_curve_per_class() -> None:
    _, labels, _, probs = _example(k=4)
    ax = estimator_figures.plot_classwise_reliability(estimator_figures.classwise_reliability(probs, labels), title="cw")
    assert len(ax.lines) == 4 + 1  # the classes and the diagonal
    assert any("classwise ECE = " in t.get_text() for t in ax.texts)


# ---------------------------------------------------------------------------------------------
# KSCE
# ---------------------------------------------------------------------------------------------


def test_ks_curve_peaks_at_the_ksce_with_ties() -> None:
    _, labels, _, probs = _example()
    ties = np.repeat(probs[:50], 3, axis=0), np.repeat(labels[:50], 3)  # runs of equal confidence
    for p, y in ((probs, labels), ties):
        table = estimator_figures.ks_curve(p, y)
        assert table["gap"].abs().max() == pytest.approx(metrics.ksce(p, y), abs=1e-12)
        assert table["share"].iloc[-1] == 1.0 and table["conf"].is_monotonic_increasing
    assert len(estimator_figures.ks_curve(*ties)) == 50


def test_plot_ks_curve_draws_both_cumulative_curves() -> None:
    _, labels, _, probs = _example()
    ax = estimator_figures.plot_ks_curve(estimator_figures.ks_curve(probs, labels))
    assert len(ax.lines) == 2
    assert any(t.get_text().startswith("KSCE = ") for t in ax.texts)


# ---------------------------------------------------------------------------------------------
# KDECE
# ---------------------------------------------------------------------------------------------


def test_kernel_reliability_matches_a_scipy_beta_kernel() -> None:
    _, labels, _, probs = _example(n=200)
    h = 0.05
    table = estimator_figures.kernel_reliability(probs, labels, bandwidth=h, grid=7)
    conf, correct = metrics.to_confidences(probs, labels)
    weights = stats.beta.pdf(table["t"].to_numpy()[:, None], conf / h + 1, (1 - conf) / h + 1)
    np.testing.assert_allclose(table["accuracy"], weights @ correct / weights.sum(axis=1))
    np.testing.assert_allclose(table["density"], weights.mean(axis=1), rtol=1e-9)
    assert table.attrs["bandwidth"] == h


def test_kernel_reliability_default_bandwidth_is_kdece_rule() -> None:
    _, labels, _, probs = _example(n=300)
    conf = np.clip(metrics.to_confidences(probs, labels)[0], 1e-10, 1 - 1e-10)
    table = estimator_figures.kernel_reliability(probs, labels, grid=5)
    assert table.attrs["bandwidth"] == metrics.kde_bandwidth(conf)
    with pytest.raises(ValueError, match="Expected `grid`"):
        estimator_figures.kernel_reliability(probs, labels, grid=1)
    with pytest.raises(ValueError, match="Expected `bandwidth`"):
        estimator_figures.kernel_reliability(probs, labels, bandwidth=0)


def test_plot_kernel_reliability_writes_the_kdece() -> None:
    _, labels, _, probs = _example(n=300)
    ax = estimator_figures.plot_kernel_reliability(estimator_figures.kernel_reliability(probs, labels), value=0.123)
    assert any("KDECE = 12.30 %" in t.get_text() for t in ax.texts)


# ---------------------------------------------------------------------------------------------
# smECE and MMCE
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_smooth_residual_area_is_the_smooth_ece(gamma: float) -> None:
    _, labels, _, probs = _example(gamma=gamma)
    curve = estimator_figures.smooth_residual(probs, labels, grid=4001)
    sigma = curve.attrs["sigma"]
    t, g = curve["t"].to_numpy(), curve["residual"].to_numpy()
    area = float(np.sum((np.abs(g[1:]) + np.abs(g[:-1])) * np.diff(t)) / 2)
    assert area == pytest.approx(metrics.smooth_ece(probs, labels, sigma=sigma), abs=2e-4)
    assert sigma == pytest.approx(max(metrics.smooth_ece(probs, labels), 1e-3))
    conf, correct = metrics.to_confidences(probs, labels)
    mass = float(np.sum((g[1:] + g[:-1]) * np.diff(t)) / 2)  # the kernel keeps unit mass
    assert mass == pytest.approx(float(np.mean(conf - correct)), abs=2e-4)


def test_mmce_witness_gives_the_mmce() -> None:
    _, labels, _, probs = _example()
    conf, correct = metrics.to_confidences(probs, labels)
    witness = estimator_figures.mmce_witness(probs, labels, grid=conf)
    value = np.sqrt(max(0.0, float(np.mean((conf - correct) * witness["residual"]))))
    assert value == pytest.approx(metrics.mmce(probs, labels), rel=1e-9)
    assert estimator_figures.mmce_witness(probs, labels, grid=11)["t"].tolist() == pytest.approx(
        np.linspace(0, 1, 11).tolist()
    )
    with pytest.raises(ValueError, match="Expected `bandwidth`"):
        estimator_figures.mmce_witness(probs, labels, bandwidth=-1.0)
    with pytest.raises(ValueError, match="Expected `grid`"):
        estimator_figures.mmce_witness(probs, labels, grid=[[0.1]])


def test_plot_residual_curve_shades_each_sign() -> None:
    _, labels, true, probs = _example()
    over = estimator_figures.plot_residual_curve(estimator_figures.mmce_witness(probs, labels), value="MMCE = 1 %")
    assert [t.get_text() for t in over.get_legend().texts] == ["smoothed residual",
                                                               "overconfident (c > a)"]  # fmt: skip
    both = estimator_figures.plot_residual_curve(estimator_figures.smooth_residual(true, labels), label="g(t)")
    assert len(both.get_legend().texts) == 3


# ---------------------------------------------------------------------------------------------
# Finite-sample bias, temperature, bin count
# ---------------------------------------------------------------------------------------------


def test_bias_by_size_is_reproducible_and_shrinks_with_size() -> None:
    _, _, true, _ = _example(n=2000)
    estimators = {"ECE": catalogue.CATALOGUE["ECE_15"], "dL2": catalogue.CATALOGUE["dL2ECE_15"]}
    table = estimator_figures.bias_by_size(true, true, estimators, sizes=[100, 2000], n_sim=30, seed=1)
    assert table.equals(estimator_figures.bias_by_size(true, true, estimators, sizes=[100, 2000], n_sim=30,
                                           seed=1))  # fmt: skip
    ece = table[table["estimator"] == "ECE"].set_index("size")
    assert ece.loc[100, "mean"] > ece.loc[2000, "mean"] > 0  # a calibrated model's bias shrinks
    assert (table["low"] <= table["mean"]).all() and (table["mean"] <= table["high"]).all()


def test_bias_by_size_checks_its_inputs() -> None:
    _, _, true, probs = _example(n=100)
    ece = {"ECE": catalogue.CATALOGUE["ECE_15"]}
    with pytest.raises(ValueError, match="Expected `sizes`"):
        estimator_figures.bias_by_size(probs, true, ece, sizes=[101])
    with pytest.raises(ValueError, match="Expected `true_probs` to have shape"):
        estimator_figures.bias_by_size(probs, true[:50], ece, sizes=[10])
    with pytest.raises(ValueError, match="Expected `estimators`"):
        estimator_figures.bias_by_size(probs, true, {}, sizes=[10])
    with pytest.raises(ValueError, match="Expected `n_sim`"):
        estimator_figures.bias_by_size(probs, true, ece, sizes=[10], n_sim=0)


def test_plot_bias_by_size_in_percent() -> None:
    _, _, true, _ = _example(n=500)
    table = estimator_figures.bias_by_size(true, true, {"ECE": catalogue.CATALOGUE["ECE_15"]}, sizes=[100, 500],
                               n_sim=5)  # fmt: skip
    ax = estimator_figures.plot_bias_by_size(table, percent=True)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), 100 * table["mean"])
    assert ax.get_ylabel().endswith("(%)")


def test_temperature_sweep_divides_the_logits() -> None:
    z, labels, _, _ = _example()
    table = estimator_figures.temperature_sweep(z, labels, {"NLL": metrics.nll}, temperatures=[0.5, 2.0])
    expected = [metrics.nll(metrics.to_probs(z / t), labels) for t in (0.5, 2.0)]
    assert table["value"].tolist() == pytest.approx(expected)
    with pytest.raises(ValueError, match="Expected `temperatures`"):
        estimator_figures.temperature_sweep(z, labels, {"NLL": metrics.nll}, temperatures=[0.0])
    with pytest.raises(ValueError, match="Expected `estimators`"):
        estimator_figures.temperature_sweep(z, labels, {"NLL": 3}, temperatures=[1.0])


def test_plot_temperature_sweep_marks_the_minimum_and_the_truth() -> None:
    z, labels, _, _ = _example()
    table = estimator_figures.temperature_sweep(2 * z, labels, {"NLL": metrics.nll},
                                    temperatures=np.linspace(1, 3, 21))  # fmt: skip
    ax = estimator_figures.plot_temperature_sweep(table, "NLL", truth=2.0)
    texts = [t.get_text() for t in ax.get_legend().texts]
    assert texts[0].startswith("minimum at T = ") and texts[1] == "true γ = 2"
    with pytest.raises(ValueError, match="Expected `estimator`"):
        estimator_figures.plot_temperature_sweep(table, "ECE")


def test_plot_binned_errors_puts_chosen_families_on_one_axis() -> None:
    _, labels, true, _ = _example()
    errors = metrics.binned_errors(true, labels, bin_counts=(5, 15, 50))
    ax = estimator_figures.plot_binned_errors(errors, families=["ECE", "ECE_em"], percent=True)
    assert [t.get_text() for t in ax.get_legend().texts] == ["ECE", "equal-mass ECE"]
    np.testing.assert_allclose(
        ax.lines[0].get_ydata(), [100 * errors["ECE"][n] for n in (5, 15, 50)]
    )
    mce = estimator_figures.plot_binned_errors(errors, families=["MCE"])
    assert len(mce.lines) == 1 and mce.get_ylabel() == "Estimate"
    with pytest.raises(ValueError, match="Expected `families`"):
        estimator_figures.plot_binned_errors(errors, families=["KSCE"])


# ---------------------------------------------------------------------------------------------
# The interactive reliability diagram
# ---------------------------------------------------------------------------------------------

N_BINS, GAMMAS = [5, 15, 50], [0.5, 1.0, 2.0]


@pytest.fixture(scope="module")
def widget() -> tuple[dict, str]:
    z, labels, _, _ = _example(n=1000)
    grid = estimator_figures.reliability_grid(z, labels, n_bins=N_BINS, scales=GAMMAS)
    return grid, estimator_figures.reliability_widget_html(grid, n_bins=15, scale=2.0)


def _payload(html: str) -> dict:
    match = re.search(r'<script type="application/json">(.*?)</script>', html, re.S)
    assert match is not None
    return json.loads(match.group(1).replace("<\\/", "</"))


def test_widget_embeds_every_diagram_of_the_grid(widget: tuple[dict, str]) -> None:
    grid, html = widget
    data = _payload(html)
    assert data["n_bins"] == N_BINS and data["gammas"] == ["0.5", "1", "2"]
    assert len(data["frames"]) == len(N_BINS) * len(GAMMAS)
    for (gamma, n), diagram in grid.items():
        frame = data["frames"][f"{gamma:g}|{n}"]
        assert frame["ece"] == pytest.approx(diagram.ece, abs=1e-6)
        assert len(frame["acc"]) == len(frame["share"]) == n
        assert [a is None for a in frame["acc"]] == (diagram.counts == 0).tolist()
    accuracies = {frame["accuracy"] for frame in data["frames"].values()}
    assert len(accuracies) == 1  # scaling the logits never changes the predicted class


def test_widget_is_self_contained(widget: tuple[dict, str]) -> None:
    _, html = widget
    assert html.count("<script") == 2 and html.count('type="range"') == 2
    assert 'value="1"' in html and 'value="2"' in html  # starts at 15 bins (index 1), γ = 2 (2)
    assert not re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', html)  # nothing off the page
    assert "aria-label" in html and 'aria-live="polite"' in html
    assert len(html.encode()) < 100_000
    z, labels, _, _ = _example(n=1000)
    again = estimator_figures.reliability_grid(z, labels, n_bins=N_BINS, scales=GAMMAS)
    assert estimator_figures.reliability_widget_html(again, n_bins=15, scale=2.0) == html  # reproducible id


def test_widget_checks_its_grid(widget: tuple[dict, str]) -> None:
    grid, _ = widget
    partial = {key: value for key, value in grid.items() if key != (2.0, 50)}
    with pytest.raises(ValueError, match="Expected `grid` to cover every"):
        estimator_figures.reliability_widget_html(partial)
    with pytest.raises(ValueError, match="Expected `n_bins` to be one of"):
        estimator_figures.reliability_widget_html(grid, n_bins=7)
    with pytest.raises(ValueError, match="Expected `grid` to hold"):
        estimator_figures.reliability_widget_html({})
    with pytest.raises(ValueError, match="Expected `scales`"):
        estimator_figures.reliability_grid([[0.0, 1.0]], [0], n_bins=[5], scales=[-1.0])


@needs_browser
def test_widget_sliders_redraw_the_diagram_offline(
    widget: tuple[dict, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    grid, html = widget
    page_file = tmp_path / "widget.html"
    page_file.write_text(f"<!doctype html><meta charset='utf-8'><body>{html}</body>", "utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=htmlcheck.DEFAULT_BROWSER,
                                     args=list(htmlcheck.CHROMIUM_ARGS))  # fmt: skip
        page = browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else (problems.append(route.request.url), route.abort()))  # fmt: skip
        page.goto(page_file.as_uri())
        for bins_index, gamma_index in ((1, 2), (2, 0), (0, 1)):
            page.locator("input[name=n_bins]").fill(str(bins_index))
            page.locator("input[name=gamma]").fill(str(gamma_index))
            diagram = grid[(GAMMAS[gamma_index], N_BINS[bins_index])]
            assert page.text_content("text.ece") == f"ECE = {100 * diagram.ece:.2f} %"
            assert page.locator("rect.acc").count() == int((diagram.counts > 0).sum())
            assert page.locator("rect.share").count() == N_BINS[bins_index]
            verdict = "underconfident" if GAMMAS[gamma_index] < 1 else "overconfident"
            summary = page.inner_text("p.summary")
            assert verdict in summary or GAMMAS[gamma_index] == 1.0, summary
        browser.close()
    assert problems == []


# ---------------------------------------------------------------------------------------------
# The chapter, executed with small parameters
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def primer(tmp_path_factory: pytest.TempPathFactory) -> dict:
    output = tmp_path_factory.mktemp("primer") / "primer.ipynb"
    book.execute_chapter("primer", parameters={"n_samples": 2000, "n_sim": 20}, output=output)
    return json.loads(output.read_text(encoding="utf-8"))


def _code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _markdown_outputs(cell: dict) -> list[str]:
    return ["".join(o["data"]["text/markdown"]) for o in cell.get("outputs", [])
            if "text/markdown" in o.get("data", {})]  # fmt: skip


@pytest.mark.slow
def test_primer_runs_without_errors(primer: dict) -> None:
    errors = [o for c in _code_cells(primer) for o in c.get("outputs", [])
              if o["output_type"] == "error"]  # fmt: skip
    assert errors == []
    streams = "".join("".join(o.get("text", "")) for c in _code_cells(primer)
                      for o in c.get("outputs", []) if o["output_type"] == "stream")  # fmt: skip
    assert "Traceback" not in streams


@pytest.mark.slow
def test_primer_opens_with_its_answer_box(primer: dict) -> None:
    title = "".join(primer["cells"][0]["source"])
    assert title.startswith("# A calibration primer")
    head = title.split("\n\n", 1)[1].split("\n:::\n", 1)[0]  # the box, right under the title
    assert head.startswith(":::{admonition}") and ":class: tip" in head
    assert "```{glue:md} primer-answer\n:format: myst\n```" in head
    assert "**You will be able to**" in head
    glued = [o for c in _code_cells(primer) for o in c.get("outputs", [])
             if o.get("metadata", {}).get("scrapbook", {}).get("name") == "primer-answer"]  # fmt: skip
    assert len(glued) == 1
    text = glued[0]["data"]["application/papermill.record/text/markdown"]
    assert text.startswith("**Take-away.**")
    assert re.search(r"ECE with 15 bins is \d+\.\d\d %", text)  # a number from this run


@pytest.mark.slow
def test_primer_has_exercises_with_computed_dropdown_answers(primer: dict) -> None:
    cells = primer["cells"]
    exercises = [i for i, c in enumerate(cells)
                 if c["cell_type"] == "markdown" and "### Exercise" in "".join(c["source"])]  # fmt: skip
    assert len(exercises) >= 5
    for i in exercises:
        answer_cell = cells[i + 1]
        answers = _markdown_outputs(answer_cell)
        assert answer_cell["cell_type"] == "code" and len(answers) == 1, i
        assert answers[0].startswith(":::{admonition} Answer\n:class: dropdown"), answers[0][:80]
        assert re.search(r"\d", answers[0]), "an answer states numbers from the run"
        assert answer_cell["metadata"]["mystnb"]["markdown_format"] == "myst"
        check = cells[i + 2]
        assert check["cell_type"] == "code" and book.is_check_cell("".join(check["source"]))
        assert "remove-cell" in check["metadata"]["tags"]  # the build leaves the asserts out


@pytest.mark.slow
def test_primer_captions_every_figure(primer: dict) -> None:
    figures = 0
    for cell in _code_cells(primer):
        images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        widgets = [o for o in cell.get("outputs", [])
                   if "calstudy-reliability-widget" in "".join(o.get("data", {}).get("text/html", ""))]  # fmt: skip
        if not images and not widgets:
            continue
        figures += 1
        options = cell["metadata"].get("mystnb", {})
        assert len(images) + len(widgets) == 1, "one figure per cell, so the caption is its own"
        assert options["figure"]["caption"].strip() and options["figure"]["name"].startswith(
            "fig-primer-"
        )
        if images:
            assert len(options["image"]["alt"]) > 40, options["image"]
        displays = [
            o for o in cell["outputs"] if o["output_type"] in ("display_data", "execute_result")
        ]
        assert len(displays) == 1, "a caption wraps every display output of its cell"
    assert figures >= 13  # a picture per estimator family, the diagrams, bins and scaling


@pytest.mark.slow
def test_primer_shows_the_interactive_diagram(primer: dict) -> None:
    htmls = ["".join(o["data"]["text/html"]) for c in _code_cells(primer)
             for o in c.get("outputs", []) if "text/html" in o.get("data", {})]  # fmt: skip
    widgets = [h for h in htmls if "calstudy-reliability-widget" in h]
    assert len(widgets) == 1
    data = _payload(widgets[0])
    assert 15 in data["n_bins"] and "2" in data["gammas"] and "0.5" in data["gammas"]
    assert "<script>" in widgets[0] and widgets[0].count('type="range"') == 2
    assert not any(re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', h) for h in htmls)


@pytest.mark.slow
def test_primer_page_weight_stays_bounded(primer: dict) -> None:
    total = sum(len(json.dumps(c.get("outputs", []))) for c in _code_cells(primer))
    assert total <= BASELINE_OUTPUT_BYTES + MAX_ADDED_BYTES, total


@pytest.mark.slow
def test_primer_formulas_name_the_book_estimators(primer: dict) -> None:
    text = "\n".join("".join(c["source"]) for c in primer["cells"] if c["cell_type"] == "markdown")
    sections = ["### ECE", "### Equal-mass ECE", "### Classwise ECE", "### MCE", "### KSCE",
                "### KDECE", "### MMCE", "### Smooth ECE", "### Debiased L2 ECE",
                "### NLL and the Brier score"]  # fmt: skip
    for heading in sections:
        assert heading in text, heading
        body = text.split(heading, 1)[1].split("###", 1)[0]
        assert "$$" in body and "{cite}" in body and "**Intuition:**" in body, heading
