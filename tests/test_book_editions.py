"""Book editions (``calstudy book build --store S --out DIR``): staging and its guards. The
paper edition itself is built from a generated sample by .ci/run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from calstudy import book


def test_stage_edition_copies_the_sources_and_sets_the_title(tmp_path: Path) -> None:
    root = book._stage_edition(tmp_path / "paper", title="calstudy: the paper edition")
    assert root == tmp_path / "paper" / "source"
    for name in book._EDITION_SOURCES:
        assert (root / name).exists(), name
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    assert config["title"] == "calstudy: the paper edition"
    assert config["execute"]["execute_notebooks"] == "off"
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    assert toc == (book.REPO_ROOT / "_toc.yml").read_text(encoding="utf-8")
    # Restaging starts afresh: a stale executed chapter does not survive.
    stale = root / "book" / "executed" / "old.ipynb"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    book._stage_edition(tmp_path / "paper", title=None)
    assert not stale.exists()


def test_edition_guards(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Expected `only` to be empty when `out` is given"):
        book.build(out=tmp_path / "e", only=["primer"])
    with pytest.raises(ValueError, match="Expected `out` to be a folder of its own"):
        book.build(out=book.REPO_ROOT, html=False)
    with pytest.raises(FileNotFoundError, match="Expected `store` to be a store directory"):
        book.build(store=str(tmp_path / "nowhere"), out=tmp_path / "e", html=False)
    assert not (tmp_path / "e").exists()  # refused before anything was written


def test_edition_executes_into_its_own_folder(tmp_path: Path) -> None:
    # Stage, execute one store-free chapter into the edition, and leave book/executed alone.
    demo_executed = book.EXECUTED_DIR / "primer.ipynb"
    before = demo_executed.stat().st_mtime_ns if demo_executed.exists() else None
    root = book._stage_edition(tmp_path / "e", title=None)
    out = book.execute_chapter(
        "primer", parameters={"n_samples": 2000, "n_sim": 20},
        output=root / "book" / "executed" / "primer.ipynb",
    )  # fmt: skip
    assert out.is_file() and out.is_relative_to(tmp_path)
    after = demo_executed.stat().st_mtime_ns if demo_executed.exists() else None
    assert before == after


def test_display_tags_fold_analysis_show_parameters_and_remove_checks() -> None:
    import nbformat

    cells = [
        nbformat.v4.new_code_cell("store = 'x'", metadata={"tags": ["parameters", "hide-cell"]}),
        nbformat.v4.new_code_cell("df = load()\ndf.head()"),
        nbformat.v4.new_code_cell("for r in rows:\n    assert r\nif x:\n    assert y"),
        nbformat.v4.new_code_cell("print('x')", metadata={"tags": ["checks"]}),
        nbformat.v4.new_code_cell("fig", metadata={"tags": ["remove-input"]}),
        nbformat.v4.new_markdown_cell("# Title"),
    ]
    assert [book._display_tags(c) for c in cells] == [
        ["parameters"],
        ["hide-input"],
        ["remove-cell"],
        ["checks", "remove-cell"],
        ["remove-input"],
        [],
    ]
