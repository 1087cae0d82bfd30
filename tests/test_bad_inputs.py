"""Issue 13: every bad input gets a clear error (or, for a small sample, a warning) before any
work — chapter parameters, load_study's options, reliability diagrams and the held-out split of
evaluate_network. The metric and calibration cases live in test_metrics.py, test_calibrate.py
and test_catalogue.py."""

from __future__ import annotations

import numpy as np
import pytest

from calstudy import book, chapter, plots
from calstudy.cli import main

PRIMER = book.NOTEBOOK_DIR / "primer.py"
CHAPTERS = [c.name for c in book.chapters()]


def source(name: str):
    return book.NOTEBOOK_DIR / f"{name}.py"


# --------------------------------------------------------------------------------------------
# Chapter parameters: every notebook's parameters cell, and the type of each value
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_parameters_cell_parses_and_accepts_its_own_defaults(name: str) -> None:
    defaults = book.notebook_parameters(source(name))
    assert defaults, f"{name} declares no parameters"
    # Every default is a literal, so the type of a value given for it can be checked.
    cell = book._parameter_cell(source(name))
    assert [p for p, spec in cell.items() if not spec.literal] == []
    book.check_parameters(source(name), defaults)  # the defaults are valid, injectable values


@pytest.mark.parametrize(
    ("parameters", "match"),
    [
        ({"n_bins": "abc"}, r"Expected parameter `n_bins` to be an int \(its default is 15\), got 'abc' \(str\)\."),
        ({"n_bins": {1, 2}}, r"Expected parameter `n_bins` to be an int \(its default is 15\), got \{1, 2\} \(set\)\."),
        ({"n_bins": True}, r"Expected parameter `n_bins` to be an int .*got True \(bool\)\."),
        ({"n_bins": 15.0}, r"Expected parameter `n_bins` to be an int .*got 15\.0 \(float\)\."),
        ({"n_bins": None}, r"Expected parameter `n_bins` to be an int .*got None \(NoneType\)\."),
        ({"overconfidence": "3"}, r"`overconfidence` to be a float or an int \(its default is 2\.0\), got '3' \(str\)"),
        ({"overconfidence": float("nan")}, r"`overconfidence` to be a float or an int .*got nan \(float\)"),
        ({"overconfidence": False}, r"`overconfidence` to be a float or an int .*got False \(bool\)"),
        ({"n_binz": 3}, r"Unknown parameter 'n_binz' for notebook primer.*Did you mean: n_bins"),
    ],
)
def test_primer_parameters_of_the_wrong_type_are_refused(parameters: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        book.check_parameters(PRIMER, parameters)


@pytest.mark.parametrize(
    ("name", "parameters"),
    [
        ("primer", {"n_bins": 10, "overconfidence": 3, "level": 0.9, "seed": 1}),  # int for float
        ("rq2_robustness", {"n_bins": None, "metric": "KSCE"}),  # its comment names None
        ("rq6_bin_count", {"bin_counts": [5, 15], "datasets": ["cifar10"]}),
        ("rq6_bin_count", {"bin_counts": [], "datasets": [], "spaces": ["sss"]}),
        ("scale", {"speedups": [2, 3.5], "eval_bench": None}),
        ("rq8_predict", {"data_dir": "/data", "early_schedule": 4}),  # None defaults fix no type
    ],
)
def test_parameters_of_the_right_type_are_accepted(name: str, parameters: dict) -> None:
    book.check_parameters(source(name), parameters)


@pytest.mark.parametrize(
    ("name", "parameters", "match"),
    [
        ("rq6_bin_count", {"bin_counts": [5, "a"]}, r"`bin_counts` to be a list of int \(its default is \[5, 10"),
        ("rq6_bin_count", {"bin_counts": [5.0]}, r"`bin_counts` to be a list of int .*got \[5\.0\] \(list\)"),
        ("rq6_bin_count", {"bin_counts": 15}, r"`bin_counts` to be a list of int .*got 15 \(int\)"),
        ("rq6_bin_count", {"spaces": None}, r"`spaces` to be a list \(its default is \[\]\), got None"),
        ("rq2_robustness", {"n_bins": "x"}, r"`n_bins` to be an int or None \(its default is 15\)"),
        ("rq1_transfer", {"metrics": "pre_ECE_15"}, r"`metrics` to be a list of str"),
        ("scale", {"speedups": ["a"]}, r"`speedups` to be a list of float \(its default is \[2\.0, 4\.0\]\)"),
        ("scale", {"store": 3}, r"`store` to be a str \(its default is 'data/demo'\), got 3 \(int\)"),
        ("rq5_accuracy", {"spaces": ("tss",)}, r"`spaces` to be a list \(its default is \[\]\), got \('tss',\) \(tuple\)"),
        ("rq5_accuracy", {"spaces": ["tss", {1}]}, r"`spaces` to be a list .*got \['tss', \{1\}\] \(list\)"),
        ("rq8_predict", {"early_dir": {1}}, r"`early_dir` to be None, a bool, int, float, str, or a list or dict of those"),
    ],
)
def test_other_chapters_refuse_wrong_types(name: str, parameters: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        book.check_parameters(source(name), parameters)


def test_execute_chapter_refuses_a_wrong_type_before_anything_runs(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"Expected parameter `n_bins` to be an int"):
        book.execute_chapter("primer", parameters={"n_bins": "abc"}, output=tmp_path / "p.ipynb")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [("abc", "'abc' (str)"), ("{1, 2}", "{1, 2} (set)"), ("1.5", "1.5 (float)")],
)
def test_cli_prints_one_line_and_exits_2(value: str, shown: str, capsys, monkeypatch) -> None:
    def no_run(*args, **kwargs):
        raise AssertionError("the chapter was executed")

    monkeypatch.setattr(book, "execute_chapter", no_run)
    assert main(["book", "run", "primer", "-p", "n_bins", value]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "calstudy book run: error: Expected parameter `n_bins` to be an int (its default is 15), "
        f"got {shown}.\n"
    )


def test_cli_unknown_parameter_is_a_usage_error_too(capsys, monkeypatch) -> None:
    monkeypatch.setattr(book, "execute_chapter", lambda *a, **k: pytest.fail("executed"))
    assert main(["book", "run", "primer", "-p", "n_binz", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Unknown parameter 'n_binz'" in err


def test_cli_good_parameters_reach_execute_chapter(capsys, monkeypatch, tmp_path) -> None:
    calls = []

    def fake(source, *, parameters, output, progress):
        calls.append((source.name, parameters))
        return tmp_path / "primer.ipynb"

    monkeypatch.setattr(book, "execute_chapter", fake)
    assert main(["book", "run", "primer", "-p", "n_bins", "10", "-p", "overconfidence", "3"]) == 0
    assert calls == [("primer.py", {"n_bins": 10, "overconfidence": 3})]


# --------------------------------------------------------------------------------------------
# load_study: options of the wrong type are refused before the store is read
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metrics": "ECE"}, r"Expected `metrics` to be a list of metric names \(str\), got 'ECE' \(str\)\."),
        ({"metrics": ["ECE", 15]}, r"Expected `metrics` to be a list of metric names \(str\), got 15 \(int\) in it\."),
        ({"bin_counts": ["15"]}, r"Expected `bin_counts` to be a list of positive ints, got '15' \(str\) in it\."),
        ({"bin_counts": [None]}, r"Expected `bin_counts` to be a list of positive ints, got None"),
        ({"bin_counts": [0]}, r"Expected `bin_counts` to be a list of positive ints, got 0 \(int\) in it\."),
        ({"bin_counts": 15}, r"Expected `bin_counts` to be a list of positive ints, got 15 \(int\)\."),
        ({"space": 3}, r"Expected `space` to be a list of str \(or one str\), got 3 \(int\)\."),
        ({"datasets": ["cifar10", None]}, r"Expected `datasets` to be a list of str .*got None"),
        ({"seeds": [0, "1"]}, r"Expected `seeds` to be a list of int seeds .*got '1' \(str\) in it\."),
        ({"seeds": 0}, r"Expected `seeds` to be a list of int seeds .*got 0 \(int\)\."),
        ({"min_rows": 2.5}, r"Expected `min_rows` to be a non-negative int, got 2\.5 \(float\)\."),
        ({"min_rows": True}, r"Expected `min_rows` to be a non-negative int, got True \(bool\)\."),
    ],
)
def test_load_study_refuses_wrong_types_before_reading(kwargs: dict, match: str, tmp_path) -> None:
    with pytest.raises(ValueError, match=match):
        chapter.load_study(tmp_path / "no-store-here", **kwargs)


def test_load_study_refuses_a_store_that_is_not_a_path() -> None:
    with pytest.raises(ValueError, match=r"Expected `store` to be a path, got 3 \(int\)\."):
        chapter.load_study(3)


# --------------------------------------------------------------------------------------------
# Reliability diagrams share the metrics' bin-count bound
# --------------------------------------------------------------------------------------------


def test_reliability_data_refuses_a_huge_bin_count() -> None:
    probs, labels = np.array([[0.7, 0.3], [0.4, 0.6]]), np.array([0, 1])
    with pytest.raises(ValueError, match=r"Expected `n_bins` to be at most 10000 .*got 100000000000\."):
        plots.reliability_data(probs, labels, n_bins=10**11)
    with pytest.raises(ValueError, match=r"Expected `n_bins` to be a positive integer, got 0\."):
        plots.reliability_data(probs, labels, n_bins=0)
    assert plots.reliability_data(probs, labels, n_bins=10_000).n_bins == 10_000


# --------------------------------------------------------------------------------------------
# evaluate_network checks heldout_frac against the test set before predicting anything
# --------------------------------------------------------------------------------------------


def _tiny_data(n_test: int):
    from calstudy.data import ImageDataset

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n_test, 32, 32, 3), dtype=np.uint8)
    y = np.arange(n_test) % 2
    return ImageDataset("synthetic", x, y, x, y, ("a", "b"), (0.5,) * 3, (0.25,) * 3)


@pytest.mark.parametrize(
    ("n_test", "heldout_frac", "match"),
    [
        (10, 1.0, r"Expected `heldout_frac` to be in \(0, 1\), got 1\.0\."),
        (10, "0.2", r"Expected `heldout_frac` to be in \(0, 1\), got '0\.2' \(str\)\."),
        (10, 0.1, r"Expected `heldout_frac` to hold out at least 2 of the 10 samples to fit on"),
        (10, 0.9, r"Expected `heldout_frac` to leave at least 2 of the 10 samples to evaluate on"),
        (3, 0.5, r"Expected `data` to hold at least 4 test images \(2 to fit the temperature on, "
                 r"2 to evaluate on\), got 3\."),
    ],
)
def test_evaluate_network_checks_heldout_frac_before_predicting(
    n_test: int, heldout_frac, match: str, monkeypatch
) -> None:
    import torch

    from calstudy import evaluate

    def no_work(*args, **kwargs):
        raise AssertionError("evaluate_network predicted before checking heldout_frac")

    monkeypatch.setattr(evaluate, "predict_logits", no_work)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 2))
    with pytest.raises(ValueError, match=match):
        evaluate.evaluate_network(net, _tiny_data(n_test), heldout_frac=heldout_frac)
