"""The chapters' committed ``.ipynb`` copies (for Colab) and the "Run this chapter" links.

A copy that differs from what ``scripts/export_ipynb.py`` writes from its source fails here, so
a chapter edited without ``make ipynb`` cannot land unnoticed.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


export = _load("export_ipynb", REPO_ROOT / "scripts" / "export_ipynb.py")
sphinx_ext = _load("calstudy_sphinx", REPO_ROOT / "book" / "_ext" / "calstudy_sphinx.py")


def test_every_copy_is_current() -> None:
    problems = export.stale()
    assert problems == [], (
        "notebooks/ipynb/ is out of date with notebooks/*.py; regenerate it with "
        f"`make ipynb` (python scripts/export_ipynb.py): {problems}"
    )


def test_a_copy_is_the_source_with_a_setup_note_and_no_outputs(tmp_path: Path) -> None:
    source = tmp_path / "chapter.py"
    source.write_text(
        '# %% [markdown]\n# # A chapter\n\n# %% tags=["parameters"]\nn = 1\n\n# %%\nprint(n)\n',
        encoding="utf-8",
    )
    text = export.render(source, url="https://github.com/o/r", branch="dev")
    assert text == export.render(source, url="https://github.com/o/r", branch="dev")  # stable
    notebook = json.loads(text)
    cells = notebook["cells"]
    assert [c["cell_type"] for c in cells] == ["markdown", "markdown", "code", "code"]
    note = "".join(cells[0]["source"])
    assert (
        '!git clone -q --depth 1 -b dev https://github.com/o/r.git && pip install -q -e "./r[book]"'
        in note
    )
    assert "%cd r" in note
    assert "".join(cells[1]["source"]) == "# A chapter"
    assert cells[2]["metadata"]["tags"] == ["parameters"] and "".join(cells[2]["source"]) == "n = 1"
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells[2:])
    assert [c["id"] for c in cells] == ["cell-00", "cell-01", "cell-02", "cell-03"]
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


def test_stale_names_a_changed_a_missing_and_an_orphan_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebooks, copies = tmp_path / "notebooks", tmp_path / "notebooks" / "ipynb"
    copies.mkdir(parents=True)
    for name in ("a", "b"):
        (notebooks / f"{name}.py").write_text(f"# %%\nx = '{name}'\n", encoding="utf-8")
    monkeypatch.setattr(export, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(export, "NOTEBOOK_DIR", notebooks)
    monkeypatch.setattr(export, "COPY_DIR", copies)
    monkeypatch.setattr(export, "repository", lambda: ("https://github.com/o/r", "main"))
    assert export.main([]) == 0 and export.stale() == []
    (notebooks / "a.py").write_text("# %%\nx = 'changed'\n", encoding="utf-8")
    (copies / "b.ipynb").unlink()
    (copies / "gone.ipynb").write_text("{}", encoding="utf-8")
    assert export.stale() == [
        "notebooks/ipynb/a.ipynb: out of date with notebooks/a.py",
        "notebooks/ipynb/b.ipynb: missing",
        "notebooks/ipynb/gone.ipynb: no notebooks/gone.py",
    ]
    assert export.main(["--check"]) == 1
    assert export.main([]) == 0 and export.stale() == [] and not (copies / "gone.ipynb").exists()


def test_chapter_pages_link_binder_and_colab_from_the_book_config() -> None:
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx = config["sphinx"]["config"]
    repo, branch = config["repository"]["url"], config["repository"]["branch"]
    assert export.repository() == (repo.rstrip("/"), branch)  # one repository for all links
    line = sphinx_ext.run_this_chapter("rq1_transfer", repo=repo, branch=branch,
                                       binder=sphinx["calstudy_binder"],
                                       colab=sphinx["calstudy_colab"])  # fmt: skip
    slug = repo.removeprefix("https://github.com/")
    assert (f'<a href="https://colab.research.google.com/github/{slug}/blob/{branch}/notebooks/'
            'ipynb/rq1_transfer.ipynb">on Colab</a>') in line  # fmt: skip
    assert (f'<a href="https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/notebooks/'
            'rq1_transfer.py">on Binder</a>') in line  # fmt: skip
    assert (REPO_ROOT / "notebooks" / "ipynb" / "rq1_transfer.ipynb").is_file()
    bare = sphinx_ext.run_this_chapter("primer", repo=repo)
    assert "Binder" not in bare and "Colab" not in bare and "calstudy book run primer" in bare
