"""The answer box and the paper's numbers three ways (calstudy.answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import answers, chapter, datasets
from calstudy.paper import import_paper_dir, write_release_sample
from calstudy.store import Store


@pytest.fixture(scope="module")
def paper_frame(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """A small store in the paper's released format (generated values)."""
    csv = tmp_path_factory.mktemp("paper-csv")
    write_release_sample(csv, n_tss=150, n_sss=40)
    return import_paper_dir(csv)


def test_transfer_numbers_name_the_papers_quantities(paper_frame: pd.DataFrame) -> None:
    rows = answers.transfer_numbers(paper_frame, n_boot=50)
    published = {n.quantity for n in chapter.PAPER if n.rq == "i"}
    assert set(rows["quantity"]) == published  # three pairs, all and top 100
    assert ((rows["low"] <= rows["calstudy"]) & (rows["calstudy"] <= rows["high"])).all()


def test_paper_edition_fills_the_recomputed_and_demo_columns(paper_frame: pd.DataFrame) -> None:
    table = answers.beside_paper("i", paper_frame, store="/nowhere/paper", n_boot=50)
    assert list(table.columns) == [answers.PUBLISHED, answers.RECOMPUTED, answers.DEMO]
    q = "τ(ECE_15 on CIFAR-10, on CIFAR-100), TSS, all models"
    assert table.loc[q, answers.PUBLISHED] == "0.36"
    assert table.loc[q, answers.RECOMPUTED].count("[") == 1  # an estimate with its interval
    assert table.loc[q, answers.DEMO] == "—"  # the demo has no CIFAR-100
    demo_pair = "τ(ECE_15 on CIFAR-10, on Fashion-MNIST), TSS, all models"
    assert table.loc[demo_pair, answers.DEMO].count("[") == 1
    assert table.loc[demo_pair, answers.RECOMPUTED] == "—"


def test_demo_edition_without_paper_store_says_not_built(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(answers.PAPER_STORE_ENV, str(tmp_path / "absent"))
    table = answers.beside_paper("i", datasets.load_demo(), store=datasets.demo_path(), n_boot=50)
    assert list(table.columns) == [answers.PUBLISHED, answers.RECOMPUTED, answers.DEMO]
    assert (table[answers.RECOMPUTED] == "not built").all()
    text = answers.box("Q?", "A.", numbers=table)
    assert "| quantity |" in text and "*Not built*" in text


def test_paper_store_from_environment(monkeypatch, tmp_path, paper_frame) -> None:
    store = tmp_path / "paper"
    Store(store).append_frame(paper_frame)
    monkeypatch.setenv(answers.PAPER_STORE_ENV, str(store))
    assert answers.paper_store() == store
    table = answers.beside_paper("i", datasets.load_demo(), store=datasets.demo_path(), n_boot=50)
    assert (table[answers.RECOMPUTED] != "not built").all()


def test_a_users_store_gets_its_own_column(paper_frame, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(answers.PAPER_STORE_ENV, str(tmp_path / "absent"))
    mine = paper_frame.assign(source="sweep")
    table = answers.beside_paper("i", mine, store=tmp_path, n_boot=50)
    assert answers.THIS_STORE in table.columns


def test_unknown_question_and_bad_function_are_refused() -> None:
    with pytest.raises(ValueError, match="`rq`"):
        answers.numbers_for("ix")
    with pytest.raises(ValueError, match="`rq`"):
        answers.beside_paper("vii-b", datasets.load_demo())


def test_markdown_table_escapes_pipes() -> None:
    table = pd.DataFrame({"v": ["a|b"]}, index=pd.Index(["q"], name="quantity"))
    assert answers.markdown_table(table).splitlines()[-1] == "| q | a\\|b |"


@pytest.mark.parametrize(
    ("rq", "numbers"),
    [("ii", answers.robustness_numbers), ("iii", answers.estimator_numbers),
     ("iv", answers.posthoc_numbers)],
)  # fmt: skip
def test_rq2_to_rq4_numbers_name_the_papers_quantities(rq, numbers, paper_frame) -> None:
    rows = numbers(paper_frame, n_boot=50)
    published = [n.quantity for n in chapter.PAPER if n.rq == rq]
    assert rows["quantity"].is_unique
    # Every quantity the paper reported for CIFAR-10 TSS (RQ iii: the ImageNet ones too).
    assert set(published) <= set(rows["quantity"]), set(published) - set(rows["quantity"])
    assert rows["calstudy"].between(-1, 1).all()
    assert ((rows["low"] <= rows["calstudy"] + 1e-12) & (rows["calstudy"] <= rows["high"] + 1e-12)).all()
    assert answers.registered().count(rq) == 1


def test_rq2_to_rq4_numbers_read_one_seed_per_network() -> None:
    """The demo's seed study repeats networks: τ over them would count a network twice."""
    demo = datasets.load_demo()
    once = answers.posthoc_numbers(demo, n_boot=50)
    twice = answers.posthoc_numbers(pd.concat([demo, demo.assign(seed=demo["seed"] + 100)]),
                                    n_boot=50)  # fmt: skip
    pd.testing.assert_frame_equal(once, twice)


def test_rq2_to_rq4_numbers_of_a_store_without_tss_cifar10_are_empty(paper_frame) -> None:
    other = paper_frame[paper_frame["space"] == "sss"]
    for numbers in (answers.robustness_numbers, answers.estimator_numbers, answers.posthoc_numbers):
        rows = numbers(other, n_boot=50)
        assert rows.empty and list(rows.columns) == list(answers.NUMBERS_COLUMNS)


# RQ v–vii ---------------------------------------------------------------------------------------


def _networks(space: str, dataset: str, n: int, **columns: object) -> pd.DataFrame:
    """``n`` networks of one group, seed 0, with the given columns."""
    frame = pd.DataFrame({"space": space, "dataset": dataset, "arch": [f"a{i}" for i in range(n)],
                          "seed": 0, "fidelity": "f", **columns})  # fmt: skip
    return frame


def test_accuracy_numbers_on_a_known_relation() -> None:
    acc = np.linspace(0.80, 0.95, 40)
    frame = _networks("tss", "cifar10", 40, acc=acc, pre_ECE_15=0.2 - acc / 10)
    repeat = frame.iloc[:1].assign(seed=1, pre_ECE_15=0.9)  # a seed study's rerun is ignored
    rows = answers.accuracy_numbers(pd.concat([frame, repeat]), n_boot=50).set_index("quantity")
    q_range, q_relation = (n.quantity for n in chapter.PAPER if n.rq == "v")
    assert rows.loc[q_relation, "calstudy"] == pytest.approx(-1.0)  # ECE falls exactly
    above = 100 * (0.2 - acc[acc >= 0.9] / 10)
    assert rows.loc[q_range, ["calstudy", "low", "high"]].tolist() == pytest.approx(
        [np.median(above), above.min(), above.max()])  # percent: median and range


def test_bin_numbers_in_percent_at_the_papers_bin_counts() -> None:
    n = 30
    scale = np.linspace(1, 2, n)
    columns = {f"{w}_ECE_{b}": scale * b / 1000 for w in ("pre", "post") for b in (5, 15, 50, 100, 200, 500)}
    frame = pd.concat([_networks("tss", d, n, **columns) for d in ("imagenet16-120", "cifar10")])
    rows = answers.bin_numbers(frame, n_boot=50).set_index("quantity")
    assert rows.loc["median post-scaling ECE at 500 bins (TSS ImageNet16-120)", "calstudy"] == (
        pytest.approx(100 * np.median(scale) * 0.5))
    # post at six counts, pre at two, τ(5, 500) pre and post; the paper's two list rows
    assert len(rows) == 6 + 2 + 2 + 2
    quoted = rows.filter(like="at 5 / 15 / 50", axis=0)["text"].iloc[0]
    assert quoted.count(" / ") == 5 and quoted.endswith(" %")
    assert rows.filter(like="τ(ECE at 5", axis=0)["calstudy"].tolist() == pytest.approx([1.0, 1.0])


def test_design_numbers_on_the_papers_format(paper_frame: pd.DataFrame) -> None:
    rows = answers.design_numbers(paper_frame, n_boot=50)
    quantities = [n.quantity for n in chapter.PAPER if n.rq == "vii"]
    assert len(rows) and all(any(q.startswith(p) for p in quantities) for q in rows["quantity"])
    top = rows.set_index("quantity").loc[quantities[-1]]
    assert 0 <= top["low"] <= top["calstudy"] <= top["high"] <= 100  # a share in percent


def test_numbers_of_a_store_without_the_papers_groups_are_empty() -> None:
    frame = _networks("sss", "fashion-mnist", 12, acc=np.linspace(0.5, 0.9, 12), pre_ECE_15=0.05)
    frame["arch"] = [f"8:8:8:{8 * (i // 8 + 1)}:{8 * (i % 8 + 1)}" for i in range(12)]
    for numbers in (answers.accuracy_numbers, answers.bin_numbers, answers.design_numbers):
        out = numbers(frame, n_boot=20)
        assert out.empty and list(out.columns)[:4] == list(answers.NUMBERS_COLUMNS)


def test_demo_box_of_rq_v_to_vii_has_the_demo_column(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(answers.PAPER_STORE_ENV, str(tmp_path / "absent"))
    for rq in ("v", "vi", "vii"):
        table = answers.beside_paper(rq, datasets.load_demo(), store=datasets.demo_path(), n_boot=50)
        assert (table[answers.DEMO] != "—").any(), rq  # each computes something on the demo


def test_a_row_in_its_own_words(monkeypatch, paper_frame) -> None:
    def ranged(frame, **options):
        return pd.DataFrame({"quantity": ["ECE range of models above 90 % accuracy"],
                             "calstudy": [4.1], "low": [3.2], "high": [6.0],
                             "text": ["median 4.1 %, range 3.2 – 6.0 %"]})  # fmt: skip

    monkeypatch.setitem(answers._NUMBERS, "v", ranged)
    table = answers.beside_paper("v", paper_frame, store="/nowhere")
    q = "ECE range of models above 90 % accuracy"
    assert table.loc[q, answers.RECOMPUTED] == "median 4.1 %, range 3.2 – 6.0 %"
    assert table.loc[q, answers.PUBLISHED] == "3.8 – 6.8 %"


def test_the_range_of_rq_v_reads_as_a_range_not_an_interval(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv(answers.PAPER_STORE_ENV, str(tmp_path / "absent"))
    acc = np.linspace(0.80, 0.95, 40)
    frame = _networks("tss", "cifar10", 40, acc=acc, pre_ECE_15=0.2 - acc / 10)
    table = answers.beside_paper("v", frame, store=tmp_path, n_boot=50)
    q_range = next(n.quantity for n in chapter.PAPER if n.rq == "v")
    above = 100 * (0.2 - acc[acc >= 0.9] / 10)
    words = table.loc[q_range, answers.THIS_STORE]
    assert words.startswith(f"{above.min():.1f} – {above.max():.1f} % (median")
    assert "[" not in words
