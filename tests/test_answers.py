"""The answer box and the paper's numbers three ways (calstudy.answers)."""

from __future__ import annotations

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
