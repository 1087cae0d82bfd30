"""Write the committed, output-free ``.ipynb`` copies of the chapters, for Colab.

Colab opens a notebook only as an ``.ipynb`` file on GitHub, while the chapters are jupytext
sources (``notebooks/<chapter>.py``) and their executed notebooks are not committed. This
script converts every source to ``notebooks/ipynb/<chapter>.ipynb`` with jupytext, puts a
Markdown note first that gives a hosted notebook the one line that installs calstudy (the
book's build never runs it), and numbers the cells so that the output is the same on every run.

Usage (``make ipynb`` runs the first)::

    python scripts/export_ipynb.py           # rewrite every copy, delete copies without a source
    python scripts/export_ipynb.py --check   # exit 1, naming them, if any copy is out of date

``tests/test_ipynb_copies.py`` fails when a copy differs from what this script writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
COPY_DIR = NOTEBOOK_DIR / "ipynb"


def repository() -> tuple[str, str]:
    """The repository URL and branch of ``_config.yml`` (the ones the Binder and Colab links use)."""
    import yaml

    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    section = config.get("repository") or {}
    url, branch = section.get("url"), section.get("branch", "main")
    if not url:
        raise ValueError("Expected `repository.url` in _config.yml, got none.")
    return str(url).rstrip("/"), str(branch)


def setup_note(url: str, branch: str) -> str:
    """The first cell of every copy: how to run the chapter where calstudy is not installed."""
    folder = url.rsplit("/", 1)[-1]  # where git clone puts the repository
    return (
        "**Running this chapter on Colab** (or any Jupyter without calstudy)? Run these two lines "
        "in a new code cell first; they fetch the repository (the chapter reads its data from "
        "it) and install calstudy with the book's dependencies:\n"
        "\n"
        "```\n"
        f'!git clone -q --depth 1 -b {branch} {url}.git && pip install -q -e "./{folder}[book]"\n'
        f"%cd {folder}\n"
        "```\n"
        "\n"
        "On Binder and in a checkout with `make book` this is already done. This copy is "
        "generated from `notebooks/<chapter>.py` by `scripts/export_ipynb.py` and holds no "
        "outputs; the book shows the executed chapter."
    )


def render(source: Path, *, url: str, branch: str) -> str:
    """The ``.ipynb`` text of one chapter's copy."""
    import jupytext
    import nbformat

    notebook = jupytext.read(source)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(setup_note(url, branch)))
    for i, cell in enumerate(notebook.cells):
        cell.id = f"cell-{i:02d}"  # jupytext draws random ids; fixed ones keep the copy stable
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.validate(notebook)
    return jupytext.writes(notebook, fmt="ipynb")


def expected() -> dict[Path, str]:
    """Every copy as it should be, by path."""
    url, branch = repository()
    return {COPY_DIR / f"{source.stem}.ipynb": render(source, url=url, branch=branch)
            for source in sorted(NOTEBOOK_DIR.glob("*.py"))}  # fmt: skip


def stale() -> list[str]:
    """Copies that are missing, differ from their source, or have no source."""
    want = expected()
    problems = [f"{p.relative_to(REPO_ROOT)}: missing" if not p.exists() else
                f"{p.relative_to(REPO_ROOT)}: out of date with notebooks/{p.stem}.py"
                for p, text in want.items()
                if not p.exists() or p.read_text(encoding="utf-8") != text]  # fmt: skip
    problems += [f"{p.relative_to(REPO_ROOT)}: no notebooks/{p.stem}.py"
                 for p in sorted(COPY_DIR.glob("*.ipynb")) if p not in want]  # fmt: skip
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only report copies that are out of date (exit 1 if any)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.check:
        problems = stale()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("Regenerate them with: python scripts/export_ipynb.py", file=sys.stderr)
        return 1 if problems else 0
    want = expected()
    COPY_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in want.items():
        path.write_text(text, encoding="utf-8")
    for path in COPY_DIR.glob("*.ipynb"):
        if path not in want:
            path.unlink()
    print(f"wrote {len(want)} notebooks to {COPY_DIR.relative_to(REPO_ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
