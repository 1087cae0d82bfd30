"""RQ i's package functions: pairing datasets by key, transfer tables, verdicts, selections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import analysis, htmlcheck


def frame(n: int = 40, seed: int = 0, *, spaces=("tss",), datasets=("a", "b", "c")) -> pd.DataFrame:
    """``n`` architectures per space on each dataset; ``m`` on b follows ``m`` on a exactly."""
    rng = np.random.default_rng(seed)
    rows = []
    for space in spaces:
        base = rng.normal(size=n)
        acc = rng.uniform(0.5, 0.9, size=n)
        for i, d in enumerate(datasets):
            noise = rng.normal(size=n)
            m = base if d in ("a", "b") else noise
            rows.append(pd.DataFrame({
                "space": space, "arch": [f"{space}{j}" for j in range(n)], "seed": 0,
                "fidelity": "f", "dataset": d, "m": m, "noise": noise, "acc": acc + 0.01 * i,
            }))
    return pd.concat(rows, ignore_index=True)


def test_pair_datasets_joins_by_key_not_by_position() -> None:
    df = frame(10)
    shuffled = pd.concat([df[df["dataset"] == "a"], df[df["dataset"] == "b"].iloc[::-1]])
    pairs = analysis.pair_datasets(shuffled, ["m", "acc"])
    assert list(pairs) == [("tss", "a", "b")]
    p = pairs["tss", "a", "b"]
    assert len(p) == 10 and (p["m_a"] == p["m_b"]).all()
    assert {"m_a", "m_b", "acc_a", "acc_b"} <= set(p.columns)


def test_pair_datasets_every_pair_per_space_in_the_given_order() -> None:
    df = frame(5, spaces=("sss", "tss"))
    pairs = analysis.pair_datasets(df, ["m"], datasets=["c", "a", "b"])
    assert list(pairs) == [(s, x, y) for s in ("sss", "tss") for x, y in
                           (("c", "a"), ("c", "b"), ("a", "b"))]
    assert all(len(p) == 5 for p in pairs.values())


def test_pair_datasets_refuses_duplicate_keys() -> None:
    df = frame(5)
    with pytest.raises(ValueError, match="one row per key"):
        analysis.pair_datasets(pd.concat([df, df.iloc[:1]]), ["m"])


def test_pair_datasets_missing_column() -> None:
    with pytest.raises(ValueError, match=r"Expected `df` to have columns \['zzz'\]"):
        analysis.pair_datasets(frame(5), ["zzz"])


def test_transfer_table_all_and_top_n() -> None:
    pairs = analysis.pair_datasets(frame(40), ["m", "noise", "acc"])
    table = analysis.transfer_table(pairs, ["m", "noise"], top_ns=[10, 40, 100], n_boot=50)
    ab = table[(table["dataset_a"] == "a") & (table["dataset_b"] == "b")]
    # top 40 and top 100 are not smaller than the 40 pairs: only "all" and "top 10"
    assert set(ab["models"]) == {"all", "top 10"}
    assert np.allclose(ab.loc[ab["metric"] == "m", "tau"], 1.0)
    assert (table["n"] <= 40).all() and set(table.loc[table["models"] == "top 10", "n"]) == {10}
    assert (table["p_holm"] >= table["p"] - 1e-12).all() and (table["p_holm"] <= 1).all()
    assert list(table.columns) == ["space", "dataset_a", "dataset_b", "metric", "models", "top",
                                   "tau", "low", "high", "p", "n", "p_holm"]


def test_transfer_table_top_n_is_the_most_accurate_on_a() -> None:
    pairs = analysis.pair_datasets(frame(30), ["m", "acc"], datasets=["a", "b"])
    p = pairs["tss", "a", "b"]
    table = analysis.transfer_table(pairs, ["acc"], top_ns=[8], n_boot=20)
    best = p.nlargest(8, "acc_a")
    expected = analysis.kendall_tau(best["acc_a"], best["acc_b"])
    assert table.loc[table["models"] == "top 8", "tau"].item() == pytest.approx(expected)


def test_transfer_table_skips_metrics_without_values_and_is_empty_without_pairs() -> None:
    df = frame(10)
    df.loc[df["dataset"] == "b", "noise"] = np.nan
    pairs = analysis.pair_datasets(df, ["m", "noise"], datasets=["a", "b"])
    table = analysis.transfer_table(pairs, ["m", "noise"], n_boot=10)
    assert set(table["metric"]) == {"m"}
    empty = analysis.transfer_table({}, ["m"], n_boot=10)
    assert empty.empty and "p_holm" in empty.columns


def test_transfer_table_refuses_a_bad_top_n() -> None:
    pairs = analysis.pair_datasets(frame(10), ["m"], datasets=["a", "b"])
    with pytest.raises(ValueError, match="Expected `top_ns` to be a positive integer"):
        analysis.transfer_table(pairs, ["m"], top_ns=[0])


def test_transfer_versus_reference_and_verdicts() -> None:
    pairs = analysis.pair_datasets(frame(60, seed=1), ["m", "noise", "acc"], datasets=["a", "c"])
    # on (a, c): m is pure noise on c, acc transfers perfectly (acc_c = acc_a + 0.02)
    table = analysis.transfer_table(pairs, ["m", "acc"], n_boot=200)
    versus = analysis.transfer_versus_reference(pairs, ["m", "acc"], n_boot=500)
    assert list(versus["metric"]) == ["m"]  # the reference is not compared with itself
    assert versus["difference"].item() < -0.5 and versus["high"].item() < 0
    verdicts = analysis.transfer_verdicts(table, versus).set_index("metric")
    assert verdicts.loc["acc", "transfer"] == "transfers"
    assert verdicts.loc["m", "transfer"] == "no detectable transfer"
    assert verdicts.loc["m", "versus"] == "worse" and verdicts.loc["acc", "versus"] == "—"


def test_transfer_verdicts_reverses() -> None:
    df = frame(40)
    df.loc[df["dataset"] == "b", "m"] *= -1
    pairs = analysis.pair_datasets(df, ["m"], datasets=["a", "b"])
    table = analysis.transfer_table(pairs, ["m"], n_boot=20)
    versus = analysis.transfer_versus_reference(pairs, ["m"], reference="m", n_boot=20)
    assert versus.empty
    verdicts = analysis.transfer_verdicts(table, versus, reference="m")
    assert verdicts["transfer"].item() == "reverses" and verdicts["versus"].item() == "—"
    with pytest.raises(ValueError, match="Expected `alpha` to be in"):
        analysis.transfer_verdicts(table, versus, alpha=1.5)


def test_lowest_n_is_the_papers_selection_and_the_opposite_of_top_n() -> None:
    d = pd.DataFrame({"arch": list("abcdef"), "acc": [0.5, 0.9, np.nan, 0.7, 0.9, 0.1]})
    assert analysis.lowest_n(d, 3)["arch"].tolist() == ["f", "a", "d"]
    paper = d.sort_values("acc").head(3)  # the released code
    assert set(analysis.lowest_n(d, 3)["arch"]) == set(paper["arch"])
    assert not set(analysis.lowest_n(d, 2).index) & set(analysis.top_n(d, 2).index)
    with pytest.raises(ValueError, match="at most the number of rows"):
        analysis.lowest_n(d, 6)


@pytest.mark.parametrize(
    ("m", "sizes", "expected"),
    [(2, None, []), (3, None, [3]), (100, [10, 50, 200], [10, 50, 100]), (40, [2, 5], [5, 40])],
)
def test_population_sizes(m: int, sizes, expected: list[int]) -> None:
    assert analysis.population_sizes(m, sizes) == expected


def test_population_sizes_log_spaced() -> None:
    sizes = analysis.population_sizes(15_625)
    assert sizes[0] == 10 and sizes[-1] == 15_625 and len(sizes) == 8
    assert np.all(np.diff(np.log(sizes)) > 0)


def test_selection_curve_three_selections() -> None:
    rng = np.random.default_rng(0)
    acc = rng.uniform(size=60)
    # x and y agree among the most accurate half, disagree among the least accurate half
    x = rng.normal(size=60)
    y = np.where(acc > 0.5, x, -x)
    d = pd.DataFrame({"arch": [str(i) for i in range(60)], "acc": acc, "x": x, "y": y})
    curve = analysis.selection_curve(d, "x", "y", sizes=[10, 60], n_boot=50, n_random=20)
    assert list(curve.columns) == ["selection", "size", "tau_mean", "low", "high"]
    by = curve.set_index(["selection", "size"])["tau_mean"]
    assert by["top", 10] == pytest.approx(1.0) and by["lowest", 10] == pytest.approx(-1.0)
    assert by["top", 60] == pytest.approx(by["lowest", 60]) == pytest.approx(by["random", 60])


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, "above"), (0.1, "inside"), (0.0, "inside"), (-0.3, "below"), (np.nan, "—"),
     (None, "—"), ("≈ 0", "—")],
)
def test_position_of(value, expected: str) -> None:
    assert analysis.position_of(value, 0.0, 0.2) == expected


# The chapter's figures: panels in rows of two, so that a figure keeps its labels legible.


def test_panel_grid_rows_of_two_hide_the_spare_axes() -> None:
    from calstudy import plots

    fig, axes = plots.panel_grid(3, width=4.0, height=3.0)
    assert len(axes) == 3 and len(fig.axes) == 4
    assert [ax.get_visible() for ax in fig.axes] == [True, True, True, False]
    assert tuple(fig.get_size_inches()) == (8.0, 6.0)
    one, [ax] = plots.panel_grid(1)
    assert len(one.axes) == 1 and ax.get_visible()
    column, stacked = plots.panel_grid(2, ncols=1, width=7.0, height=6.0)
    assert tuple(column.get_size_inches()) == (7.0, 12.0) and len(stacked) == 2
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="Expected `n` to be a positive integer"):
            plots.panel_grid(bad)
    with pytest.raises(ValueError, match="Expected `ncols` to be a positive integer"):
        plots.panel_grid(2, ncols=0)
    tall, (big, small) = plots.panel_grid(2, ncols=1, width=7.0, heights=[9.0, 3.0])
    assert tuple(tall.get_size_inches()) == (7.0, 12.0)
    assert big.get_position().height > 2.5 * small.get_position().height
    with pytest.raises(ValueError, match="Expected `heights` to be 2 positive heights"):
        plots.panel_grid(2, ncols=1, heights=[1.0])


def test_transfer_sentence_names_metrics_as_the_book_does() -> None:
    df = frame(60, seed=1).rename(columns={"m": "pre_ECE_15", "noise": "post_NLL"})
    columns = ["pre_ECE_15", "post_NLL", "acc"]
    pairs = analysis.pair_datasets(df, columns, datasets=["a", "b"])
    # on (a, b): pre_ECE_15 and acc transfer perfectly, post_NLL is fresh noise on each dataset
    table = analysis.transfer_table(pairs, columns, n_boot=200)
    versus = analysis.transfer_versus_reference(pairs, columns, n_boot=200)
    verdicts = analysis.transfer_verdicts(table, versus)
    text = analysis.transfer_sentence(verdicts)
    assert text.startswith("**TSS, a ↔ b** (60 networks on both). Accuracy transfers (τ = +")
    assert "Transfers: 15-bin ECE before scaling. No detectable transfer: NLL after scaling." in text
    assert "Largest |τ| of a calibration metric: 15-bin ECE before scaling, τ = +1.00" in text
    assert "τ below accuracy's: NLL after scaling." in text
    brief = analysis.transfer_sentence(verdicts, brief=True)
    assert brief.startswith("TSS, a ↔ b: 1 of 2 calibration metrics transfer after Holm (15-bin "
                            "ECE before scaling); accuracy transfers")
    assert not htmlcheck.raw_column_names(text + brief)
    assert analysis.transfer_sentence(verdicts.iloc[:0]) == ""
